"""Topic 16 - Shortcut connections."""

from .shortcuts import DeepNet, compare_shortcuts, gradient_report

__all__ = ["DeepNet", "compare_shortcuts", "gradient_report"]

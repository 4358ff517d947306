"""Topic 16, written differently: widths compared on the Linear layers, hand-written loss, grads set to None."""

from .shortcuts import DeepNet, compare_shortcuts, gradient_report

__all__ = ["DeepNet", "compare_shortcuts", "gradient_report"]

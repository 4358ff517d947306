"""Topic 17 - Transformer block."""

from .block import TransformerBlock

__all__ = ["TransformerBlock"]

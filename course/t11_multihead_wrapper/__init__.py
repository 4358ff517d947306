"""Topic 11 - Multi-head attention I."""

from .multihead_wrapper import MultiHeadAttentionWrapper

__all__ = ["MultiHeadAttentionWrapper"]

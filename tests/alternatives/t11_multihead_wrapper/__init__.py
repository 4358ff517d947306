"""Topic 11, written differently: heads appended one by one, output filled slice by slice."""

from .multihead_wrapper import MultiHeadAttentionWrapper

__all__ = ["MultiHeadAttentionWrapper"]

"""Topic 12, written differently: reshape/permute, einsum, other creation order."""

from .multihead_attention import (MultiHeadAttention, fused_to_wrapper, merge_heads, split_heads,
                                  wrapper_to_fused)

__all__ = ["MultiHeadAttention", "fused_to_wrapper", "merge_heads", "split_heads", "wrapper_to_fused"]

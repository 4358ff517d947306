"""Topic 09 - Self-attention with Q, K, V."""

from .self_attention import (
    SelfAttentionV1,
    SelfAttentionV2,
    scaled_dot_product,
    transfer_v2_to_v1,
)

__all__ = ["SelfAttentionV1", "SelfAttentionV2", "scaled_dot_product", "transfer_v2_to_v1"]

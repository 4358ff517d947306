"""Alternative topic 09: einsum, loops over batch, parameters created in another order."""

from .self_attention import (
    SelfAttentionV1,
    SelfAttentionV2,
    scaled_dot_product,
    transfer_v2_to_v1,
)

__all__ = ["SelfAttentionV1", "SelfAttentionV2", "scaled_dot_product", "transfer_v2_to_v1"]

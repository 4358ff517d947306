"""Topic 10, written differently: einsum, its own softmax path, a persistent mask buffer."""

from .causal_attention import CausalAttention, causal_mask

__all__ = ["CausalAttention", "causal_mask"]

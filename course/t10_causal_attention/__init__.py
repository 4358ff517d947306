"""Topic 10 - Causal self-attention."""

from .causal_attention import CausalAttention, causal_mask

__all__ = ["CausalAttention", "causal_mask"]

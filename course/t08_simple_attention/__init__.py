"""Topic 08 - Simplified self-attention."""

from .simple_attention import (
    attention_scores,
    context_vector,
    self_attention_loop,
    self_attention_matrix,
    softmax,
)

__all__ = [
    "attention_scores", "context_vector", "self_attention_loop", "self_attention_matrix",
    "softmax",
]

"""Alternative topic 08: einsum and explicit element loops instead of matrix products."""

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

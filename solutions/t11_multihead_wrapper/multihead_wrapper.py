"""Topic 11 - multi-head attention, the simple way: several heads side by side.

One causal attention head (topic 10) computes a single weighting of the
sequence per query: one notion of "what is relevant here". Language needs
several at once - the subject of a verb, the previous occurrence of a name,
the opening bracket to close. *Multi-head* attention runs ``num_heads``
independent heads on the same input, each with its own query, key and value
projections, and concatenates their context vectors along the feature axis.

This topic builds that literally: a list of topic-10 ``CausalAttention``
modules, run one after the other. It is easy to read and obviously correct,
but it launches ``3 * num_heads`` small matrix products instead of three big
ones; topic 12 fuses the heads into one set of large projections.
"""

from __future__ import annotations

import torch
from torch import nn

# resolves to your own topic 10 (or to the reference when grading falls back; see llmkit/resolver.py)
from course.t10_causal_attention import CausalAttention


class MultiHeadAttentionWrapper(nn.Module):
    """``num_heads`` causal attention heads run side by side, outputs concatenated.

    Submodules (names are part of the contract):
        heads: ``nn.ModuleList`` of ``num_heads`` topic-10
            ``CausalAttention(d_in, head_dim, context_length, dropout, qkv_bias)``,
            so the parameters are ``heads.0.W_query.weight`` ``(head_dim, d_in)``,
            ``heads.0.W_key.weight``, ..., ``heads.{num_heads-1}.W_value.weight``
            (plus ``.bias`` ``(head_dim,)`` of each when ``qkv_bias``).

    ``head_dim`` is the size of *one* head (topic 10's ``d_out``): ``forward``
    returns ``(batch, seq, num_heads * head_dim)``.
    """

    def __init__(self, d_in: int, head_dim: int, context_length: int, dropout: float,
                 num_heads: int, qkv_bias: bool = False):
        """Create ``heads``: ``num_heads`` independent ``CausalAttention(d_in, head_dim, ...)`` modules.

        ``num_heads`` below 1 -> ``ValueError``.
        """
        super().__init__()
        self.d_in = d_in
        self.head_dim = head_dim
        self.num_heads = num_heads
        ### BEGIN SOLUTION
        if num_heads < 1:
            raise ValueError(f"MultiHeadAttentionWrapper: num_heads must be at least 1, got {num_heads}")
        # nn.ModuleList (not a Python list) registers every head as a submodule,
        # so its parameters are seen by .parameters(), .to() and the state_dict.
        self.heads = nn.ModuleList(
            CausalAttention(d_in, head_dim, context_length, dropout=dropout, qkv_bias=qkv_bias)
            for _ in range(num_heads)
        )
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, seq, d_in)`` -> ``(batch, seq, num_heads * head_dim)``.

        Head ``h``'s context vectors fill features ``h * head_dim`` to
        ``(h + 1) * head_dim - 1`` of the output: heads concatenated in order
        along the last axis.
        """
        ### BEGIN SOLUTION
        # Each head sees the full input and returns (batch, seq, head_dim).
        return torch.cat([head(x) for head in self.heads], dim=-1)
        ### END SOLUTION

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Every head's weights before dropout, stacked: ``(batch, num_heads, seq, seq)``."""
        return torch.stack([head.attention_weights(x) for head in self.heads], dim=1)

    def extra_repr(self) -> str:
        return f"num_heads={self.num_heads}, d_in={self.d_in}, head_dim={self.head_dim}"

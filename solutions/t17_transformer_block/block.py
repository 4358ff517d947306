"""Topic 17 - the transformer block.

A GPT-2 block is two residual branches, each normalized *before* it runs
("pre-LN", as in GPT-2; the original Transformer normalized after the sum)::

    x = x + drop(attn(norm1(x)))      # tokens exchange information (causal, topic 12)
    x = x + drop(ff(norm2(x)))        # each token is transformed on its own (topic 15)

The shortcuts (topic 16) keep the gradient alive through dozens of blocks; the
LayerNorms (topic 14) keep each branch's input at a fixed scale; dropout acts on
each branch's *output*, before it is added, never on the running sum ``x``. The
block maps ``(batch, seq, d_model)`` to the same shape, so blocks stack.
"""

from __future__ import annotations

import torch
from torch import nn

from course.t12_multihead_attention import MultiHeadAttention  # your topic 12 (or the reference in fallback grading)
from course.t14_layer_norm import LayerNorm  # your topic 14
from course.t15_gelu_feedforward import FeedForward  # your topic 15


class TransformerBlock(nn.Module):
    """One pre-LN GPT-2 block: ``(batch, seq, d_model)`` -> ``(batch, seq, d_model)``.

    Submodules (names are part of the contract; topic 26 loads GPT-2's ``h.{i}.*`` into them):
        norm1: topic 14's ``LayerNorm(d_model)``;
        attn:  topic 12's ``MultiHeadAttention(d_model, d_model, context_length, dropout,
               num_heads, qkv_bias=qkv_bias)`` (causal, dropout on its attention weights);
        norm2: ``LayerNorm(d_model)``;
        ff:    topic 15's ``FeedForward(d_model)`` (hidden ``4 * d_model``, tanh GELU);
        drop:  ``nn.Dropout(dropout)``, applied to the output of each branch.
    """

    def __init__(self, d_model: int, num_heads: int, context_length: int, dropout: float = 0.0,
                 qkv_bias: bool = False):
        """Create ``norm1``, ``attn``, ``norm2``, ``ff`` and ``drop``."""
        super().__init__()
        ### BEGIN SOLUTION
        self.norm1 = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, d_model, context_length, dropout, num_heads, qkv_bias=qkv_bias)
        self.norm2 = LayerNorm(d_model)
        self.ff = FeedForward(d_model)
        self.drop = nn.Dropout(dropout)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x + drop(attn(norm1(x)))``, then ``x + drop(ff(norm2(x)))``.

        Causal like its attention: the output at position ``t`` depends on inputs
        ``0 .. t`` only. ``seq > context_length`` -> the attention's ``ValueError``.
        """
        ### BEGIN SOLUTION
        x = x + self.drop(self.attn(self.norm1(x)))   # attention branch (pre-LN) + shortcut
        x = x + self.drop(self.ff(self.norm2(x)))     # feed-forward branch (pre-LN) + shortcut
        return x
        ### END SOLUTION

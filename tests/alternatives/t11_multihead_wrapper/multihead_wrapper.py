"""Alternative topic 11: same contract, different internals."""

from __future__ import annotations

import torch
from torch import nn

from course.t10_causal_attention import CausalAttention


class MultiHeadAttentionWrapper(nn.Module):
    def __init__(self, d_in, head_dim, context_length, dropout, num_heads, qkv_bias=False):
        super().__init__()
        if num_heads <= 0:
            raise ValueError(f"need num_heads >= 1, got {num_heads}")
        self.heads = nn.ModuleList()
        for _ in range(num_heads):
            self.heads.append(CausalAttention(d_in, head_dim, context_length, dropout, qkv_bias))
        self.width = head_dim

    def forward(self, x):
        batch, seq, _ = x.shape
        out = x.new_empty(batch, seq, len(self.heads) * self.width)
        for index, head in enumerate(self.heads):
            out[..., index * self.width:(index + 1) * self.width] = head(x)
        return out

    def attention_weights(self, x):
        return torch.stack([head.attention_weights(x) for head in self.heads], dim=1)

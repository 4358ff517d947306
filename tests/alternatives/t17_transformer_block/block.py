"""A correct transformer block written from the README alone, differently from the reference."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course.t12_multihead_attention import MultiHeadAttention
from course.t14_layer_norm import LayerNorm
from course.t15_gelu_feedforward import FeedForward


class TransformerBlock(nn.Module):
    def __init__(self, d_model: int, num_heads: int, context_length: int, dropout: float = 0.0,
                 qkv_bias: bool = False):
        super().__init__()
        # feed-forward side first, attention side second: only the names matter
        self.ff = FeedForward(d_model)
        self.norm2 = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_in=d_model, d_out=d_model, context_length=context_length,
                                       dropout=dropout, num_heads=num_heads, qkv_bias=qkv_bias)
        self.norm1 = LayerNorm(d_model)
        self.p = float(dropout)  # no nn.Dropout module: F.dropout below, one fresh mask per call

    def _residual(self, stream: torch.Tensor, norm: nn.Module, branch: nn.Module) -> torch.Tensor:
        update = F.dropout(branch(norm(stream)), p=self.p, training=self.training)
        return stream + update

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        after_attention = self._residual(x, self.norm1, self.attn)
        return self._residual(after_attention, self.norm2, self.ff)

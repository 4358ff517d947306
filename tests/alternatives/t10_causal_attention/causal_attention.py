"""Alternative topic 10: same contract, different internals.

* the mask is built by comparing position indices, and kept as a persistent buffer;
* submodules are created in another order (value, dropout, key, query);
* scores and the weighted sum use ``torch.einsum``; softmax is ``torch.softmax``.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def causal_mask(seq_len: int) -> torch.Tensor:
    if seq_len <= 0:
        raise ValueError(f"seq_len={seq_len} must be positive")
    pos = torch.arange(seq_len)
    return pos.unsqueeze(0) > pos.unsqueeze(1)  # key index > query index


class CausalAttention(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout=0.0, qkv_bias=False):
        super().__init__()
        self.register_buffer("mask", causal_mask(context_length))
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.dropout = nn.Dropout(p=dropout)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.limit = context_length

    def _probabilities(self, x):
        if x.ndim != 3 or x.size(-1) != self.W_query.in_features:
            raise ValueError(f"expected input (batch, seq, {self.W_query.in_features}), got {list(x.shape)}")
        n = x.size(1)
        if n > self.limit:
            raise ValueError(f"sequence of {n} tokens exceeds context_length {self.limit}")
        q, k = self.W_query(x), self.W_key(x)
        s = torch.einsum("bid,bjd->bij", q, k) / math.sqrt(k.size(-1))
        s = s.masked_fill(self.mask[:n, :n], -math.inf)
        return torch.softmax(s, dim=-1)

    def attention_weights(self, x):
        return self._probabilities(x)

    def forward(self, x):
        p = self.dropout(self._probabilities(x))
        return torch.einsum("bij,bjd->bid", p, self.W_value(x))

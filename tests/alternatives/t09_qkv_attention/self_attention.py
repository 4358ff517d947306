"""Alternative topic 09: a correct implementation written differently.

scaled_dot_product scales the queries (not the scores) and uses einsum with a
torch.where mask; the modules create their parameters in another order, and
V1 loops over the batch; the transfer goes through load_state_dict.
"""

from __future__ import annotations

import torch
from torch import nn

from course.t08_simple_attention import softmax


def scaled_dot_product(q, k, v, mask=None):
    dk = k.size(-1)
    if q.size(-1) != dk or k.size(-2) != v.size(-2):
        raise ValueError(f"incompatible q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}")
    if mask is not None and (not torch.is_tensor(mask) or mask.dtype is not torch.bool):
        raise TypeError("mask must be a bool tensor")
    logits = torch.einsum("...qd,...kd->...qk", q * dk ** -0.5, k)
    if mask is not None:
        logits = torch.where(mask, torch.full_like(logits, -torch.inf), logits)
    attn = softmax(logits)
    return torch.einsum("...qk,...kd->...qd", attn, v), attn


class SelfAttentionV1(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.d_in, self.d_out = d_in, d_out
        # created value, key, query (reverse order), uniform init
        self.W_value = nn.Parameter(torch.rand(d_in, d_out))
        self.W_key = nn.Parameter(torch.rand(d_in, d_out))
        self.W_query = nn.Parameter(torch.rand(d_in, d_out))

    def _one(self, seq):
        out, _ = scaled_dot_product(seq @ self.W_query, seq @ self.W_key, seq @ self.W_value)
        return out

    def forward(self, x):
        if x.ndim not in (2, 3) or x.size(-1) != self.d_in:
            raise ValueError(f"expected (..., seq, {self.d_in}), got {tuple(x.shape)}")
        if x.ndim == 2:
            return self._one(x)
        return torch.stack([self._one(seq) for seq in x])


class SelfAttentionV2(nn.Module):
    def __init__(self, d_in, d_out, qkv_bias=False):
        super().__init__()
        self.d_in, self.d_out = d_in, d_out
        for name in ("W_value", "W_query", "W_key"):
            setattr(self, name, nn.Linear(d_in, d_out, bias=qkv_bias))

    def forward(self, x):
        if x.ndim not in (2, 3) or x.size(-1) != self.d_in:
            raise ValueError(f"expected (..., seq, {self.d_in}), got {tuple(x.shape)}")
        return scaled_dot_product(self.W_query(x), self.W_key(x), self.W_value(x))[0]


def transfer_v2_to_v1(v2, v1):
    state = {}
    for name in ("W_query", "W_key", "W_value"):
        layer = getattr(v2, name)
        if layer.bias is not None:
            raise ValueError(f"v2.{name} has a bias; SelfAttentionV1 has none")
        state[name] = layer.weight.detach().t().clone()
    try:
        v1.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"shape mismatch between v2 and v1: {exc}") from None
    return v1

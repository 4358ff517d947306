"""Alternative topic 12: same contract, different internals.

reshape + permute instead of view + transpose, einsum for the products, a
persistent mask built by index comparison, out_proj created first, and the
weight mappings written with reshape instead of cat / split.
"""

from __future__ import annotations

import torch
from torch import nn

from course.t11_multihead_wrapper import MultiHeadAttentionWrapper


def split_heads(x, num_heads):
    b, n, width = x.shape
    if width % num_heads:
        raise ValueError(f"{width} features cannot be split into {num_heads} equal heads")
    return x.reshape(b, n, num_heads, width // num_heads).permute(0, 2, 1, 3)


def merge_heads(x):
    b, h, n, dh = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, n, h * dh)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
        super().__init__()
        if num_heads < 1 or d_out % num_heads:
            raise ValueError(f"d_out ({d_out}) is not a multiple of num_heads ({num_heads})")
        self.out_proj = nn.Linear(d_out, d_out, bias=True)
        self.dropout = nn.Dropout(dropout)
        for name in ("W_value", "W_key", "W_query"):
            setattr(self, name, nn.Linear(d_in, d_out, bias=qkv_bias))
        idx = torch.arange(context_length)
        self.register_buffer("mask", idx[None, :] > idx[:, None])
        self.d_in, self.d_out, self.num_heads = d_in, d_out, num_heads
        self.head_dim = d_out // num_heads
        self.context_length = context_length

    def attention_weights(self, x):
        if x.ndim != 3 or x.shape[2] != self.d_in:
            raise ValueError(f"input of shape {list(x.shape)}, expected (batch, seq, {self.d_in})")
        n = x.shape[1]
        if n > self.context_length:
            raise ValueError(f"input has {n} positions, the layer allows {self.context_length}")
        q = split_heads(self.W_query(x), self.num_heads)
        k = split_heads(self.W_key(x), self.num_heads)
        s = torch.einsum("bhqd,bhkd->bhqk", q * self.head_dim ** -0.5, k)
        return s.masked_fill(self.mask[:n, :n], float("-inf")).softmax(-1)

    def forward(self, x):
        a = self.dropout(self.attention_weights(x))
        v = split_heads(self.W_value(x), self.num_heads)
        return self.out_proj(merge_heads(torch.einsum("bhqk,bhkd->bhqd", a, v)))


def wrapper_to_fused(wrapper):
    heads = wrapper.heads
    h0 = heads[0]
    dh, d_in = h0.W_query.weight.shape
    bias = h0.W_query.bias is not None
    fused = MultiHeadAttention(d_in, dh * len(heads), h0.mask.size(0), h0.dropout.p, len(heads), bias)
    state = {"out_proj.weight": torch.eye(dh * len(heads)), "out_proj.bias": torch.zeros(dh * len(heads))}
    for name in ("W_query", "W_key", "W_value"):
        state[f"{name}.weight"] = torch.stack([getattr(h, name).weight.detach() for h in heads]).reshape(-1, d_in)
        if bias:
            state[f"{name}.bias"] = torch.stack([getattr(h, name).bias.detach() for h in heads]).reshape(-1)
    fused.load_state_dict(state, strict=False)
    return fused


def fused_to_wrapper(mha):
    bias = mha.W_query.bias is not None
    wrapper = MultiHeadAttentionWrapper(mha.d_in, mha.head_dim, mha.context_length, mha.dropout.p,
                                        mha.num_heads, qkv_bias=bias)
    with torch.no_grad():
        for name in ("W_query", "W_key", "W_value"):
            src = getattr(mha, name)
            blocks = src.weight.reshape(mha.num_heads, mha.head_dim, mha.d_in)
            for h in range(mha.num_heads):
                getattr(wrapper.heads[h], name).weight.copy_(blocks[h])
                if bias:
                    getattr(wrapper.heads[h], name).bias.copy_(src.bias.reshape(mha.num_heads, -1)[h])
    return wrapper

"""Topic 05, written another way: explicit loops for the sinusoid, slicing the table's weight."""

import math

import torch
from torch import nn

from course.t04_token_embeddings import Embedding


def sinusoidal_encoding(seq_len, d_model, base=10000.0):
    rows = []
    for p in range(seq_len):
        row = []
        for column in range(d_model):
            pair = column - column % 2  # 2i for both columns of a pair
            angle = p / math.pow(base, pair / d_model)
            row.append(math.sin(angle) if column % 2 == 0 else math.cos(angle))
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float32).reshape(seq_len, d_model)


def add_positions(x, pos):
    ok = pos.ndim == 2 and x.ndim >= 2 and list(x.shape)[-2:] == list(pos.shape)
    if not ok:
        raise ValueError(f"shape mismatch: x {list(x.shape)} vs pos {list(pos.shape)}")
    return x + pos.expand_as(x)


class LearnedPositionalEmbedding(nn.Module):
    def __init__(self, context_length, d_model):
        super().__init__()
        self.limit = context_length
        self.table = Embedding(context_length, d_model)
        # a private, non-persistent helper buffer: allowed, since it never reaches the state_dict
        self.register_buffer("position_ids", torch.arange(context_length), persistent=False)

    def positions(self, seq_len):
        if not seq_len <= self.limit:
            raise ValueError(f"{seq_len} positions requested but the table has {self.limit}")
        return self.table(self.position_ids[:seq_len])

    def forward(self, x):
        return add_positions(x, self.positions(x.shape[-2]))


class SinusoidalPositionalEncoding(nn.Module):
    def __init__(self, context_length, d_model, base=10000.0):
        super().__init__()
        table = sinusoidal_encoding(context_length, d_model, base)
        self.register_buffer("pe", table, persistent=False)

    def positions(self, seq_len):
        if seq_len > self.pe.shape[0]:
            raise ValueError(f"seq_len {seq_len} exceeds context length {self.pe.shape[0]}")
        return self.pe.narrow(0, 0, seq_len)

    def forward(self, x):
        return add_positions(x, self.positions(x.shape[-2]))

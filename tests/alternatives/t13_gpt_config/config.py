"""Topic 13 as a learner might write it from the README alone (a different route to the same contract)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

GPT2_SIZES = {
    "124M": (768, 12, 12),
    "355M": (1024, 16, 24),
    "774M": (1280, 20, 36),
    "1558M": (1600, 25, 48),
}


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int = 50257
    context_length: int = 1024
    d_model: int = 768
    num_heads: int = 12
    num_layers: int = 12
    dropout: float = 0.1
    qkv_bias: bool = True
    tie_weights: bool = True

    def __post_init__(self) -> None:
        problems = []
        for field in dataclasses.fields(self):
            if field.name in ("dropout", "qkv_bias", "tie_weights"):
                continue
            value = getattr(self, field.name)
            if type(value) is not int:  # rules out bool and float in one go
                problems.append(f"{field.name}={value!r} is not an int")
            elif value <= 0:
                problems.append(f"{field.name}={value} must be at least 1")
        if problems:
            raise ValueError("invalid GPTConfig: " + "; ".join(problems))
        if self.d_model % self.num_heads:
            raise ValueError(f"cannot split d_model {self.d_model} into {self.num_heads} equal heads "
                             f"(remainder {self.d_model % self.num_heads})")
        if self.dropout < 0 or self.dropout >= 1:
            raise ValueError(f"dropout={self.dropout} is outside [0, 1)")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.num_heads


def gpt2_config(size: str = "124M", **changes) -> GPTConfig:
    try:
        d_model, num_heads, num_layers = GPT2_SIZES[size]
    except (KeyError, TypeError):
        raise ValueError(f"no GPT-2 called {size!r}; the sizes are " + " / ".join(GPT2_SIZES)) from None
    known = {f.name for f in dataclasses.fields(GPTConfig)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise TypeError(f"not GPTConfig fields: {', '.join(unknown)}")
    settings = {"d_model": d_model, "num_heads": num_heads, "num_layers": num_layers}
    settings.update(changes)
    return GPTConfig(**settings)


def _linear(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_in * n_out + (n_out if bias else 0)


def _layer_norm(d: int) -> int:
    return d + d


def parameter_breakdown(config: GPTConfig) -> dict[str, int]:
    d = config.d_model
    one_block = (
        _layer_norm(d)
        + 3 * _linear(d, d, bias=config.qkv_bias)
        + _linear(d, d)
        + _layer_norm(d)
        + _linear(d, 4 * d)
        + _linear(4 * d, d)
    )
    parts = {}
    parts["token_embedding"] = config.vocab_size * d
    parts["position_embedding"] = config.context_length * d
    parts["blocks"] = sum(one_block for _ in range(config.num_layers))
    parts["final_norm"] = _layer_norm(d)
    parts["output_head"] = _linear(d, config.vocab_size, bias=False) * (not config.tie_weights)
    return parts


def count_parameters(config: GPTConfig) -> int:
    total = 0
    for value in parameter_breakdown(config).values():
        total += value
    return total


class DummyGPTModel(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        self.pos_emb = nn.Embedding(config.context_length, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.Sequential(*[nn.Identity() for _ in range(config.num_layers)])
        self.final_norm = nn.Identity()
        self.out_head = nn.Linear(config.d_model, config.vocab_size, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if ids.ndim != 2:
            raise ValueError(f"ids must be (batch, seq), got a {ids.ndim}-D tensor of shape {list(ids.shape)}")
        batch, seq = ids.shape
        if seq > self.pos_emb.weight.shape[0]:
            raise ValueError(f"context_length is {self.pos_emb.weight.shape[0]} but the ids hold {seq} tokens")
        x = self.tok_emb.weight[ids] + self.pos_emb.weight[:seq].unsqueeze(0)
        x = F.dropout(x, p=self.drop.p, training=self.training)
        for block in self.blocks:
            x = block(x)
        return self.final_norm(x) @ self.out_head.weight.T


def shape_flow(model: DummyGPTModel, ids: torch.Tensor) -> list[tuple[str, tuple[int, ...]]]:
    seq = ids.shape[1]
    x = model.tok_emb(ids) + model.pos_emb(torch.arange(seq, device=ids.device))
    flow = [("ids", tuple(ids.shape)), ("embeddings", tuple(x.shape))]
    x = model.blocks(model.drop(x))
    flow.append(("blocks", tuple(x.shape)))
    x = model.final_norm(x)
    flow.append(("final_norm", tuple(x.shape)))
    flow.append(("logits", tuple(model.out_head(x).shape)))
    return flow

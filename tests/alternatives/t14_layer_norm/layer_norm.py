"""Topic 14 as a learner might write it from the README alone (a different route to the same contract)."""

from __future__ import annotations

import torch
from torch import nn


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    features = x.size(-1)
    for name, param in (("weight", weight), ("bias", bias)):
        if param.dim() != 1 or param.numel() != features:
            raise ValueError(f"{name} has shape {list(param.shape)}; it must be [{features}] to match x's "
                             f"last axis")
    var, mean = torch.var_mean(x, dim=-1, unbiased=False, keepdim=True)
    centred = x - mean
    return torch.addcmul(bias, centred * torch.rsqrt(var + eps), weight)


class LayerNorm(nn.Module):
    def __init__(self, d_model: int, eps: float = 1e-5):
        super().__init__()
        self.d_model = d_model
        self.eps = eps
        self.weight = nn.Parameter(torch.full((d_model,), 1.0))
        self.bias = nn.Parameter(torch.full((d_model,), 0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.weight.numel():
            raise ValueError(f"expected {self.weight.numel()} features in the last axis, got {x.shape[-1]}")
        return layer_norm(x, self.weight, self.bias, eps=self.eps)


def row_statistics(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"mean": x.mean(dim=-1), "std": x.std(dim=-1, unbiased=False)}

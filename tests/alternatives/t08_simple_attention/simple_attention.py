"""Alternative topic 08: a correct implementation written differently.

softmax moves ``dim`` to the end and uses logsumexp-style shifting by the
running maximum; single-query functions use element-wise products; the matrix
form uses einsum; the loop form preallocates its outputs.
"""

from __future__ import annotations

import torch


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    moved = x.movedim(dim, -1)
    peak = moved.max(dim=-1, keepdim=True).values
    e = (moved - peak).exp()
    total = e.sum(dim=-1, keepdim=True)
    return (e / total).movedim(-1, dim)


def attention_scores(query: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    if inputs.ndim != 2 or query.ndim != 1 or query.numel() != inputs.shape[-1]:
        raise ValueError(f"bad shapes: query {tuple(query.shape)}, inputs {tuple(inputs.shape)}")
    return (inputs * query.unsqueeze(0)).sum(dim=1)


def context_vector(weights: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    if inputs.ndim != 2 or weights.ndim != 1 or weights.numel() != inputs.shape[0]:
        raise ValueError(f"bad shapes: weights {tuple(weights.shape)}, inputs {tuple(inputs.shape)}")
    return (weights.unsqueeze(1) * inputs).sum(dim=0)


def self_attention_loop(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if inputs.ndim != 2:
        raise ValueError(f"inputs must be (seq, d), got {tuple(inputs.shape)}")
    n = inputs.shape[0]
    attn = inputs.new_empty(n, n)
    ctx = torch.empty_like(inputs)
    for i in range(n):
        attn[i] = softmax(attention_scores(inputs[i], inputs))
        ctx[i] = context_vector(attn[i], inputs)
    return ctx, attn


def self_attention_matrix(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if inputs.ndim != 2:
        raise ValueError(f"inputs must be (seq, d), got {tuple(inputs.shape)}")
    attn = softmax(torch.einsum("id,jd->ij", inputs, inputs), dim=1)
    return torch.einsum("ij,jd->id", attn, inputs), attn

"""A correct topic 23 written from the README alone, differently from the reference."""

from __future__ import annotations

import torch

from course.t19_next_token import next_token_logits


def softmax_with_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature {temperature} is not positive")
    scaled = logits * (1.0 / temperature)
    shifted = scaled - scaled.amax(dim=-1, keepdim=True)
    weights = shifted.exp()
    return weights / weights.sum(dim=-1, keepdim=True)


def sample_next_token(logits, temperature, generator=None):
    if logits.ndim != 2:
        raise ValueError(f"expected 2-D logits, got {list(logits.shape)}")
    if temperature < 0:
        raise ValueError(f"negative temperature {temperature}")
    if temperature == 0:
        return torch.max(logits, dim=1).indices.unsqueeze(1)
    probs = softmax_with_temperature(logits, temperature).double()
    return torch.multinomial(probs, num_samples=1, replacement=True, generator=generator)


def next_token_probs(model, ids, context_length, temperature):
    logits = next_token_logits(model, ids, context_length)
    return softmax_with_temperature(logits, temperature)

"""A correct topic 19 written from the README alone, differently from the reference."""

from __future__ import annotations

import inspect

import torch


def accepts_allowed_special(tokenizer) -> bool:
    try:
        return "allowed_special" in inspect.signature(tokenizer.encode).parameters
    except (TypeError, ValueError):
        return False


def text_to_ids(text, tokenizer):
    kwargs = {"allowed_special": "all"} if accepts_allowed_special(tokenizer) else {}
    encoded = tokenizer.encode(text, **kwargs)
    out = torch.empty((1, len(encoded)), dtype=torch.long)
    for i, value in enumerate(encoded):
        out[0, i] = int(value)
    return out


def ids_to_text(ids, tokenizer):
    if isinstance(ids, torch.Tensor):
        if ids.dim() == 2 and ids.size(0) > 1:
            raise ValueError(f"cannot decode {ids.size(0)} rows at once")
        ids = ids.reshape(-1).tolist()
    return tokenizer.decode(list(map(int, ids)))


def next_token_logits(model, ids, context_length):
    if context_length <= 0:
        raise ValueError(f"context_length {context_length} is not positive")
    if ids.ndim != 2 or ids.size(-1) < 1:
        raise ValueError(f"expected (batch, n) ids with n >= 1, got {list(ids.shape)}")
    n = ids.size(1)
    start = max(n - context_length, 0)
    out = model(ids.narrow(1, start, n - start))   # no torch.no_grad here: the values are the same
    return out[:, out.size(1) - 1]


def generate_greedy(model, ids, max_new_tokens, context_length):
    if max_new_tokens < 0:
        raise ValueError(f"cannot generate {max_new_tokens} tokens")
    batch, n = ids.shape
    out = torch.zeros((batch, n + max_new_tokens), dtype=ids.dtype, device=ids.device)
    out[:, :n] = ids
    for step in range(max_new_tokens):
        scores = next_token_logits(model, out[:, : n + step], context_length)
        out[:, n + step] = torch.max(scores, dim=-1).indices
    return out

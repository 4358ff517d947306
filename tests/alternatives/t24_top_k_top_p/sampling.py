"""A correct topic 24 written from the README alone, differently from the reference."""

from __future__ import annotations

import torch

from course.t19_next_token import next_token_logits
from course.t23_temperature import sample_next_token

NEG_INF = float("-inf")


def top_k_filter(logits, k):
    if k <= 0:
        raise ValueError(f"k={k} must be positive")
    vocab = logits.size(-1)
    if k >= vocab:
        return logits.clone()
    bar = logits.sort(dim=-1, descending=True).values.narrow(-1, k - 1, 1)
    return torch.where(logits >= bar, logits, torch.full_like(logits, NEG_INF))


def top_p_filter(logits, p):
    if p <= 0 or p > 1:
        raise ValueError(f"p={p} is not in (0, 1]")
    if p >= 1:
        return logits.clone()
    probs = logits.softmax(dim=-1)
    ascending = probs.sort(dim=-1).values
    # kept: the ascending cumulative sum (this token and every less probable one) exceeds 1 - p
    kept = ascending.cumsum(dim=-1) > 1 - p
    kept[..., -1] = True  # the most probable token, whatever the rounding
    smallest_kept = torch.where(kept, ascending, torch.full_like(ascending, 2.0)).min(dim=-1, keepdim=True).values
    return torch.where(probs >= smallest_kept, logits, torch.full_like(logits, NEG_INF))


def generate(model, ids, max_new_tokens, context_length, temperature=0.0, top_k=None, top_p=None, eos_id=None,
             generator=None):
    values = {"max_new_tokens": max_new_tokens, "temperature": temperature, "top_k": top_k, "top_p": top_p}
    invalid = {"max_new_tokens": max_new_tokens < 0, "temperature": temperature < 0,
               "top_k": top_k is not None and top_k < 1, "top_p": top_p is not None and not 0 < top_p <= 1}
    for name, bad in invalid.items():
        if bad:
            raise ValueError(f"invalid {name}: {values[name]}")
    out = ids
    done = [False] * ids.shape[0]
    produced = 0
    while produced < max_new_tokens and not (eos_id is not None and all(done)):
        scores = next_token_logits(model, out, context_length)
        if temperature > 0:
            scores = scores * (1.0 / temperature)
            if top_k is not None:
                scores = top_k_filter(scores, top_k)
            if top_p is not None:
                scores = top_p_filter(scores, top_p)
            chosen = sample_next_token(scores, 1.0, generator)
        else:
            chosen = sample_next_token(scores, 0)
        if eos_id is not None:
            finished = torch.tensor(done, device=chosen.device).unsqueeze(1)
            chosen = torch.where(finished, torch.full_like(chosen, eos_id), chosen)
            done = [d or int(c) == eos_id for d, c in zip(done, chosen[:, 0].tolist())]
        out = torch.cat((out, chosen), dim=-1)
        produced += 1
    return out

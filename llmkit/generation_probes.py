"""Probes shared by the generation topics (19 next-token prediction, 23 temperature,
24 top-k and top-p): stand-in models and tokenizers, and margins that keep every
discrete decision a check compares (an argmax, a kept or dropped token, a sampled
id) far from its knife edge.

Why margins. Generated ids are compared exactly with the reference's float32
run. A correct implementation that rounds differently (``x / T`` or
``x * (1 / T)``, a softmax written by hand, a cumulative sum over ascending
instead of descending probabilities) moves every float by a few units in the
last place; the reorderings of ``tests/reordering.py`` move a GPT's logits by
about 1e-6 of their size. Such a change can flip a decision only where two
candidates lie closer than that. So a probe draws its inputs, measures the
smallest gap of every decision the run will take, and draws again while a gap
is below :data:`MIN_GAP` (about 100 times the largest rounding difference).
The gap is measured by the probe's own code on the model's own logits, never by
the learner's code under test.

``torch.multinomial(probs, 1, generator=g)`` picks ``argmax(probs / q)`` with
``q`` exponential draws from ``g`` of the shape of ``probs`` (PyTorch's fast path
for one sample); :func:`race_gap` measures how close that race is and checks the
assumption against ``torch.multinomial`` itself.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import torch
from torch import nn

from llmkit.probing import Rng

#: decisions closer than this (relative to the logits' size, or in probability) count as knife-edge
MIN_GAP = 1e-4
#: how many draws a probe tries before it gives up looking for clear decisions
TRIES = 60


# ----------------------------------------------------------------------------- stand-in models


class TableModel(nn.Module):
    """A stand-in language model: the logits at each position are the row of ``table`` of the id there.

    ``(batch, seq)`` ids -> ``(batch, seq, vocab_size)`` logits ``table[ids]`` - causal, and the
    next-token scores depend on the last id alone, so every decision is exact by construction.
    Like topic 18's ``GPTModel`` it raises ``ValueError`` on more than ``context_length`` ids.
    Every input it sees is recorded in ``calls`` (a copy), so a probe can tell which window a
    generator fed it. It has no parameters; ``train()`` / ``eval()`` only set ``training``.
    """

    def __init__(self, table: torch.Tensor, context_length: int):
        super().__init__()
        self.table = table
        self.context_length = context_length
        self.calls: list[torch.Tensor] = []

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if not isinstance(ids, torch.Tensor) or ids.dim() != 2:
            shape = tuple(ids.shape) if isinstance(ids, torch.Tensor) else type(ids).__name__
            raise ValueError(f"the model expects (batch, seq) ids, got {shape}")
        if ids.shape[1] > self.context_length:
            raise ValueError(f"the model got {ids.shape[1]} ids, more than its context_length "
                             f"{self.context_length}")
        self.calls.append(ids.detach().clone())
        return self.table[ids]


def chain_table(rng: Rng, vocab_size: int, successor: list[int], lead: float = 1.0,
                ties: dict[int, list[int]] | None = None) -> torch.Tensor:
    """A ``(vocab_size, vocab_size)`` table whose row ``v`` has its largest entry at ``successor[v]``.

    Every row holds ``N(0, 1)`` noise with the winner raised ``lead`` (plus a random part of up
    to 1) above the row's other entries. ``ties`` maps a row to tokens that share its largest
    value *exactly* (an argmax tie: the first index must win).
    """
    table = rng.randn(vocab_size, vocab_size)
    boost = rng.rand(vocab_size)
    for v in range(vocab_size):
        row = table[v]
        others = torch.cat((row[:successor[v]], row[successor[v] + 1:]))
        top = others.max() + lead + boost[v]
        row[successor[v]] = top
        for tied in (ties or {}).get(v, []):
            row[tied] = top
    return rng.input(table)


class ScriptTokenizer:
    """A character-level tokenizer with a special token, recording how it is called.

    ``encode(text, allowed_special=...)`` maps ``"<|endoftext|>"`` to ``special_id`` only when
    ``allowed_special == "all"`` (otherwise the marker is encoded character by character, as
    text); every other character ``c`` becomes ``ord(c) % special_id``. ``decode`` accepts only
    a list of Python ints (like tiktoken's) and maps ``special_id`` back to the marker.
    """

    SPECIAL = "<|endoftext|>"

    def __init__(self, special_id: int = 97):
        self.special_id = special_id
        self.seen: list[object] = []

    def encode(self, text: str, allowed_special: str | Collection[str] = ()) -> list[int]:
        self.seen.append(allowed_special if isinstance(allowed_special, str) else sorted(allowed_special))
        pieces = text.split(self.SPECIAL) if allowed_special == "all" else [text]
        ids: list[int] = []
        for number, text_piece in enumerate(pieces):
            if number:  # a marker stood between this piece and the one before
                ids.append(self.special_id)
            ids += [ord(c) % self.special_id for c in text_piece]
        return ids

    def decode(self, ids: list[int]) -> str:
        if not isinstance(ids, list) or not all(type(i) is int for i in ids):
            kinds = sorted({type(i).__name__ for i in ids}) if isinstance(ids, (list, tuple)) else []
            raise TypeError(f"decode takes a list of Python ints, got a {type(ids).__name__} of {kinds}")
        return "".join(self.SPECIAL if i == self.special_id else chr(i + 32) for i in ids)


class PlainTokenizer(ScriptTokenizer):
    """The same tokenizer with topic 01's interface: ``encode(text)`` takes no other argument."""

    def encode(self, text: str) -> list[int]:  # type: ignore[override]
        self.seen.append("text only")
        return [ord(c) % self.special_id for c in text]


# ----------------------------------------------------------------------------- margins


def top_two_gap(logits: torch.Tensor) -> float:
    """Smallest gap, over the rows of ``(rows, vocab)`` logits, between the two largest finite
    values, relative to ``1 + |largest finite logit|`` (``inf`` with fewer than two finite values)."""
    finite = torch.where(torch.isfinite(logits), logits.double(), torch.tensor(-math.inf, dtype=torch.float64))
    gaps = []
    for row in finite.reshape(-1, finite.shape[-1]):
        best = row.topk(min(2, row.numel())).values
        if best.numel() < 2 or not torch.isfinite(best[1]):
            continue
        gaps.append(((best[0] - best[1]) / (1 + best.abs().max())).item())
    return min(gaps, default=math.inf)


@torch.no_grad()
def greedy_path_gap(model: nn.Module, ids: torch.Tensor, steps: int, context_length: int) -> float:
    """The smallest :func:`top_two_gap` of the argmax decisions a greedy run of ``steps`` takes."""
    path, worst = ids, math.inf
    for _ in range(steps):
        start = max(0, path.shape[1] - context_length)
        scores = model(path[:, start:])[:, -1, :]
        worst = min(worst, top_two_gap(scores))
        path = torch.cat((path, scores.argmax(dim=-1, keepdim=True)), dim=1)
    return worst


def kth_gap(logits: torch.Tensor, k: int) -> float:
    """How far the ``k``-th largest logit of each row lies from the ``(k+1)``-th, relative to
    ``1 + |k-th|``; exact ties count as clear (0 apart is a tie every implementation sees)."""
    vocab_size = logits.shape[-1]
    if k >= vocab_size:
        return math.inf
    ordered = logits.double().reshape(-1, logits.shape[-1]).sort(dim=-1, descending=True).values
    kth, after = ordered[:, k - 1], ordered[:, k]
    gap = (kth - after) / (1 + kth.abs())
    gap = torch.where(kth == after, torch.full_like(gap, math.inf), gap)
    return gap.min().item()


def nucleus_gap(logits: torch.Tensor, p: float) -> float:
    """How close any cumulative probability (most probable first) comes to ``p`` (``inf`` for
    ``p >= 1``). Below :data:`MIN_GAP` another rounding may keep one token more or less."""
    if p >= 1:
        return math.inf
    probs = torch.softmax(logits.double().reshape(-1, logits.shape[-1]), dim=-1)
    running = probs.sort(dim=-1, descending=True).values.cumsum(dim=-1)
    return (running - p).abs().min().item()


def race_gap(probs: torch.Tensor, generator: torch.Generator) -> float:
    """How clear the winner of ``torch.multinomial(probs, 1, generator=generator)`` is, per row:
    the smallest relative gap between the two largest ``probs / q`` (``q`` the exponential draws
    the call makes). ``generator`` is not advanced. ``inf`` where a row has one candidate;
    ``0.0`` when PyTorch does not pick that way (then nothing can be promised)."""
    probs2d = probs.reshape(-1, probs.shape[-1])
    trial = torch.Generator().set_state(generator.get_state())
    q = torch.empty_like(probs2d).exponential_(1, generator=trial)
    ratios = (probs2d / q).double()
    replay = torch.Generator().set_state(generator.get_state())
    picked = torch.multinomial(probs2d, 1, generator=replay).squeeze(-1)
    if not torch.equal(picked, ratios.argmax(dim=-1)):
        return 0.0
    gaps = []
    for row in ratios:
        best = row.topk(min(2, row.numel())).values
        if best.numel() < 2 or best[1] <= 0:
            continue
        gaps.append(((best[0] - best[1]) / best[0]).item())
    return min(gaps, default=math.inf)

"""Public checks for topic 23 - temperature.

The helpers here (logits with a clear winner or with exact ties, a generator
whose draw is far from any knife edge, the sampling probe that also reports how
far the generator was advanced and whether torch's global random state moved)
are reused by the hidden checks.
"""

from __future__ import annotations

import torch

from checks.t18_gpt_model import gpt_config
from checks.t19_next_token import gpt
from llmkit.checks import check
from llmkit.generation_probes import MIN_GAP, TRIES, race_gap
from llmkit.probing import Rng, error_case

# ----------------------------------------------------------------------------- inputs


def clear_winner(rng: Rng, batch: int, vocab_size: int, scale: float = 2.0, lead: float = 0.5) -> torch.Tensor:
    """``(batch, vocab_size)`` logits whose largest entry leads the second by at least ``lead``."""
    logits = rng.randn(batch, vocab_size, scale=scale)
    top = logits.argmax(dim=-1)
    rows = torch.arange(batch)
    rest = logits.clone()
    rest[rows, top] = -torch.inf
    logits[rows, top] = torch.maximum(logits[rows, top], rest.max(dim=-1).values + lead)
    return rng.input(logits)


def tied_logits(rng: Rng, batch: int, vocab_size: int) -> torch.Tensor:
    """Integer-valued logits in which every row's maximum is shared by several positions: three in even
    rows, two in odd ones (so every call has a three-way tie); the other values tie often too."""
    logits = rng.randint(-4, 4, (batch, vocab_size)).to(torch.get_default_dtype())
    for row in range(batch):
        for col in rng.sample(range(vocab_size), 3 if row % 2 == 0 else 2):
            logits[row, col] = 6.0
    return logits


def clear_generator(rng: Rng, probs: torch.Tensor) -> torch.Tensor | None:
    """A fresh ``torch.Generator`` whose ``torch.multinomial(probs, 1)`` draw has a clear winner in every row
    (see :mod:`llmkit.generation_probes`): any correct sampler picks the reference's ids."""
    for _ in range(TRIES):
        generator = torch.Generator().manual_seed(rng.integer(0, 2**31 - 1))
        if race_gap(probs.float(), generator) > MIN_GAP:
            return generator
    raise RuntimeError("no generator seed with clear draws found: the probe's distribution is degenerate")


def reference_probs(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """What the probe expects the sampler to draw from (to choose a generator; never compared)."""
    return torch.softmax(logits.float() / temperature, dim=-1)


# ----------------------------------------------------------------------------- probes


def sampling_probe(t, rng: Rng, logits: torch.Tensor, temperature: float) -> dict:
    """Sample with a clear generator: the ids, the generator's next draws (how far the call advanced
    it), and whether torch's global random state stayed put."""
    generator = (clear_generator(rng, reference_probs(logits, temperature)) if temperature > 0
                 else torch.Generator().manual_seed(rng.integer(0, 2**31 - 1)))
    state = torch.random.get_rng_state()
    ids = t.sample_next_token(logits, temperature, generator=generator)
    return {"ids": ids, "generator's next draws": torch.randint(0, 2**31, (3,), generator=generator),
            "global random state untouched": torch.equal(torch.random.get_rng_state(), state)}


def global_sampling_probe(t, rng: Rng, logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Sample with ``generator=None`` from torch's global generator, seeded for a clear draw."""
    probs = reference_probs(logits, temperature)
    for _ in range(TRIES):
        seed = rng.integer(0, 2**31 - 1)
        if race_gap(probs, torch.Generator().manual_seed(seed)) > MIN_GAP:
            break
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return t.sample_next_token(logits, temperature)


# ----------------------------------------------------------------------------- checks


@check("softmax_with_temperature: T = 0.5, 1 and 2.5 on random logits; huge logits stay finite")
def tempered_probs(t, rng):
    logits = rng.randn(3, 10, scale=3.0)
    huge = rng.randn(2, 6, scale=1e4)
    return [t.softmax_with_temperature(logits, T) for T in (0.5, 1.0, 2.5)] + [t.softmax_with_temperature(huge, 0.7)]


@check("sample_next_token at T = 0.8 with a seeded generator: (batch, 1) ids, one multinomial draw for the batch, "
       "global random state untouched")
def seeded_sample(t, rng):
    return sampling_probe(t, rng, rng.randn(6, 12, scale=2.0), 0.8)


@check("sample_next_token at T = 0: the argmax (first index on ties), the generator not used")
def zero_temperature(t, rng):
    return [sampling_probe(t, rng, tied_logits(rng, 4, 9), 0.0), sampling_probe(t, rng, clear_winner(rng, 3, 7), 0.0)]


@check("T -> 0: at T = 0.001 sampling picks the argmax and the distribution is one-hot")
def cold_limit(t, rng):
    logits = clear_winner(rng, 5, 11)
    return {"sample": sampling_probe(t, rng, logits, 1e-3), "probs": t.softmax_with_temperature(logits, 1e-3)}


@check("next_token_probs on a small GPT-2: the last window's last position, at T = 0.7 and 1.5")
def model_probs(t, rng):
    config = gpt_config(30, 5, 16, 2, 1)
    model = gpt(rng, config)
    ids = rng.randint(0, 30, (2, 8))
    return [t.next_token_probs(model, ids, 5, 0.7), t.next_token_probs(model, ids, 5, 1.5)]


@check("errors: a negative temperature (softmax and sampling), 1-D logits")
def errors(t, rng):
    logits = rng.randn(2, 5)
    return [error_case("softmax_with_temperature(T=-0.5)", t.softmax_with_temperature, logits, -0.5, names=[-0.5]),
            error_case("sample_next_token(T=-1.5)", t.sample_next_token, logits, -1.5, names=[-1.5]),
            error_case("sample_next_token on logits of shape (5,)", t.sample_next_token, logits[0], 1.0, names=[5]),
            error_case("sample_next_token(T=1)", t.sample_next_token, logits, 1.0)]

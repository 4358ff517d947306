"""Public checks for topic 20 - the loss function.

The helpers here (logits of every size and scale, targets with ignored
positions, the watch on built-in losses, a small GPT's logits) are reused by
the hidden checks of this topic.
"""

from __future__ import annotations

import importlib
import math

import torch
import torch.nn.functional as F

from checks.t18_gpt_model import model_with, random_config
from llmkit.checks import check
from llmkit.probing import CallWatch, Rng, error_case
from llmkit.values import SPREAD_FACTOR, Mismatch, Near, exact, per_item, same

INF = float("inf")
IGNORE = -100  # PyTorch's default ignore_index, and the topic's

# Every built-in a learner could compute the loss with: "from scratch" means none of these.
# torch.logsumexp stays allowed (log_softmax = z - logsumexp(z) is a correct way to write it).
BUILTIN_LOSSES = {
    F.cross_entropy: "F.cross_entropy (or nn.CrossEntropyLoss)", F.nll_loss: "F.nll_loss (or nn.NLLLoss)",
    torch._C._nn.cross_entropy_loss: "torch._C._nn.cross_entropy_loss", torch._C._nn.nll_loss: "torch._C._nn.nll_loss",
    torch._C._nn.nll_loss_nd: "torch._C._nn.nll_loss_nd",
    F.log_softmax: "F.log_softmax", torch.log_softmax: "torch.log_softmax", torch._log_softmax: "torch._log_softmax",
    torch.Tensor.log_softmax: "Tensor.log_softmax", torch.special.log_softmax: "torch.special.log_softmax",
}

# ----------------------------------------------------------------------------- inputs


def logits_of(rng: Rng, *shape: int, scale: float = 3.0) -> torch.Tensor:
    """Random logits ``shape`` (last dimension: the vocabulary), spread like a trained model's."""
    return rng.randn(*shape, scale=scale)


def huge_rows(rng: Rng, rows: int, vocab: int, masked: bool) -> torch.Tensor:
    """``(rows, vocab)`` logits of magnitude 1e3-1e4 with gaps of thousands in every row.

    Each row is all positive (``exp`` overflows even float64), all negative (every ``exp``
    underflows to 0) or of both signs. Entry 0 sits thousands below the rest of its row: its
    probability is 0 in any float format, its log-probability (about ``-gap``) is not, so only a
    log-softmax that never forms a probability gets it right. With ``masked``, some entries from 2
    on are ``-inf`` (row 0 always has one, the last).

    Every finite entry is drawn at its full magnitude, so the nudged exact runs move each by
    about ``2**-17`` of itself: the spread then allows the rounding any correct float32 formula
    makes at that magnitude (``z - logsumexp(z)`` rounds at ``ulp(1e4)``, about ``1e-3``).
    """
    x = torch.empty(rows, vocab)
    for r in range(rows):
        size = rng.choice([1e3, 4e3, 1e4])
        kind = rng.choice(["positive", "negative", "mixed"])
        if kind == "mixed":
            x[r] = rng.randn(vocab, scale=size)
        else:
            x[r] = (1 if kind == "positive" else -1) * size * (1 + rng.rand(vocab))
        x[r, 0] = -4 * size * (1 + rng.rand(1))            # at least 2 * size below the rest of the row
        if masked:
            hidden = rng.sample(range(2, vocab), rng.integer(1 if r == 0 else 0, vocab - 2))
            x[r, hidden] = -INF
    if masked:
        x[0, -1] = -INF
    return rng.input(x)


def targets_of(rng: Rng, shape: tuple[int, ...], vocab: int, ignore_index: int = IGNORE,
               share: float = 0.3) -> torch.Tensor:
    """Random target ids ``shape``; about ``share`` of them are ``ignore_index``.

    Always at least one ignored and one counted position (for two or more positions), so the
    mean over counted targets differs from the mean over all of them on every draw.
    """
    targets = rng.randint(0, vocab, shape)
    flat = targets.view(-1)
    n = flat.numel()
    if n >= 2:
        positions = rng.sample(range(n), max(1, min(n - 1, round(share * n))))
        flat[positions] = ignore_index
        if 0 <= ignore_index < vocab:  # ids drawn equal to a valid ignore_index are ignored too: keep one counted
            kept = [i for i in range(n) if i not in positions]
            flat[kept[0]] = (ignore_index + 1) % vocab
    return targets


# A correct float32 formula may round at the scale of the row's largest logit: z - logsumexp(z) forms
# logsumexp(z), about max(z), to float32 precision (2**-24 relative) and then subtracts, so a log-probability
# near 0 carries an absolute error of a few units of max|z| * 2**-24 (4e-3 at |z| = 3e4). The nudged exact
# runs cannot show this (a log-probability near 0 hardly moves when the logits move), so log-probabilities
# are allowed ROUNDING_UNITS times the largest finite |logit| of their row on top of `same`'s bound. Every
# planted bug is off by inf, NaN, or by amounts of the size of the logits themselves.
ROUNDING_UNITS = 8 * 2.0 ** -24


def row_magnitude(logits: torch.Tensor) -> torch.Tensor:
    """The largest finite ``|logit|`` of every row: shape ``logits.shape[:-1]`` (0 for an empty row)."""
    finite = logits.abs().masked_fill(~torch.isfinite(logits), 0.0)
    return finite.amax(dim=-1) if logits.shape[-1] else finite.sum(dim=-1)


@per_item
def log_prob_compare(got, expected, *, reveal: bool, path: str = "result") -> None:
    """``{"logits", "value"}``: the value (log-probabilities, per-position losses or their mean) matches the
    reference, allowing the rounding a correct float32 formula makes at the scale of its row's logits."""
    if not isinstance(got, dict) or "value" not in got:
        raise Mismatch(f"{path}: the probe did not return the function's value")
    logits, want = exact(expected["logits"]), expected["value"]  # the trusted copy of the input
    if not isinstance(want, Near):
        return same(got["value"], want, reveal=reveal, path=path)
    scale = row_magnitude(logits.double())
    if tuple(want.shape) == tuple(logits.shape):        # one value per logit: log_softmax
        scale = scale.unsqueeze(-1).expand(want.shape)
    elif tuple(want.shape) != tuple(scale.shape):       # one value in all: the mean loss
        scale = scale.max() if scale.numel() else torch.zeros(())
    extra = ROUNDING_UNITS * scale / SPREAD_FACTOR
    same(got["value"], Near(want.truth, want.spread + extra), reveal=reveal, path=path)


def with_logits(logits: torch.Tensor, value) -> dict:
    """A probe's result for :func:`log_prob_compare`."""
    return {"logits": logits, "value": value}


def gradient_of(fn, logits: torch.Tensor, *args) -> dict:
    """``fn(logits, *args)`` and the gradient of its output's sum with respect to ``logits``."""
    x = logits.clone().requires_grad_(True)
    out = fn(x, *args)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise Mismatch(f"{getattr(fn, '__name__', 'the loss')} returned a result that is not differentiable "
                       "with respect to the logits")
    out.sum().backward()
    return {"value": out, "grad": x.grad}


def no_builtin_losses(what: str, calls) -> list:
    """Run ``calls`` (no arguments) under a watch for built-in losses; their results, or a Mismatch."""
    with CallWatch(BUILTIN_LOSSES) as watch:
        results = [call() for call in calls]
    if watch.seen:
        raise Mismatch(f"{what} called {' and '.join(sorted(set(watch.seen)))}: write the loss from tensor "
                       "operations (max, exp, sum, log, gather; torch.logsumexp is fine)")
    return results


def gpt_logits(rng: Rng, batch: int) -> tuple[torch.Tensor, int]:
    """Logits ``(batch, context_length, vocab_size)`` of a small topic-18 GPT with given weights."""
    t18 = importlib.import_module("course.t18_gpt_model")  # resolves like the learner's own import
    config = random_config(rng, tie_weights=rng.coin(), qkv_bias=rng.coin(), max_layers=2, min_context=3,
                           max_context=8)
    model = model_with(t18, rng, config).eval()
    with torch.no_grad():
        logits = model(rng.randint(0, config.vocab_size, (batch, config.context_length)))
    return rng.input(logits), config.vocab_size


def bad_target_cases(fn, rng: Rng, name: str) -> list:
    """Error reports of ``fn(logits, targets[, ignore_index])`` on targets that cannot be scored,
    and one call on valid targets that must raise nothing."""
    batch, seq, vocab = rng.integer(1, 3), rng.integer(2, 5), rng.integer(5, 12)
    logits = logits_of(rng, batch, seq, vocab)
    good = rng.randint(0, vocab, (batch, seq))
    longer = seq + rng.integer(3, 6)
    too_big = good.clone()
    too_big[0, -1] = vocab + rng.integer(0, 3)
    negative = good.clone()
    negative[-1, 0] = -rng.integer(1, 5)
    return [
        error_case(f"{name}: targets of shape ({batch}, {longer}) for logits ({batch}, {seq}, {vocab})", fn,
                   logits, rng.randint(0, vocab, (batch, longer)), names=[longer]),
        error_case(f"{name}: 1-D logits of shape ({vocab},)", fn, logits[0, 0], good[0, 0]),
        error_case(f"{name}: float targets", fn, logits, good.float(), names=["float32"]),
        error_case(f"{name}: target {int(too_big[0, -1])} with vocab_size={vocab}", fn, logits, too_big,
                   names=[int(too_big[0, -1]), vocab]),
        error_case(f"{name}: target {int(negative[-1, 0])} (ignore_index={IGNORE})", fn, logits, negative,
                   names=[int(negative[-1, 0])]),
        error_case(f"{name}: valid targets", fn, logits, good),
    ]


# ----------------------------------------------------------------------------- checks


@check("log_softmax over the last dimension of (3, 6) and (2, 3, 5) logits")
def log_softmax_small(t, rng):
    return [t.log_softmax(logits_of(rng, 3, 6)), t.log_softmax(logits_of(rng, 2, 3, 5))]


@check("log_softmax of logits of +-1e3 to +-1e4 with gaps of thousands, and -inf: finite and exact (subtract "
       "the max), -inf stays -inf", compare=log_prob_compare)
def log_softmax_huge(t, rng):
    logits = huge_rows(rng, 4, 5, masked=True)
    return with_logits(logits, t.log_softmax(logits))


@check("token_losses: -log p(target) at every position of (batch, seq, vocab) logits, 0 where ignored")
def token_losses_ignored(t, rng):
    logits = logits_of(rng, 2, 4, 7)
    return t.token_losses(logits, targets_of(rng, (2, 4), 7))


@check("cross_entropy equals F.cross_entropy on (N, vocab) and (batch, seq, vocab) logits, ignored targets "
       "left out of the mean")
def cross_entropy_values(t, rng):
    flat = logits_of(rng, 6, 9)
    batched = logits_of(rng, 2, 5, 9)
    return [t.cross_entropy(flat, targets_of(rng, (6,), 9, share=0.0)),
            t.cross_entropy(flat, targets_of(rng, (6,), 9)),
            t.cross_entropy(batched, targets_of(rng, (2, 5), 9))]


@check("the gradient of cross_entropy with respect to the logits: (softmax - one_hot) / counted targets")
def cross_entropy_gradient(t, rng):
    return gradient_of(t.cross_entropy, logits_of(rng, 2, 3, 6), targets_of(rng, (2, 3), 6))


@check("perplexity = exp(loss) as a float: 0 -> 1, ln(vocab) -> vocab, a tensor loss, overflow -> inf")
def perplexity_values(t, rng):
    vocab = rng.integer(10, 1000)
    return [t.perplexity(0.0), t.perplexity(math.log(vocab)),
            t.perplexity(rng.input(torch.tensor(2.5))), t.perplexity(1000.0)]


@check("targets that do not fit the logits raise ValueError / TypeError naming the problem")
def bad_targets(t, rng):
    return bad_target_cases(t.cross_entropy, rng, "cross_entropy")

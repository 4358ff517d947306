"""Hidden checks for topic 20 - the loss function (fresh seed every run)."""

import math

import torch

from checks.t20_loss import (
    IGNORE,
    bad_target_cases,
    gpt_logits,
    gradient_of,
    huge_rows,
    log_prob_compare,
    logits_of,
    no_builtin_losses,
    targets_of,
    with_logits,
)
from llmkit.checks import check
from llmkit.probing import error_case
from llmkit.values import Mismatch

NOT_BEHAVIOUR = {
    "In `loss.py`:": "where the code goes",
    "Errors: the given helper `_check_targets` runs at the start of `token_losses`.":
        "code handed out; the errors it raises are checked in errors_random",
}


def random_shape(rng, rank: int) -> tuple[int, ...]:
    """A shape of ``rank`` leading dimensions (1-4 each) and a vocabulary of 3-40 as the last."""
    return tuple(rng.integer(1, 4) for _ in range(rank - 1)) + (rng.integer(3, 40),)


def other_ignore_index(rng, vocab: int) -> int:
    """A valid token id (0 included, as a padding id would be) or another negative number."""
    return rng.choice([0, rng.integer(1, vocab - 1), -1, -rng.integer(2, 1000)])


@check("log_softmax on random logits of 1 to 4 dimensions and scales 0.1-30, float32 and float64: values, "
       "dtype, rows whose exp sums to 1",
       promises=["any shape, over the last dimension: the result has the same shape and dtype, and `exp` of each "
                 "row sums to 1."])
def log_softmax_random(t, rng):
    out = []
    for rank in range(1, 5):
        x = logits_of(rng, *random_shape(rng, rank), scale=rng.choice([0.1, 1.0, 5.0, 30.0]))
        y = t.log_softmax(x)
        out.append({"value": y, "row sums of exp": y.exp().sum(dim=-1)})
    wide = t.log_softmax(logits_of(rng, 2, 3).double())
    out.append({"value": wide, "dtype": str(wide.dtype)})
    return out


@check("log_softmax on logits around +-1e3 / +-1e4 with gaps of thousands in every row, mixed with -inf; "
       "along the last axis of a 3-D tensor too", compare=log_prob_compare,
       promises=["Subtract the row's maximum first, so logits like `1e4` or `-1e4` and gaps of thousands inside a "
                 "row give exact, finite log-probabilities.", "A `-inf` logit gives `-inf`."])
def log_softmax_huge_random(t, rng):
    vocab = rng.integer(3, 9)
    plain = huge_rows(rng, rng.integer(3, 6), vocab, masked=False)
    masked = huge_rows(rng, rng.integer(2, 4), vocab, masked=True)
    cube = huge_rows(rng, 6, vocab, masked=False).reshape(2, 3, vocab)
    return [with_logits(x, t.log_softmax(x)) for x in (plain, masked, cube)]


@check("no F.cross_entropy, F.nll_loss or built-in log_softmax in any of the four functions",
       promises=["No built-in `log_softmax` (`torch.logsumexp` is allowed)",
                 "None of the four functions calls `F.cross_entropy`, `F.nll_loss` or a built-in `log_softmax`."])
def no_builtin_random(t, rng):
    batch, seq, vocab = rng.integer(1, 3), rng.integer(2, 5), rng.integer(4, 20)
    logits, targets = logits_of(rng, batch, seq, vocab), targets_of(rng, (batch, seq), vocab)
    return no_builtin_losses("log_softmax / token_losses / cross_entropy / perplexity", [
        lambda: t.log_softmax(logits), lambda: t.token_losses(logits, targets),
        lambda: t.cross_entropy(logits, targets), lambda: t.perplexity(t.cross_entropy(logits, targets))])


@check("token_losses on (N, V) and (batch, seq, V) logits, some targets ignored (-100), and with a valid id and "
       "another negative number as ignore_index: -log p(target), exactly 0 where ignored",
       promises=["`logits` `(..., vocab_size)` with at least 2 dimensions, such as `(N, V)` or `(batch, seq, V)`, "
                 "and `targets` integer ids of shape `logits.shape[:-1]`.",
                 "Returns a tensor of the shape of `targets`: `-log_softmax(logits)` at the target id, at every "
                 "position, and `0.0` where the target equals `ignore_index`",
                 "`ignore_index` may be any integer, a valid token id included.",
                 "This equals `F.cross_entropy(..., reduction=\"none\")` on the flattened inputs"])
def token_losses_random(t, rng):
    n, vocab = rng.integer(2, 12), rng.integer(3, 40)
    batch, seq = rng.integer(1, 3), rng.integer(2, 6)
    flat, batched = logits_of(rng, n, vocab), logits_of(rng, batch, seq, vocab)
    custom = other_ignore_index(rng, vocab)
    valid_id = rng.integer(0, vocab - 1)
    return [t.token_losses(flat, targets_of(rng, (n,), vocab)),
            t.token_losses(batched, targets_of(rng, (batch, seq), vocab)),
            t.token_losses(batched, targets_of(rng, (batch, seq), vocab, custom), custom),
            t.token_losses(flat, targets_of(rng, (n,), vocab, valid_id), ignore_index=valid_id)]


@check("cross_entropy on (N, V) and (batch, seq, V) logits of random scale: no target ignored, some ignored, "
       "a valid id as ignore_index; a 0-dim tensor equal to F.cross_entropy",
       promises=["shapes as for `token_losses`.",
                 "A 0-dim tensor: the mean of `token_losses` over the targets that are not `ignore_index`;",
                 "ignored positions count neither in the sum nor in the number of terms.",
                 "It equals `F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=ignore_index)`",
                 "`ignore_index` may be any integer, a valid token id included."])
def cross_entropy_random(t, rng):
    n, vocab = rng.integer(2, 16), rng.integer(3, 60)
    batch, seq = rng.integer(1, 4), rng.integer(2, 8)
    scale = rng.choice([0.5, 3.0, 10.0])
    flat, batched = logits_of(rng, n, vocab, scale=scale), logits_of(rng, batch, seq, vocab, scale=scale)
    valid_id = rng.integer(0, vocab - 1)
    return [t.cross_entropy(flat, targets_of(rng, (n,), vocab, share=0.0)),
            t.cross_entropy(flat, targets_of(rng, (n,), vocab, share=rng.choice([0.2, 0.5, 0.8]))),
            t.cross_entropy(batched, targets_of(rng, (batch, seq), vocab)),
            t.cross_entropy(batched, targets_of(rng, (batch, seq), vocab, valid_id), valid_id),
            t.cross_entropy(flat.double(), targets_of(rng, (n,), vocab))]


@check("cross_entropy and token_losses on huge logits (+-1e3 / +-1e4, gaps of thousands), with targets on the "
       "far-below entries: finite and exact", compare=log_prob_compare,
       promises=["Subtract the row's maximum first, so logits like `1e4` or `-1e4` and gaps of thousands inside a "
                 "row give exact, finite log-probabilities."])
def huge_losses_random(t, rng):
    rows, vocab = rng.integer(3, 8), rng.integer(3, 9)
    logits = huge_rows(rng, rows, vocab, masked=False)
    targets = rng.randint(0, vocab, (rows,))
    targets[0] = 0  # the entry thousands below the row's best: probability 0 in float, log-probability finite
    return [with_logits(logits, t.token_losses(logits, targets)), with_logits(logits, t.cross_entropy(logits, targets))]


@check("gradients: cross_entropy's with respect to the logits equals F.cross_entropy's (ignored rows get 0); "
       "token_losses' is 0 at ignored positions",
       promises=["and is differentiable, with the same gradient.", "with zero gradient there."])
def gradient_random(t, rng):
    batch, seq, vocab = rng.integer(1, 3), rng.integer(2, 6), rng.integer(3, 30)
    logits = logits_of(rng, batch, seq, vocab)
    custom = other_ignore_index(rng, vocab)
    return [gradient_of(t.cross_entropy, logits, targets_of(rng, (batch, seq), vocab)),
            gradient_of(t.cross_entropy, logits, targets_of(rng, (batch, seq), vocab, custom), custom),
            gradient_of(t.token_losses, logits, targets_of(rng, (batch, seq), vocab))]


@check("no target to count: every target ignored, and a batch of no positions, give NaN",
       promises=["No target to count (all ignored, or none at all) gives NaN"])
def nothing_counted(t, rng):
    batch, seq, vocab = rng.integer(1, 3), rng.integer(1, 5), rng.integer(3, 20)
    custom = other_ignore_index(rng, vocab)
    return [t.cross_entropy(logits_of(rng, batch, seq, vocab), torch.full((batch, seq), IGNORE)),
            t.cross_entropy(logits_of(rng, batch, seq, vocab), torch.full((batch, seq), custom), custom),
            t.cross_entropy(logits_of(rng, 0, vocab), torch.zeros(0, dtype=torch.long)),
            # a real loss next to them, so that a function returning NaN for everything fails
            t.cross_entropy(logits_of(rng, batch, seq, vocab), targets_of(rng, (batch, seq), vocab))]


@check("the logits of a small GPT model (topic 18) with given weights: token_losses and cross_entropy, some "
       "targets ignored",
       promises=["such as `(N, V)` or `(batch, seq, V)`"])
def gpt_model_random(t, rng):
    logits, vocab = gpt_logits(rng, rng.integer(1, 3))
    targets = targets_of(rng, tuple(logits.shape[:-1]), vocab)
    return [t.token_losses(logits, targets), t.cross_entropy(logits, targets),
            t.cross_entropy(logits.flatten(0, 1), targets.flatten())]


@check("perplexity: a Python float exp(loss) for floats and 0-dim tensors (float32 with a graph, float64), "
       "inf past exp's overflow (never an error), NaN for NaN",
       promises=["`exp(loss)` as a Python `float`, for a float or a 0-dim tensor `loss`.",
                 "A loss whose `exp` overflows gives `float(\"inf\")`, never an error;", "a NaN loss gives NaN"])
def perplexity_random(t, rng):
    vocab = rng.integer(2, 60000)
    loss = rng.input(torch.tensor(rng.integer(1, 1000) / 100)).requires_grad_(True)
    out = [t.perplexity(0.0), t.perplexity(math.log(vocab)), t.perplexity(rng.integer(0, 9) + 0.25),
           t.perplexity(loss * 1), t.perplexity(rng.input(torch.tensor(3.7)).double()),
           t.perplexity(80.0 + rng.integer(0, 8)), t.perplexity(710.0 + rng.integer(0, 10**6)),
           t.perplexity(math.inf), t.perplexity(math.nan)]
    kinds = [type(v).__name__ for v in out]
    if any(k != "float" for k in kinds):
        raise Mismatch(f"perplexity returned {sorted(set(kinds) - {'float'})}: it must return a Python float")
    return out


@check("errors of token_losses and cross_entropy: wrong target shape, 1-D logits, float targets, a target "
       "outside [0, vocab_size), a negative target other than ignore_index; valid targets raise nothing",
       promises=["Logits with fewer than 2 dimensions, or targets of a shape other than `logits.shape[:-1]`, raise "
                 "`ValueError` naming the shapes.", "Targets that are not integers raise `TypeError` naming their "
                 "dtype.", "A target outside `[0, vocab_size)` that is not `ignore_index` raises `ValueError` naming "
                 "that target and `vocab_size`.", "`cross_entropy` raises the same errors."])
def errors_random(t, rng):
    vocab = rng.integer(3, 20)
    valid_id = rng.integer(0, vocab - 1)
    logits = logits_of(rng, 4, vocab)
    targets = torch.tensor([valid_id, (valid_id + 1) % vocab, valid_id, (valid_id + 2) % vocab])
    return (bad_target_cases(t.token_losses, rng, "token_losses") + bad_target_cases(t.cross_entropy, rng,
                                                                                      "cross_entropy")
            + [error_case(f"cross_entropy with ignore_index={valid_id} on targets holding it", t.cross_entropy,
                          logits, targets, valid_id)])

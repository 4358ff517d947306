"""Public checks for topic 08 - Simplified self-attention."""

import torch

from llmkit.checks import check
from llmkit.probing import Rng, error_case
from llmkit.values import Mismatch, Near, exact, same

INF = float("inf")

# Large logits on purpose: exp(1000) overflows even float64, so only a softmax
# that subtracts the maximum first gets these right.
LARGE_LOGITS = [
    [1000.0, 1001.0, 1002.0, 999.0],
    [-1000.0, -1001.0, -999.0, -1003.0],
    [0.0, -INF, 5.0, -INF],
    [1e4, -1e4, -INF, 1e4],
]


def inputs(rng: Rng, seq: int, d: int, scale: float = 1.0) -> torch.Tensor:
    """Random token vectors ``(seq, d)``: a stand-in for embedded words."""
    return rng.randn(seq, d, scale=scale)


def against_torch_softmax(got, expected, *, reveal):
    """``got["y"]`` must equal ``torch.softmax`` of the input stored with the expected value.

    The reference is recomputed here, in the grader's process, from the trusted
    copy of the probe's input - the learner's process only supplies ``y``.
    """
    if not isinstance(got, dict) or "y" not in got:
        raise Mismatch("the probe did not return the softmax output")
    truth = torch.softmax(exact(expected["x"]), dim=expected["dim"])  # float64, on the learner's input
    same(got["y"], Near(truth, expected["y"].spread), reveal=reveal, path=f"softmax(x, dim={expected['dim']})")


@check("softmax along the last axis and along axis 0 of a random matrix")
def softmax_random(t, rng):
    x = rng.randn(3, 5, scale=3.0)
    return [t.softmax(x), t.softmax(x, dim=0)]


@check("softmax of logits like +-1000, 1e4 and -inf is finite and exact (subtract the max)")
def softmax_large_logits(t, rng):
    return t.softmax(rng.input(torch.tensor(LARGE_LOGITS)))


@check("softmax agrees with torch.softmax", compare=against_torch_softmax)
def softmax_like_torch(t, rng):
    x = rng.randn(2, 3, 4, scale=4.0)
    dim = rng.choice([0, 1, 2, -1])
    return {"x": x, "dim": dim, "y": t.softmax(x, dim=dim)}


@check("attention_scores: one query's dot product with every input")
def scores(t, rng):
    x = inputs(rng, 6, 4)
    return [t.attention_scores(x[2], x), t.attention_scores(rng.randn(4), x)]


@check("context_vector: weighted sum of the input rows")
def context(t, rng):
    x = inputs(rng, 6, 4)
    weights = rng.input(torch.softmax(rng.randn(6), dim=0))  # computed here: handed over as float32
    return t.context_vector(weights, x)


@check("self_attention_loop returns (context (seq, d), weights (seq, seq))")
def loop_form(t, rng):
    context, weights = t.self_attention_loop(inputs(rng, 5, 3))
    return [context, weights]


@check("self_attention_matrix returns the loop's result, with rows of weights summing to 1")
def matrix_form(t, rng):
    context, weights = t.self_attention_matrix(inputs(rng, 5, 3))
    return [context, weights, weights.sum(dim=-1)]


@check("mismatched shapes raise ValueError naming the shapes")
def shape_errors(t, rng):
    x = inputs(rng, 5, 4)
    return [error_case("attention_scores(query (3,), inputs (5, 4))", t.attention_scores, rng.randn(3), x,
                       names=[3, 4]),
            error_case("context_vector(weights (7,), inputs (5, 4))", t.context_vector, rng.rand(7), x,
                       names=[7, 5]),
            error_case("self_attention_matrix(inputs (2, 6, 4))", t.self_attention_matrix, rng.randn(2, 6, 4),
                       names=[2, 6, 4])]

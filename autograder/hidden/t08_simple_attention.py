"""Hidden checks for topic 08 - Simplified self-attention (fresh seed every run)."""

import torch

from checks.t08_simple_attention import INF, against_torch_softmax, inputs
from llmkit.checks import check
from llmkit.probing import raises
from llmkit.values import Mismatch, same


def large_logits(rng, rows: int, cols: int) -> torch.Tensor:
    """Rows of huge logits (+-1e3, +-1e4 plus small noise) with some -inf; every row keeps a finite entry."""
    x = torch.empty(rows, cols)
    for r in range(rows):
        centre = rng.choice([1e3, -1e3, 1e4, -1e4, 5e3])
        x[r] = centre + rng.randn(cols, scale=3.0)
        masked = rng.sample(range(cols), rng.integer(0, cols - 1))
        x[r, masked] = -INF
    return rng.input(x)


def loop_matches_matrix(got, expected, *, reveal):
    """Both forms equal the reference, and the learner's two forms equal each other."""
    if not isinstance(got, list) or len(got) != 4:
        raise Mismatch("expected [loop context, loop weights, matrix context, matrix weights]")
    names = ["loop context", "loop weights", "matrix context", "matrix weights"]
    for name, g, e in zip(names, got, expected):
        same(g, e, reveal=reveal, path=name)
    same(got[2], got[0], reveal=True, path="matrix context vs loop context")
    same(got[3], got[1], reveal=True, path="matrix weights vs loop weights")


@check("softmax on huge logits (+-1e3, +-1e4) mixed with -inf: finite, exact, -inf -> 0")
def softmax_overflow(t, rng):
    x = large_logits(rng, rng.integer(3, 6), rng.integer(2, 7))
    # the same logits along axis 0 of a 3-D tensor, to catch a hard-coded axis
    cube = large_logits(rng, 6, 4).reshape(3, 2, 4).transpose(1, 2).contiguous()  # (3, 4, 2)
    return [t.softmax(x), t.softmax(x.T, dim=0), t.softmax(cube, dim=1), t.softmax(x.double())]


@check("softmax equals torch.softmax on random shapes and a random dim", compare=against_torch_softmax)
def softmax_random_dim(t, rng):
    rank = rng.integer(1, 4)
    shape = [rng.integer(1, 5) for _ in range(rank)]
    dim = rng.integer(-rank, rank - 1)
    x = rng.randn(*shape, scale=rng.choice([0.1, 1.0, 10.0, 50.0]))
    return {"x": x, "dim": dim, "y": t.softmax(x, dim=dim)}


@check("softmax: sums to 1 along dim, keeps shape and dtype, leaves its input unchanged")
def softmax_properties(t, rng):
    x = rng.randn(rng.integer(2, 5), rng.integer(2, 5), scale=20.0).double()
    dim = rng.choice([0, 1, -1, -2])
    before = x.clone()
    y = t.softmax(x, dim=dim)
    return [y.sum(dim=dim), str(y.dtype), list(y.shape), bool(torch.equal(x, before))]


@check("softmax of a slice that is all -inf is NaN (documented), other slices unaffected")
def softmax_all_masked(t, rng):
    x = rng.randn(4, rng.integer(2, 6))
    row = rng.integer(0, 3)
    x[row] = -INF
    return t.softmax(x, dim=-1)


@check("attention_scores and context_vector on random inputs; bad shapes raise ValueError")
def single_query(t, rng):
    seq, d = rng.integer(1, 8), rng.integer(1, 6)
    x = inputs(rng, seq, d)
    query = rng.randn(d)
    weights = torch.softmax(rng.randn(seq), dim=0)
    return [t.attention_scores(query, x), t.context_vector(weights, x),
            raises(t.attention_scores, rng.randn(d + 1), x),
            raises(t.attention_scores, x, x),
            raises(t.context_vector, rng.rand(seq + 1), x),
            raises(t.context_vector, weights, x[None])]


@check("matrix form equals loop form on non-symmetric weights (softmax over each query's row)",
       compare=loop_matches_matrix)
def loop_equals_matrix(t, rng):
    x = inputs(rng, rng.integer(2, 8), rng.integer(2, 6), scale=rng.choice([0.5, 1.0, 2.0]))
    loop_context, loop_weights = t.self_attention_loop(x)
    matrix_context, matrix_weights = t.self_attention_matrix(x)
    return [loop_context, loop_weights, matrix_context, matrix_weights]


@check("self-attention on large inputs (scores in the thousands) stays finite")
def large_inputs(t, rng):
    x = inputs(rng, rng.integer(3, 6), rng.integer(3, 6), scale=25.0)
    loop_context, loop_weights = t.self_attention_loop(x)
    matrix_context, matrix_weights = t.self_attention_matrix(x)
    return [loop_context, loop_weights, matrix_context, matrix_weights]


@check("weights' rows sum to 1 and each query's row is its own (weights are not symmetric)")
def weight_rows(t, rng):
    x = inputs(rng, rng.integer(3, 7), rng.integer(2, 5), scale=1.5)
    _, weights = t.self_attention_matrix(x)
    _, loop_weights = t.self_attention_loop(x)
    return [weights, weights.sum(dim=-1), loop_weights.sum(dim=-1)]


@check("a sequence of one token attends only to itself")
def single_token(t, rng):
    x = inputs(rng, 1, rng.integer(1, 5), scale=10.0)
    return [list(t.self_attention_loop(x)), list(t.self_attention_matrix(x))]


@check("self-attention on inputs that are not (seq, d) raises ValueError")
def bad_inputs(t, rng):
    d = rng.integer(2, 4)
    return [raises(t.self_attention_loop, rng.randn(2, 3, d)),
            raises(t.self_attention_matrix, rng.randn(2, 3, d)),
            raises(t.self_attention_matrix, rng.randn(d))]

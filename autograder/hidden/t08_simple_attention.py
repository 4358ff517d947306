"""Hidden checks for topic 08 - Simplified self-attention (fresh seed every run)."""

from contextlib import contextmanager

import torch
import torch.nn.functional as F

from checks.t08_simple_attention import INF, against_torch_softmax, inputs
from llmkit.checks import check
from llmkit.probing import error_case
from llmkit.values import Mismatch, same

NOT_BEHAVIOUR = {
    "In `simple_attention.py`:": "where the code goes",
    "The helper `_check_2d` is given.": "names the code handed out; the errors it raises are checked in bad_inputs",
}


def large_logits(rng, rows: int, cols: int) -> torch.Tensor:
    """Rows of huge logits (+-1e3, +-1e4 plus small noise) with some -inf.

    Every row keeps a finite entry; row 0 always has at least one -inf (``cols >= 2``).
    """
    x = torch.empty(rows, cols)
    for r in range(rows):
        centre = rng.choice([1e3, -1e3, 1e4, -1e4, 5e3])
        x[r] = centre + rng.randn(cols, scale=3.0)
        masked = rng.sample(range(cols), rng.integer(1 if r == 0 else 0, cols - 1))
        x[r, masked] = -INF
    return rng.input(x)


def loop_matches_matrix(got, expected, *, reveal):
    """Both forms equal the reference, and the learner's two forms equal each other."""
    if not isinstance(got, list) or len(got) != 4:
        raise Mismatch("expected [loop context, loop weights, matrix context, matrix weights]")
    names = ["loop context", "loop weights", "matrix context", "matrix weights"]
    for name, g, e in zip(names, got, expected):
        same(g, e, reveal=reveal, path=name)
    # the default tolerances of `same` (1e-4 relative, 1e-5 absolute): float32 rounding differences
    # between the two forms are ~1e-7 relative; a transposed or wrongly normalised form is off by O(1)
    same(got[2], got[0], reveal=True, path="matrix context vs loop context")
    same(got[3], got[1], reveal=True, path="matrix weights vs loop weights")


def each_against_torch_softmax(got, expected, *, reveal):
    """A list of ``{"x", "dim", "y"}`` cases, each judged by ``against_torch_softmax``."""
    if not isinstance(got, list) or len(got) != len(expected):
        raise Mismatch(f"expected {len(expected)} softmax cases")
    for g, e in zip(got, expected):
        against_torch_softmax(g, e, reveal=reveal)


# every built-in softmax a learner could reach for, as (owner, attribute, name shown)
BUILTIN_SOFTMAX = [
    (torch, "softmax", "torch.softmax"), (torch, "log_softmax", "torch.log_softmax"),
    (F, "softmax", "F.softmax"), (F, "log_softmax", "F.log_softmax"),
    (torch.Tensor, "softmax", "Tensor.softmax"), (torch.Tensor, "log_softmax", "Tensor.log_softmax"),
    (torch.special, "softmax", "torch.special.softmax"), (torch.special, "log_softmax", "torch.special.log_softmax"),
]


@contextmanager
def builtin_softmax_calls():
    """Record which built-in softmax functions are called inside the block (they still work)."""
    calls: list[str] = []
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in BUILTIN_SOFTMAX]

    def recording(original, shown):
        def wrapper(*args, **kwargs):
            calls.append(shown)
            return original(*args, **kwargs)
        return wrapper

    try:
        for (owner, attr, original), (_, _, shown) in zip(saved, BUILTIN_SOFTMAX):
            setattr(owner, attr, recording(original, shown))
        yield calls
    finally:
        for owner, attr, original in saved:
            setattr(owner, attr, original)


@contextmanager
def counted(function, names):
    """Count the calls ``function`` makes to the module-level functions ``names`` of its own module."""
    namespace = function.__globals__
    counts = {name: 0 for name in names}
    saved = {name: namespace.get(name) for name in names}

    def counting(name, original):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return original(*args, **kwargs)
        return wrapper

    try:
        for name in names:
            if callable(saved[name]):
                namespace[name] = counting(name, saved[name])
        yield counts
    finally:
        for name, original in saved.items():
            namespace[name] = original


@check("softmax on huge logits (+-1e3, +-1e4) mixed with -inf: finite, exact, -inf -> 0",
       promises=["Subtract the max along `dim`.", "`-inf` gives weight 0"])
def softmax_overflow(t, rng):
    x = large_logits(rng, rng.integer(3, 6), rng.integer(2, 7))
    # the same logits along axis 0 of a 3-D tensor, to catch a hard-coded axis
    cube = large_logits(rng, 6, 4).reshape(3, 2, 4).transpose(1, 2).contiguous()  # (3, 4, 2)
    return [t.softmax(x), t.softmax(x.T, dim=0), t.softmax(cube, dim=1), t.softmax(x.double())]


@check("softmax equals torch.softmax on tensors of 1 to 4 dimensions, each along a random dim",
       compare=each_against_torch_softmax, promises=["any shape."])
def softmax_random_dim(t, rng):
    cases = []
    for rank in range(1, 5):
        shape = [rng.integer(1, 5) for _ in range(rank)]
        dim = rng.integer(-rank, rank - 1)
        x = rng.randn(*shape, scale=rng.choice([0.1, 1.0, 10.0, 50.0]))
        cases.append({"x": x, "dim": dim, "y": t.softmax(x, dim=dim)})
    return cases


@check("softmax in float32 and float64: sums to 1 along dim, keeps shape and dtype, >= 0, input unchanged",
       promises=["The result has the same shape and dtype, is >= 0 and sums to 1 along `dim`.",
                 "`x` stays unchanged."])
def softmax_properties(t, rng):
    out = []
    shape = (rng.integer(2, 5), rng.integer(2, 5))
    for x in (rng.randn(*shape, scale=20.0), rng.randn(*shape, scale=20.0).double()):
        dim = rng.choice([0, 1, -1, -2])
        before = x.clone()
        y = t.softmax(x, dim=dim)
        out.append({"sums along dim": y.sum(dim=dim), "same dtype as x": y.dtype == x.dtype,
                    "shape": list(y.shape), ">= 0": bool((y >= 0).all()),
                    "x unchanged": bool(torch.equal(x, before))})
    return out


@check("softmax uses no built-in softmax (torch.softmax, F.softmax, Tensor.softmax, log_softmax)",
       promises=["No built-in softmax"])
def softmax_from_scratch(t, rng):
    x = rng.randn(rng.integer(2, 4), rng.integer(2, 5), scale=3.0)
    with builtin_softmax_calls() as calls:
        t.softmax(x, dim=rng.choice([0, -1]))
    return {"built-in softmax functions called": sorted(set(calls))}


@check("softmax of a slice that is all -inf is NaN (documented), other slices unaffected",
       promises=["a slice that is all `-inf` gives NaN"])
def softmax_all_masked(t, rng):
    x = rng.randn(4, rng.integer(2, 6))
    row = rng.integer(0, 3)
    x[row] = -INF
    return t.softmax(x, dim=-1)


@check("attention_scores and context_vector on random inputs",
       promises=["`(d,)`, `(seq, d)` -> `(seq,)`, where `scores[j]` is the dot product of `query` and `inputs[j]`",
                 "`(seq,)`, `(seq, d)` -> `(d,)`, `sum_j weights[j] * inputs[j]`"])
def single_query(t, rng):
    seq, d = rng.integer(1, 8), rng.integer(1, 6)
    x = inputs(rng, seq, d)
    query = rng.randn(d)
    weights = rng.input(torch.softmax(rng.randn(seq), dim=0))  # computed here: handed over as float32
    return [t.attention_scores(query, x), t.context_vector(weights, x)]


@check("self_attention_loop calls softmax, attention_scores and context_vector once per query",
       promises=["using an explicit Python loop over the queries that calls the three functions above"])
def loop_uses_the_three_functions(t, rng):
    seq = rng.integer(2, 7)
    x = inputs(rng, seq, rng.integer(2, 5))
    with counted(t.self_attention_loop, ("softmax", "attention_scores", "context_vector")) as counts:
        t.self_attention_loop(x)
    return {"sequence length": seq, "calls": dict(counts)}


@check("matrix form equals loop form on non-symmetric weights (softmax over each query's row)",
       compare=loop_matches_matrix,
       promises=["`(seq, d)` -> `(context (seq, d), weights (seq, seq))`",
                 "Row `i` of `weights` belongs to query `i`",
                 "the same result from `inputs @ inputs.T`, a softmax over the **last** axis, and `weights @ inputs`"])
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


@check("weights' rows sum to 1 and each query's row is its own (weights are not symmetric)",
       promises=["Row `i` of `weights` belongs to query `i`"])
def weight_rows(t, rng):
    x = inputs(rng, rng.integer(3, 7), rng.integer(2, 5), scale=1.5)
    _, weights = t.self_attention_matrix(x)
    _, loop_weights = t.self_attention_loop(x)
    return [weights, weights.sum(dim=-1), loop_weights.sum(dim=-1)]


@check("a sequence of one token attends only to itself")
def single_token(t, rng):
    x = inputs(rng, 1, rng.integer(1, 5), scale=10.0)
    return [list(t.self_attention_loop(x)), list(t.self_attention_matrix(x))]


@check("shapes that do not fit raise ValueError, and the message names the shapes",
       promises=["raise `ValueError`, and the message names the shapes."])
def bad_inputs(t, rng):
    seq, d = rng.integer(2, 7), rng.integer(2, 6)
    x = inputs(rng, seq, d)
    weights = rng.rand(seq)
    lead = rng.integer(2, 3)
    return [
        error_case(f"attention_scores(query ({d + 1},), inputs ({seq}, {d}))", t.attention_scores,
                   rng.randn(d + 1), x, names=[d + 1, d]),
        error_case(f"attention_scores(query ({seq}, {d}), inputs ({seq}, {d}))", t.attention_scores, x, x,
                   names=[seq, d]),
        error_case(f"context_vector(weights ({seq + 1},), inputs ({seq}, {d}))", t.context_vector,
                   rng.rand(seq + 1), x, names=[seq + 1, seq]),
        error_case(f"context_vector(weights ({seq},), inputs ({lead}, {seq}, {d}))", t.context_vector, weights,
                   x.expand(lead, seq, d), names=[lead, seq, d]),
        error_case(f"self_attention_loop(inputs ({lead}, {seq}, {d}))", t.self_attention_loop,
                   rng.randn(lead, seq, d), names=[lead, seq, d]),
        error_case(f"self_attention_matrix(inputs ({lead}, {seq}, {d}))", t.self_attention_matrix,
                   rng.randn(lead, seq, d), names=[lead, seq, d]),
        error_case(f"self_attention_matrix(inputs ({d},))", t.self_attention_matrix, rng.randn(d), names=[d]),
    ]

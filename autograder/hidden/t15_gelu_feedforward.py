"""Hidden checks for topic 15 - GELU and the feed-forward network (fresh seed every run)."""

import torch
import torch.nn.functional as F

from checks.t15_gelu_feedforward import (
    feedforward_with,
    module_layout,
    one_position_compare,
    one_position_probe,
    telling_inputs,
)
from llmkit.checks import check
from llmkit.probing import CallWatch, error_case
from llmkit.values import Mismatch

NOT_BEHAVIOUR = {
    "In `feedforward.py`:": "where the code goes, not what it does",
    "Hints: `math.sqrt(2 / math.pi)` is a Python float, and multiplying a tensor by a Python float keeps the "
    "tensor's dtype.": "a hint; the dtype it protects is checked in gelu_shapes_and_dtypes",
    "`x ** 3`, `x * x * x` and `torch.pow(x, 3)` are all fine.": "a hint; the reference uses x ** 3 and the "
                                                                    "alternative implementation torch.pow",
    "`nn.Linear` already works on any number of leading axes, so `forward` needs no reshaping.":
        "a hint; the shapes it covers are checked in feedforward_shapes_random",
}

# Every float answer of these checks is judged against the exact float64 GELU (llmkit.values).
# Where the tanh and the exact form differ, telling_inputs puts values on which the difference is
# 5 to 37 times the allowed error, so one form in place of the other fails on every run.

BAD_APPROXIMATIONS = ("erf", "exact", "sigmoid", "gelu_new", "quick", "relu", "approx")

# F.gelu is what nn.GELU calls too (F.gelu is torch._C._nn.gelu, however it was imported).
LIBRARY_GELU = {F.gelu: "F.gelu (or nn.GELU)"}


def gelu_inputs(rng) -> dict:
    """Inputs of random shapes and scales, large ones, tiny ones and the telling band, every run."""
    shape = [rng.integer(1, 5) for _ in range(rng.integer(1, 3))]
    sign = 2 * rng.randint(0, 2, (12,)) - 1  # integers: the same signs in the float64 runs
    return {
        "random": rng.randn(*shape, scale=rng.choice([0.5, 1.0, 2.0, 4.0])),
        "large": rng.input(sign * (10.0 + 10.0 * rng.rand(12))),  # |x| in [10, 20], both signs
        "edges": rng.input(torch.tensor([20.0, -20.0, 10.0, -10.0, 0.0])),
        "tiny": rng.randn(rng.integer(4, 10), scale=1e-3),
        "telling": telling_inputs(rng).reshape(3, -1),
    }


@check("gelu, tanh form (default and explicit): random shapes and scales, |x| from 10 to 20, values near 0 "
       "and values where the tanh and the exact form differ most",
       promises=["GELU of every element of a float tensor `x` of any shape",
                 "`approximate=\"tanh\"` (the default) gives the tanh form above, with the constants "
                 "$\\sqrt{2/\\pi}$ and `0.044715`, equal to `F.gelu(x, approximate=\"tanh\")`;",
                 "Both hold for large inputs ($\\lvert x \\rvert$ from 10 to 20) and for inputs near 0."])
def gelu_tanh_random(t, rng):
    inputs = gelu_inputs(rng)
    out = {name: t.gelu(x, "tanh") for name, x in inputs.items()}
    out["default"] = t.gelu(inputs["telling"])
    return out


@check('gelu(x, "none"), the exact erf form: random shapes and scales, |x| from 10 to 20, values near 0 and '
       "values where the tanh and the exact form differ most",
       promises=["GELU of every element of a float tensor `x` of any shape",
                 "`approximate=\"none\"` gives the exact form $\\frac{x}{2}(1 + \\mathrm{erf}(x / \\sqrt 2))$, "
                 "equal to `F.gelu(x)`.",
                 "Both hold for large inputs ($\\lvert x \\rvert$ from 10 to 20) and for inputs near 0."])
def gelu_exact_random(t, rng):
    return {name: t.gelu(x, "none") for name, x in gelu_inputs(rng).items()}


@check("gelu keeps shape and dtype: a 0-D scalar, an empty tensor, 4-D, float64, both forms",
       promises=["a 0-D scalar and an empty tensor included;",
                 "the result has the shape and the dtype of `x`."])
def gelu_shapes_and_dtypes(t, rng):
    cases = [rng.randn(scale=2.0), rng.randn(0), rng.randn(rng.integer(0, 3), 2),
             rng.randn(2, rng.integer(1, 3), 2, rng.integer(1, 4), scale=2.0),
             rng.randn(rng.integer(2, 6), scale=2.0).double()]
    out = []
    for x in cases:
        for form in ("tanh", "none"):
            y = t.gelu(x, form)
            out.append({"value": y, "shape": list(y.shape), "dtype": str(y.dtype)})
    return out


@check("gelu and FeedForward never call F.gelu / nn.GELU: the curve is written by hand",
       promises=["Write it with `torch.tanh` and `torch.erf`;", "do not call `F.gelu` or `nn.GELU`"])
def no_library_gelu(t, rng):
    x = telling_inputs(rng, 3)
    d_model = rng.integer(2, 6)
    module = feedforward_with(t, rng, d_model, approximate=rng.choice(["tanh", "none"]))
    batch = rng.randn(2, d_model)
    with CallWatch(LIBRARY_GELU) as watch:
        out = [t.gelu(x), t.gelu(x, "none"), module(batch)]
    if watch.seen:
        raise Mismatch(f"called {' and '.join(sorted(set(watch.seen)))}: the README asks for GELU written "
                       "with torch.tanh / torch.erf")
    return out


@check("an unknown approximate raises ValueError naming it and both choices (gelu, GELU, FeedForward); "
       "'tanh' and 'none' raise nothing",
       promises=["Any other `approximate` raises `ValueError` naming the value and the two choices.",
                 "An unknown `approximate` raises the `ValueError` of `GELU`",
                 "rejects an unknown `approximate` when it is built,"])
def unknown_approximation(t, rng):
    bad = rng.choice(BAD_APPROXIMATIONS)
    x = rng.randn(rng.integer(1, 4), 3)
    d_model = rng.integer(1, 6)
    return [
        error_case(f'gelu(x, approximate="{bad}")', t.gelu, x, approximate=bad, names=[bad, "tanh", "none"]),
        error_case(f'gelu(x, "{bad}") on a 0-D x', t.gelu, rng.randn(), bad, names=[bad]),
        error_case(f'GELU("{bad}")', t.GELU, bad, names=[bad]),
        error_case(f'FeedForward({d_model}, approximate="{bad}")', t.FeedForward, d_model, approximate=bad,
                   names=[bad]),
        error_case('gelu(x, approximate="tanh")', t.gelu, x, approximate="tanh"),
        error_case('gelu(x, approximate="none")', t.gelu, x, approximate="none"),
        error_case(f'FeedForward({d_model}, approximate="none")', t.FeedForward, d_model, approximate="none"),
    ]


@check("GELU module: no parameters, calls gelu with its approximate; APPROXIMATIONS is ('tanh', 'none')",
       promises=["Given: `APPROXIMATIONS = (\"tanh\", \"none\")` and the `GELU` module.",
                 "`GELU` has no parameters,", "and calls your `gelu`."])
def gelu_module(t, rng):
    x = telling_inputs(rng, 4)
    out = []
    for form in ("tanh", "none"):
        module = t.GELU(form)
        out.append({"parameters": [name for name, _ in module.named_parameters()], "output": module(x)})
    out.append(t.GELU()(x))
    out.append(list(t.APPROXIMATIONS))
    return out


@check("FeedForward layout: parameter names and shapes for hidden=None (4 * d_model) and random explicit "
       "hidden (1 and below d_model included); act applies the chosen GELU",
       promises=["three submodules: `fc = nn.Linear(d_model, hidden)`, `act = GELU(approximate)` and "
                 "`proj = nn.Linear(hidden, d_model)`, both linear layers with a bias;",
                 "`hidden=None` means `4 * d_model`.",
                 "The parameters are exactly `fc.weight` `(hidden, d_model)`, `fc.bias` `(hidden,)`, "
                 "`proj.weight` `(d_model, hidden)` and `proj.bias` `(d_model,)`.",
                 "Topic 17 builds its transformer block on `FeedForward(d_model)`, and topic 26 loads GPT-2's "
                 "weights into `fc` and `proj` by the mapping above."])
def feedforward_layout_random(t, rng):
    d_model = rng.integer(2, 24)
    z = telling_inputs(rng, 3)
    out = []
    for hidden, form in ((None, "tanh"), (rng.integer(1, d_model - 1), "none"), (1, "tanh"),
                         (rng.integer(d_model + 1, 5 * d_model), "none")):
        module = t.FeedForward(d_model) if hidden is None else t.FeedForward(d_model, hidden, approximate=form)
        out.append({**module_layout(module), "act": module.act(z)})
    out.append({**module_layout(t.FeedForward(d_model, None, "none")), "act": t.FeedForward(1, 2, "none").act(z)})
    return out


@check("FeedForward equals the reference given weights: random sizes, both GELU forms, default and explicit "
       "hidden, inputs (batch, seq, d_model)",
       promises=["`(..., d_model)` -> `(..., d_model)`: `proj(act(fc(x)))`.",
                 "The checks load their weights by these names too."])
def feedforward_random(t, rng):
    out = []
    for hidden, form in ((None, "tanh"), (rng.integer(1, 40), "none"), (rng.integer(1, 40), "tanh")):
        d_model = rng.integer(1, 16)
        module = feedforward_with(t, rng, d_model, hidden, form, scale=rng.choice([0.3, 0.5, 1.0]))
        out.append(module(rng.randn(rng.integer(1, 3), rng.integer(1, 8), d_model, scale=2.0)))
    return out


@check("FeedForward with identity weights (hidden = d_model, zero biases) is GELU itself: the chosen form "
       "sits between fc and proj",
       promises=["`(..., d_model)` -> `(..., d_model)`: `proj(act(fc(x)))`."])
def feedforward_identity(t, rng):
    d_model = rng.integer(3, 12)
    eye, zero = rng.input(torch.eye(d_model)), rng.input(torch.zeros(d_model))
    params = {"fc.weight": eye, "fc.bias": zero, "proj.weight": eye, "proj.bias": zero}
    x = telling_inputs(rng, 4)[: (12 // d_model) * d_model].reshape(-1, d_model)
    x = torch.cat([x, rng.randn(2, d_model, scale=2.0)])
    return [feedforward_with(t, rng, d_model, d_model, form, params=dict(params))(x) for form in ("tanh", "none")]


@check("FeedForward on (batch, seq, d_model), (n, d_model), a single vector and 4-D inputs; each row equals "
       "the output for that row alone",
       promises=["A batch `(batch, seq, d_model)`, a stack of vectors `(n, d_model)` and a single vector "
                 "`(d_model,)` all work"])
def feedforward_shapes_random(t, rng):
    d_model = rng.integer(1, 12)
    module = feedforward_with(t, rng, d_model, rng.choice([None, rng.integer(1, 30)]))
    batch = rng.randn(rng.integer(2, 3), rng.integer(2, 6), d_model)
    rows = batch.reshape(-1, d_model)
    return {"batch": module(batch), "rows": module(rows), "vector": module(rows[rng.integer(0, rows.shape[0] - 1)]),
            "four_d": module(rng.randn(2, 2, rng.integer(1, 4), d_model))}


@check("FeedForward changes only the output of the position whose input changed (random position, "
       "(batch, seq, d_model) and (n, d_model) inputs)", compare=one_position_compare,
       promises=["Each position is transformed on its own: changing one position of the input changes only "
                 "that position of the output."])
def feedforward_positions_random(t, rng):
    d_model = rng.integer(2, 12)
    module = feedforward_with(t, rng, d_model, rng.choice([None, rng.integer(1, 30)]))
    if rng.coin():
        x = rng.randn(rng.integer(1, 3), rng.integer(2, 8), d_model)
    else:
        x = rng.randn(rng.integer(2, 10), d_model)
    return one_position_probe(module, rng, x)

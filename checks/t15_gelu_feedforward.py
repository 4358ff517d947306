"""Public checks for topic 15 - GELU and the feed-forward network.

The helpers (weights loaded by name, inputs where the two GELU forms differ, the
"change one position" probe) are reused by the hidden checks of this topic and
of topic 16.
"""

from __future__ import annotations

import torch

from llmkit.checks import check
from llmkit.probing import Rng, error_case, load_params
from llmkit.values import Mismatch, same

# ----------------------------------------------------------------------------- inputs


def band(rng: Rng, n: int, low: float, high: float) -> torch.Tensor:
    """``n`` values uniform in ``[low, high]`` (computed, so handed over through ``rng.input``)."""
    return rng.input(low + (high - low) * rng.rand(n))


def telling_inputs(rng: Rng, n: int = 8) -> torch.Tensor:
    """Values where the tanh form and the exact form of GELU differ by far more than any tolerance.

    The two forms differ by up to 4.7e-4 near |x| = 2.7. On the negative side
    GELU itself is small, so the difference there is 5 to 37 times the allowed
    error for every x in [-3.5, -2.25] and [-1.6, -1.0]; on the positive side,
    about [2.2, 3.0], it is 1 to 1.3 times. ``n`` values from each of the three bands.
    """
    return torch.cat([band(rng, n, -3.5, -2.25), band(rng, n, -1.6, -1.0), band(rng, n, 2.2, 3.0)])


# ----------------------------------------------------------------------------- building modules


def ff_shapes(d_model: int, hidden: int) -> dict[str, tuple[int, ...]]:
    """Documented parameter names and shapes of ``FeedForward``."""
    return {"fc.weight": (hidden, d_model), "fc.bias": (hidden,),
            "proj.weight": (d_model, hidden), "proj.bias": (d_model,)}


def feedforward_with(t, rng: Rng, d_model: int, hidden: int | None = None, approximate: str = "tanh",
                     scale: float = 0.5, params: dict | None = None):
    """A learner's ``FeedForward`` with every parameter overwritten by given values."""
    if approximate in ("tanh",):  # the default: leave the argument out, as topic 17 does
        module = t.FeedForward(d_model) if hidden is None else t.FeedForward(d_model, hidden)
    else:
        module = t.FeedForward(d_model, hidden, approximate=approximate)
    if params is None:
        params = rng.params(ff_shapes(d_model, 4 * d_model if hidden is None else hidden), scale=scale)
    return load_params(module, params, "t15 FeedForward")


def module_layout(module) -> dict:
    """Parameter names with shapes: plain data."""
    return {"parameters": {name: list(p.shape) for name, p in module.named_parameters()}}


# ----------------------------------------------------------------------------- each position on its own


def one_position_probe(forward, rng: Rng, x: torch.Tensor) -> dict:
    """Outputs for ``x`` and for ``x`` with one position (one row of the last axis) replaced."""
    rows = x.reshape(-1, x.shape[-1])
    index = rng.integer(0, rows.shape[0] - 1)
    changed = rows.clone()
    changed[index] = rng.randn(x.shape[-1], scale=3.0)
    return {"position": index, "original": forward(x), "changed": forward(changed.reshape(x.shape))}


def one_position_compare(got, expected, *, reveal: bool) -> None:
    """Only the changed position's output moves; then both outputs equal the reference."""
    if not isinstance(got, dict) or set(got) != set(expected):
        raise Mismatch("expected a dict with keys 'position', 'original', 'changed'")
    for name in ("original", "changed"):
        if not isinstance(got[name], torch.Tensor) or tuple(got[name].shape) != tuple(expected[name].shape):
            shape = tuple(got[name].shape) if isinstance(got[name], torch.Tensor) else type(got[name]).__name__
            raise Mismatch(f"{name}: output shape {shape}, expected {tuple(expected[name].shape)}")
    index = expected["position"]
    width = got["original"].shape[-1]
    before = got["original"].reshape(-1, width).double()
    after = got["changed"].reshape(-1, width).double()
    moved = ~torch.isclose(before, after, rtol=1e-4, atol=1e-5, equal_nan=True)
    moved[index] = False
    if bool(moved.any()):
        other = int(torch.nonzero(moved)[0][0])
        raise Mismatch(f"changing only position {index} (counting positions row by row) changed the output at "
                       f"position {other}: every position must be transformed on its own")
    same(got["original"], expected["original"], reveal=reveal, path="output")
    same(got["changed"], expected["changed"], reveal=reveal, path="output with one position changed")


# ----------------------------------------------------------------------------- checks


@check("gelu (tanh form, the default) on a grid from -5 to 5 and on random values")
def gelu_tanh_values(t, rng):
    grid = rng.input(torch.linspace(-5.0, 5.0, 41))
    return [t.gelu(grid), t.gelu(rng.randn(3, 4, scale=2.0), "tanh"), t.gelu(telling_inputs(rng, 4), "tanh")]


@check('gelu(x, "none"), the exact erf form, on a grid from -5 to 5 and on random values')
def gelu_exact_values(t, rng):
    grid = rng.input(torch.linspace(-5.0, 5.0, 41))
    return [t.gelu(grid, "none"), t.gelu(rng.randn(3, 4, scale=2.0), "none"),
            t.gelu(telling_inputs(rng, 4), "none")]


@check("gelu keeps the shape and the dtype of its input (a 0-D scalar, a 3-D tensor, float64)")
def gelu_shape_and_dtype(t, rng):
    scalar, cube, wide = rng.randn(), rng.randn(2, 3, 4), rng.randn(5).double()
    out = [t.gelu(scalar), t.gelu(cube, "none"), t.gelu(wide)]
    return {"values": out, "shapes": [list(o.shape) for o in out], "dtypes": [str(o.dtype) for o in out]}


@check("gelu with an unknown approximate raises ValueError naming it")
def gelu_unknown(t, rng):
    x = rng.randn(3)
    return [error_case('gelu(x, approximate="erf")', t.gelu, x, approximate="erf", names=["erf"]),
            error_case('gelu(x, approximate="tanh")', t.gelu, x, approximate="tanh")]


@check("FeedForward: parameters fc.weight/bias (hidden, d_model), proj.weight/bias (d_model, hidden); "
       "hidden defaults to 4 * d_model")
def feedforward_layout(t, rng):
    return [module_layout(t.FeedForward(4)), module_layout(t.FeedForward(3, hidden=5))]


@check("FeedForward on (batch, seq, d_model) equals the reference given weights")
def feedforward_given_weights(t, rng):
    module = feedforward_with(t, rng, 6)
    return module(rng.randn(2, 5, 6))


@check('FeedForward(..., approximate="none") uses the exact GELU between the two layers')
def feedforward_exact(t, rng):
    module = feedforward_with(t, rng, 4, hidden=10, approximate="none")
    return module(rng.randn(3, 4, scale=2.0))


@check("FeedForward transforms each position on its own; (n, d_model) inputs work too",
       compare=one_position_compare)
def feedforward_positions(t, rng):
    module = feedforward_with(t, rng, 5, hidden=7)
    return one_position_probe(module, rng, rng.randn(6, 5))

"""Public checks for topic 14 - Layer normalization.

The helpers here (a module with given weights, rows whose variance is close to
eps, constant rows) are reused by the hidden checks.
"""

from __future__ import annotations

import torch

from llmkit.checks import check
from llmkit.probing import Rng, error_case, load_params


def norm_params(rng: Rng, d: int) -> dict:
    """Random ``weight`` and ``bias`` of shape ``(d,)``, by documented name (weight away from 0)."""
    return {"weight": rng.randn(d, scale=0.5), "bias": rng.randn(d, scale=0.5)}


def layer_norm_with(t, rng: Rng, d: int, eps: float | None = None, params: dict | None = None):
    """A learner's ``LayerNorm(d)`` (with ``eps`` if given) whose parameters hold given values."""
    module = t.LayerNorm(d) if eps is None else t.LayerNorm(d, eps=eps)
    return load_params(module, norm_params(rng, d) if params is None else params, "t14 LayerNorm")


def small_rows(rng: Rng, *shape: int, low: float = 1e-3, high: float = 1e-2) -> torch.Tensor:
    """Rows whose features are of size ``low .. high`` (one scale per row), so their variance is near eps=1e-5.

    ``eps`` inside or outside the square root, or no ``eps``, changes the result by a large factor.
    """
    scales = low * (high / low) ** rng.rand(*shape[:-1], 1)
    return rng.input(rng.randn(*shape) * scales)


def constant_rows(rng: Rng, rows: int, d: int) -> torch.Tensor:
    """``(rows, d)``: each row one value ``k / 4`` repeated; sums of such values are exact in any order."""
    values = torch.tensor([rng.integer(-24, 24) / 4 for _ in range(rows)])
    return rng.input(values.view(rows, 1).expand(rows, d).contiguous())


def module_layout(module) -> dict:
    """Parameter names, shapes, trainability and values; state dict keys."""
    return {"parameters": {name: {"shape": list(p.shape), "requires_grad": p.requires_grad,
                                  "is_parameter": isinstance(p, torch.nn.Parameter), "values": p.detach()}
                           for name, p in module.named_parameters()},
            "state_dict": sorted(module.state_dict())}


# ----------------------------------------------------------------------------- checks


@check("layer_norm(x, weight, bias) on (2, 3, 5) equals nn.LayerNorm's formula")
def functional(t, rng):
    x = rng.randn(2, 3, 5, scale=2.0)
    p = norm_params(rng, 5)
    return t.layer_norm(x, p["weight"], p["bias"])


@check("LayerNorm(d): parameters 'weight' (ones) and 'bias' (zeros), trainable, nothing else saved")
def parameters(t, rng):
    return [module_layout(t.LayerNorm(6)), module_layout(t.LayerNorm(1, eps=1e-3))]


@check("LayerNorm forward on (batch, seq, d_model) equals the reference given weights")
def forward_given_weights(t, rng):
    module = layer_norm_with(t, rng, 8)
    return module(rng.randn(2, 4, 8) + rng.randn(2, 4, 1, scale=3.0))


@check("a fresh LayerNorm: every row has mean 0 and standard deviation just below 1")
def fresh_module(t, rng):
    out = t.LayerNorm(10)(rng.randn(3, 10, scale=4.0)).detach()
    return [out, out.mean(dim=-1), out.std(dim=-1, unbiased=False)]


@check("a constant row gives bias (no NaN)")
def constant_row(t, rng):
    p = norm_params(rng, 8)
    return t.layer_norm(constant_rows(rng, 3, 8), p["weight"], p["bias"])


@check("rows with tiny variance: eps goes inside the square root")
def eps_inside(t, rng):
    p = norm_params(rng, 6)
    return [t.layer_norm(small_rows(rng, 4, 6), p["weight"], p["bias"]),
            t.layer_norm(small_rows(rng, 4, 6, low=0.03, high=0.05), p["weight"], p["bias"], eps=1e-3)]


@check("rows of two features: the variance divides by d (biased), not d - 1")
def biased_variance(t, rng):
    return t.layer_norm(rng.randn(5, 2), rng.input(torch.ones(2)), rng.input(torch.zeros(2)))


@check("statistics over the last axis only: each row is normalized on its own")
def per_row(t, rng):
    x = rng.randn(4, 7) * rng.input(torch.tensor([[0.1], [1.0], [10.0], [100.0]]))
    p = norm_params(rng, 7)
    return [t.layer_norm(x, p["weight"], p["bias"]), t.layer_norm(x[2], p["weight"], p["bias"])]


@check("float64 input gives a float64 result")
def float64_kept(t, rng):
    module = layer_norm_with(t, rng, 5)
    out = module(rng.randn(2, 5).double())
    return [str(out.dtype), out]


@check("a last axis other than d_model, or a weight not of shape (d,), raises ValueError naming the sizes")
def errors(t, rng):
    module = layer_norm_with(t, rng, 8)
    return [error_case("LayerNorm(8) on x of shape (2, 6)", module, rng.randn(2, 6), names=[6, 8]),
            error_case("layer_norm with weight of shape (5,) on d=4", t.layer_norm, rng.randn(3, 4),
                       torch.ones(5), torch.zeros(4), names=[5, 4])]

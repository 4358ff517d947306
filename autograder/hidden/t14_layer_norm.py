"""Hidden checks for topic 14 - Layer normalization (fresh seed every run)."""

import torch
import torch.nn.functional as F
from torch import nn

from checks.t14_layer_norm import constant_rows, layer_norm_with, module_layout, norm_params, small_rows
from llmkit.checks import check
from llmkit.probing import CallWatch, error_case, load_params
from llmkit.values import Mismatch

NOT_BEHAVIOUR = {
    "In `layer_norm.py`:": "where the code goes, not what it does",
    "The attributes `d_model` and `eps` are set for you": "given code, not a hole",
    "Hints: `x.mean(dim=-1, keepdim=True)` keeps the reduced axis": "a hint",
    "`x.var(dim=-1, unbiased=False, keepdim=True)` is the biased variance": "a hint (the biased variance itself "
                                                                           "is checked every run)",
    "plain `x.var(dim=-1)` is the unbiased one.": "a hint",
    "Check the shapes of `weight` and `bias` yourself": "a hint (the shape errors are checked every run)",
}

# The library functions the README rules out, however they are reached: nn.LayerNorm calls F.layer_norm,
# which calls torch.layer_norm; torch.native_layer_norm is the kernel underneath.
LIBRARY_SHORTCUTS = {F.layer_norm: "F.layer_norm (or nn.LayerNorm)", torch.layer_norm: "torch.layer_norm",
                     torch.native_layer_norm: "torch.native_layer_norm"}


def standard(rng, *shape: int):
    """Random rows with mean 0 and biased std exactly 1 (as drawn; d = 1 rows stay as they are).

    The spread of a row then never collapses by chance next to its offset (two draws of a 2-feature row
    can land close together), so the variance is well-conditioned and every correct formula, the
    one-pass E[x^2] - E[x]^2 included, meets the float32 tolerance.
    """
    z = rng.randn(*shape)
    if shape[-1] == 1:
        return z
    z = z - z.mean(dim=-1, keepdim=True)
    return z / z.pow(2).mean(dim=-1, keepdim=True).sqrt()


def rows(rng, *shape: int):
    """Random rows, each with its own std (0.1 .. 10) and an offset of about that size (mostly under 2x)."""
    scale = 0.1 * 100 ** rng.rand(*shape[:-1], 1)
    offset = rng.randn(*shape[:-1], 1) * scale
    return rng.input(standard(rng, *shape) * scale + offset)


def random_d(rng, low: int = 2, high: int = 48) -> int:
    return rng.integer(low, high)


@check("layer_norm on random shapes (a single vector, 2-D, 3-D and 4-D), random d, weight and bias",
       promises=["`x` of shape `(..., d)` (any number of leading axes, also a single vector `(d,)`), `weight` and "
                 "`bias` of shape `(d,)` -> `(weight * (x - mean) / sqrt(var + eps)) + bias` of `x`'s shape.",
                 "`var` is the biased variance (divide by `d`, not `d - 1`);"])
def functional_random(t, rng):
    out = []
    for shape in ((), (rng.integer(1, 6),), (rng.integer(1, 3), rng.integer(1, 5)),
                  (2, rng.integer(1, 3), rng.integer(1, 4))):
        d = random_d(rng)
        p = norm_params(rng, d)
        out.append(t.layer_norm(rows(rng, *shape, d), p["weight"], p["bias"]))
    d = rng.integer(2, 4)  # few features: d - 1 instead of d changes the result by 13% or more
    p = norm_params(rng, d)
    out.append(t.layer_norm(rows(rng, rng.integer(2, 6), d), p["weight"], p["bias"]))
    return out


@check("each position is normalized on its own: rows of very different scales, alone and in a batch",
       promises=["`mean` and `var` are taken over the last axis only, for each position on its own;"])
def per_position(t, rng):
    batch, seq, d = rng.integer(2, 4), rng.integer(2, 6), random_d(rng)
    scale = 10.0 ** rng.randint(-1, 3, (batch, seq, 1))  # 0.1 .. 100, per position
    x = rng.input(standard(rng, batch, seq, d) * scale + rng.randn(batch, seq, 1) * scale)
    p = norm_params(rng, d)
    b, s = rng.integer(0, batch - 1), rng.integer(0, seq - 1)
    return [t.layer_norm(x, p["weight"], p["bias"]), t.layer_norm(x[b, s], p["weight"], p["bias"]),
            t.layer_norm(x[:, s], p["weight"], p["bias"]), t.layer_norm(x[b], p["weight"], p["bias"])]


@check("rows whose variance is near eps (features of size 1e-3 .. 1e-2; eps=1e-5, and random eps for "
       "layer_norm and LayerNorm): eps inside the square root",
       promises=["`eps` goes inside the square root.",
                 "`layer_norm` with this module's `weight`, `bias` and `eps`"])
def eps_inside(t, rng):
    d = random_d(rng)
    p = norm_params(rng, d)
    out = [t.layer_norm(small_rows(rng, rng.integer(2, 6), d), p["weight"], p["bias"])]
    eps = rng.choice([1e-3, 1e-2, 0.1])
    near = small_rows(rng, rng.integer(2, 6), d, low=0.3 * eps ** 0.5, high=3 * eps ** 0.5)
    out.append(t.layer_norm(near, p["weight"], p["bias"], eps=eps))
    out.append(t.layer_norm(near, p["weight"], p["bias"], eps))
    module = layer_norm_with(t, rng, d, eps=eps)
    out.append(module(near).detach())
    out.append(layer_norm_with(t, rng, d)(small_rows(rng, 2, rng.integer(1, 4), d)).detach())
    return out


@check("constant rows (and every row when d == 1) give bias, never NaN; in a batch with ordinary rows",
       promises=["A constant row (variance 0, also any row when `d == 1`) gives `bias`, never NaN."])
def constant_rows_give_bias(t, rng):
    d = 2 ** rng.integer(1, 5)
    p = norm_params(rng, d)
    flat = constant_rows(rng, rng.integer(1, 4), d)
    mixed = rows(rng, 4, d)
    mixed[rng.integer(0, 3)] = constant_rows(rng, 1, d)[0]
    one = norm_params(rng, 1)
    module = layer_norm_with(t, rng, d)
    return [t.layer_norm(flat, p["weight"], p["bias"]), t.layer_norm(mixed, p["weight"], p["bias"]),
            t.layer_norm(rows(rng, rng.integer(1, 5), 1), one["weight"], one["bias"]),
            module(flat).detach()]


@check("dtype: float64 x gives float64 (with float32 or float64 weight, and from a float32 LayerNorm); "
       "float32 stays float32",
       promises=["A float64 `x` gives a float64 result, also with float32 `weight` and `bias`."])
def dtype_kept(t, rng):
    d = random_d(rng)
    p = norm_params(rng, d)
    x = rows(rng, rng.integer(1, 3), d)
    results = [t.layer_norm(x.double(), p["weight"].float(), p["bias"].float()),
               t.layer_norm(x.double(), p["weight"].double(), p["bias"].double()),
               layer_norm_with(t, rng, d)(x.double()).detach(),
               t.layer_norm(x.float(), p["weight"].float(), p["bias"].float())]
    return {"dtypes": [str(r.dtype) for r in results], "values": results}


@check("LayerNorm(d) has exactly 'weight' (ones) and 'bias' (zeros), trainable; a fresh one normalizes "
       "each row to mean 0 and std just below 1",
       promises=["two trainable `nn.Parameter`s of shape `(d_model,)`, **`weight`** filled with ones and **`bias`** "
                 "filled with zeros",
                 "A fresh `LayerNorm` is the pure normalization: every output row has mean 0 and (biased) "
                 "standard deviation just below 1."])
def init_layout(t, rng):
    d = random_d(rng, 1, 48)
    eps = rng.choice([1e-5, 1e-6, 1e-3])
    module = t.LayerNorm(d, eps=eps)
    width = random_d(rng)
    out = t.LayerNorm(width)(rows(rng, rng.integer(1, 3), rng.integer(1, 4), width)).detach()
    return [module_layout(module), module_layout(t.LayerNorm(1)), out, out.mean(dim=-1),
            out.std(dim=-1, unbiased=False)]


@check("state dicts swap with nn.LayerNorm both ways, and the outputs agree",
       promises=["and nothing else in `state_dict()`: `nn.LayerNorm(d_model)` loads its state dict, and it loads "
                 "`nn.LayerNorm`'s.",
                 "`(..., d_model)` -> the same shape:",
                 "so equal to `nn.LayerNorm(d_model, eps)` holding the same weights;"])
def torch_interchange(t, rng):
    d = random_d(rng)
    eps = rng.choice([1e-5, 1e-4, 1e-2])
    mine = layer_norm_with(t, rng, d, eps=eps)
    theirs = nn.LayerNorm(d, eps=eps)
    theirs.load_state_dict(mine.state_dict())
    other = load_params(nn.LayerNorm(d, eps=eps), norm_params(rng, d), "nn.LayerNorm")
    loaded = t.LayerNorm(d, eps=eps)
    loaded.load_state_dict(other.state_dict())
    x = rows(rng, rng.integer(1, 3), rng.integer(1, 5), d)
    single = rows(rng, d)
    with torch.no_grad():
        return [mine(x), theirs(x), loaded(x), other(x), mine(single)]


@check("gradients of a weighted sum of the outputs reach weight, bias and x, equal to the exact ones",
       promises=["gradients reach `weight`, `bias` and `x`."])
def gradients_exact(t, rng):
    d = random_d(rng)
    module = layer_norm_with(t, rng, d)
    x = rows(rng, rng.integer(1, 3), rng.integer(1, 4), d).requires_grad_(True)
    out = module(x)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != tuple(x.shape):
        raise Mismatch(f"LayerNorm({d}) returned shape {tuple(getattr(out, 'shape', ()))} for x of shape "
                       f"{tuple(x.shape)}")
    (out * rng.randn(*x.shape)).sum().backward()
    grads = {name: p.grad for name, p in module.named_parameters()}
    return {"x": x.grad, "weight": grads.get("weight"), "bias": grads.get("bias")}


@check("no F.layer_norm / nn.LayerNorm inside layer_norm or LayerNorm: written from tensor operations",
       promises=["Build it from tensor operations, without `F.layer_norm` or `nn.LayerNorm`."])
def no_library_shortcuts(t, rng):
    d = random_d(rng)
    p = norm_params(rng, d)
    module = layer_norm_with(t, rng, d)
    x = rows(rng, 2, d)
    with CallWatch(LIBRARY_SHORTCUTS) as watch, torch.no_grad():
        results = [t.layer_norm(x, p["weight"], p["bias"]), module(x)]
    if watch.seen:
        raise Mismatch(f"called {' and '.join(sorted(set(watch.seen)))}: the README asks for layer norm written "
                       "from tensor operations (mean, subtraction, square root, ...)")
    return results


@check("wrong weight / bias shapes (also ones that broadcast) and a wrong last axis raise ValueError naming "
       "the sizes; right shapes raise nothing",
       promises=["`weight` or `bias` of any shape other than `(d,)` (even one that would broadcast) -> "
                 "`ValueError` naming the wrong shape and `d`",
                 "A last axis other than `d_model` -> `ValueError` naming both sizes"])
def shape_errors(t, rng):
    d = random_d(rng, 3, 24)
    x = rows(rng, 2, d)
    w, b = norm_params(rng, d).values()
    longer = d + rng.integer(1, 5)
    module = layer_norm_with(t, rng, d)
    other = rng.choice([n for n in range(2, 30) if n != d])
    return [
        error_case(f"weight of shape ({longer},), d={d}", t.layer_norm, x, rng.randn(longer), b, names=[longer, d]),
        error_case(f"bias of shape ({d - 1},), d={d}", t.layer_norm, x, w, rng.randn(d - 1), names=[d - 1, d]),
        error_case(f"weight of shape (1,), d={d}", t.layer_norm, x, rng.randn(1), b, names=[1, d]),
        error_case(f"bias of shape (1, {d}), d={d}", t.layer_norm, x[0], w, rng.randn(1, d), names=[1, d]),
        error_case(f"LayerNorm({d}) on a last axis of {other}", module, rows(rng, 2, 3, other), names=[other, d]),
        error_case(f"LayerNorm({d}) on a last axis of 1", module, rows(rng, 3, 1), names=[1, d]),
        error_case(f"layer_norm with weight and bias of shape ({d},) on x of shape ({d},)", t.layer_norm, x[0], w, b),
        error_case(f"LayerNorm({d}) on x of shape (2, {d})", module, x),
    ]

"""Public checks for topic 16 - Shortcut connections.

The helpers (weights loaded by name, the gradient-report probe, the vanishing
gradient property) are reused by the hidden checks of this topic.
"""

from __future__ import annotations

import importlib
import math

import torch
from torch import nn

from llmkit.checks import check
from llmkit.probing import Rng, error_case, load_params
from llmkit.values import Mismatch, same

# The public sizes: 3 -> 3 -> 3 (two shortcuts), 3 -> 5 (none), 5 -> 5 (one), 5 -> 1 (none; a broadcasting
# x + out would silently give width 5 here).
SIZES = [3, 3, 3, 5, 5, 1]

# ----------------------------------------------------------------------------- building networks


def deep_shapes(sizes) -> dict[str, tuple[int, ...]]:
    """Documented parameter names and shapes of ``DeepNet(sizes, ...)``."""
    shapes = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes[f"layers.{i}.weight"] = (b, a)
        shapes[f"layers.{i}.bias"] = (b,)
    return shapes


def deep_params(rng: Rng, sizes, weight_scale: float = 0.5, bias_scale: float = 0.5) -> dict:
    """Random weights ``N(0, weight_scale^2 / fan_in)`` and biases ``N(0, bias_scale^2)``, by documented name."""
    params = {}
    for name, shape in deep_shapes(sizes).items():
        scale = weight_scale / math.sqrt(shape[1]) if name.endswith("weight") else bias_scale
        params[name] = rng.randn(*shape, scale=scale)
    return params


def deepnet_with(t, sizes, use_shortcut: bool, params: dict):
    """A learner's ``DeepNet`` with every parameter overwritten by given values."""
    return load_params(t.DeepNet(sizes, use_shortcut), dict(params), "t16 DeepNet")


def act_inputs(rng: Rng) -> torch.Tensor:
    """Values on which the tanh form of GELU and the exact one differ by 5 to 37 times the tolerance."""
    low, high = rng.rand(6), rng.rand(6)
    return rng.input(torch.cat([-3.5 + 1.25 * low, -1.6 + 0.6 * high]))


def module_layout(model, rng: Rng) -> dict:
    """Parameter names with shapes, the container types, and what ``act`` is and does: plain data."""
    layers = getattr(model, "layers", None)
    # the topic-15 package the learner's topic 16 imported (the resolver serves the same one here)
    topic_15_gelu = importlib.import_module("course.t15_gelu_feedforward").GELU
    return {"parameters": {name: list(p.shape) for name, p in model.named_parameters()},
            "layers_is_module_list": isinstance(layers, nn.ModuleList),
            "act_is_topic_15_gelu": isinstance(getattr(model, "act", None), topic_15_gelu),
            "linear_layers": [[type(m).__name__, m.in_features, m.out_features]
                              if isinstance(m, nn.Linear) else [type(m).__name__] for m in (layers or [])],
            "act": model.act(act_inputs(rng))}


# ----------------------------------------------------------------------------- gradient reports


def plain_report(report) -> dict:
    """A report as plain data: its names in order, and its values."""
    if not isinstance(report, dict):
        raise Mismatch(f"gradient_report returned a {type(report).__name__}, expected a dict")
    return {"names": list(report), "values": list(report.values())}


def report_probe(t, model, x, target) -> dict:
    """Two reports in a row on the same model, then the gradients the model holds."""
    first = plain_report(t.gradient_report(model, x, target))
    second = plain_report(t.gradient_report(model, x, target))
    grads = {name: p.grad for name, p in model.named_parameters()}
    return {"first": first, "second": second, "grads": grads}


def report_same(got, expected, *, reveal: bool, path: str = "report") -> None:
    """Names and order exactly; each mean |grad| within 1e-4 relative of its exact answer plus its spread.

    A mean absolute gradient is a positive number that may be tiny (1e-9 in the first layer of a deep plain
    net), so the default absolute tolerance of 1e-5 would accept anything there: these values are judged
    relative to their exact answer only (``atol=0``). Float32 rounding moves them by far less than 1e-4
    relative, and where they are ill-conditioned the spread (from nudged inputs) covers it.
    """
    if not isinstance(got, dict) or set(got) != {"names", "values"}:
        raise Mismatch(f"{path}: expected a dict of gradients")
    same(got["names"], expected["names"], reveal=reveal, path=f"{path} names (in named_parameters() order)")
    same(got["values"], expected["values"], reveal=reveal, path=f"{path} values", atol=0.0)


def report_compare(got, expected, *, reveal: bool) -> None:
    """Both reports of :func:`report_probe` relative to their exact answers; the held gradients as usual."""
    if not isinstance(got, dict) or set(got) != set(expected):
        raise Mismatch(f"expected a dict with keys {sorted(expected)}")
    report_same(got["first"], expected["first"], reveal=reveal, path="first report")
    report_same(got["second"], expected["second"], reveal=reveal,
                path="second report on the same model (old gradients must be cleared first)")
    same(got["grads"], expected["grads"], reveal=reveal, path="gradients left in the model")


# ----------------------------------------------------------------------------- vanishing gradients

# The property probe: 11-14 layers (the public check: 12) of equal width 3-7, small weights N(0, 0.2^2 / width)
# and biases N(0, 0.5^2). Over 8,000 seeds of the hidden probe on the reference, log10(first / last mean |grad|)
# was -17.3 to -6.9 (median -11.1) without shortcuts and -1.5 to 1.0 (median -0.3) with them. RATIO = 1e-3 sits
# 3.9 decades above the one and 1.5 decades below the other. Extrapolating the tails of those 8,000 runs, the
# reference (whose own float32 answer must pass, or the kit raises) misses the band with a probability below
# 1e-8 per run, and a correct implementation computes the same numbers as the reference.
RATIO = 1e-3


def vanishing_probe(t, rng: Rng, depth: int, width: int, batch: int) -> dict:
    """Reports of the same small-weight net of ``depth`` layers of ``width``, without and with shortcuts."""
    sizes = [width] * (depth + 1)
    params = deep_params(rng, sizes, weight_scale=0.2, bias_scale=0.5)
    x, target = rng.randn(batch, width), rng.randn(batch, width)
    return {name: plain_report(t.gradient_report(deepnet_with(t, sizes, shortcut, params), x, target))
            for name, shortcut in (("plain", False), ("shortcut", True))}


def vanishing_compare(got, expected, *, reveal: bool) -> None:
    """Plain: first layer's mean |grad| < RATIO x the last's; shortcut: not. Then equal to the reference."""
    if not isinstance(got, dict) or set(got) != {"plain", "shortcut"}:
        raise Mismatch("expected the reports of the plain and of the shortcut network")
    ratios = {}
    for name in ("plain", "shortcut"):
        values = got[name].get("values") if isinstance(got[name], dict) else None
        if not isinstance(values, list) or len(values) != len(expected[name]["values"]) or not all(
                isinstance(v, float) for v in values):
            raise Mismatch(f"{name} network: expected one float per weight matrix "
                           f"({len(expected[name]['values'])} of them)")
        ratios[name] = values[0] / values[-1] if values[-1] else math.inf
    if not ratios["plain"] < RATIO:
        raise Mismatch(f"without shortcuts the first layer's mean |grad| is {ratios['plain']:.3g} times the last "
                       f"layer's; with these small weights it should be below {RATIO:g} (vanishing gradient)")
    if not ratios["shortcut"] > RATIO:
        raise Mismatch(f"with shortcuts the first layer's mean |grad| is only {ratios['shortcut']:.3g} times the "
                       f"last layer's: the shortcuts do not carry the gradient back (is x + out used?)")
    for name in ("plain", "shortcut"):
        report_same(got[name], expected[name], reveal=reveal, path=f"{name} network report")


# ----------------------------------------------------------------------------- checks


@check("DeepNet: layers is an nn.ModuleList of nn.Linear (layers.{i}.weight/bias), act is the tanh GELU")
def layout(t, rng):
    return [module_layout(t.DeepNet(SIZES, False), rng), module_layout(t.DeepNet([2, 4], True), rng)]


@check("DeepNet without shortcuts equals the reference given weights (sizes [3, 3, 3, 5, 5, 1])")
def forward_plain(t, rng):
    model = deepnet_with(t, SIZES, False, deep_params(rng, SIZES))
    return model(rng.randn(4, 3))


@check("DeepNet with shortcuts: x + out only where the shapes match (sizes [3, 3, 3, 5, 5, 1])")
def forward_shortcut(t, rng):
    model = deepnet_with(t, SIZES, True, deep_params(rng, SIZES))
    return model(rng.randn(4, 3))


@check("DeepNet on (batch, seq, d) and on a single vector, with shortcuts")
def forward_shapes(t, rng):
    sizes = [4, 4, 2, 2]
    model = deepnet_with(t, sizes, True, deep_params(rng, sizes))
    return [model(rng.randn(2, 3, 4)), model(rng.randn(4))]


@check("gradient_report: weights only, in named_parameters() order, mean |grad| as floats",
       compare=report_compare)
def report_values(t, rng):
    model = deepnet_with(t, SIZES, rng.coin(), deep_params(rng, SIZES))
    return report_probe(t, model, rng.randn(6, 3), rng.randn(6, 1))


@check("gradient_report twice on the same model gives the same report (old gradients cleared)",
       compare=report_compare)
def report_twice(t, rng):
    sizes = [4, 4, 4]
    model = deepnet_with(t, sizes, True, deep_params(rng, sizes))
    return report_probe(t, model, rng.randn(5, 4), rng.randn(5, 4))


@check("small weights: without shortcuts the first layer's gradient is over 1000 times below the last's, "
       "with shortcuts it is not",
       compare=vanishing_compare)
def vanishing(t, rng):
    return vanishing_probe(t, rng, depth=12, width=4, batch=6)


@check("DeepNet with fewer than two sizes raises ValueError")
def too_few_sizes(t, rng):
    return [error_case("DeepNet([4], False)", t.DeepNet, [4], False),
            error_case("DeepNet([], True)", t.DeepNet, [], True),
            error_case("DeepNet([4, 2], True)", t.DeepNet, [4, 2], True)]

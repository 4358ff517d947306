"""Hidden checks for topic 16 - Shortcut connections (fresh seed every run)."""

import torch

from checks.t16_shortcuts import (
    deep_params,
    deepnet_with,
    module_layout,
    plain_report,
    report_compare,
    report_probe,
    vanishing_compare,
    vanishing_probe,
)
from llmkit.checks import check
from llmkit.probing import error_case
from llmkit.values import Mismatch

NOT_BEHAVIOUR = {
    "In `shortcuts.py` (it imports `GELU` from your topic 15):": "where the code goes; the GELU it uses is "
                                                                 "checked through act in layout_random",
    "Topic 17 uses the same `x + branch(x)` pattern inside the transformer block.": "a pointer to topic 17",
}


def mixed_sizes(rng) -> list[int]:
    """``[a, a, a, b, b, 1]``-like sizes, every run: a run of equal widths (shortcuts), a change of width,
    another run, and a last layer down to width 1 (where ``x + out`` would broadcast)."""
    a = rng.integer(2, 7)
    b = rng.choice([w for w in range(2, 9) if w != a])
    return [a] * rng.integer(2, 4) + [b] * rng.integer(2, 3) + [1]


def random_sizes(rng) -> list[int]:
    """2 to 7 sizes from a small range, so that equal neighbours (shortcuts) and changes both occur."""
    return [rng.integer(1, 5) for _ in range(rng.integer(2, 7))]


def widening_sizes(rng) -> list[int]:
    """``[1, a, a]``: the first layer widens from 1, where ``x + out`` would broadcast to the right shape."""
    a = rng.integer(2, 6)
    return [1, a, a]


def inputs_for(rng, width: int) -> list[torch.Tensor]:
    """Inputs with one, two and three axes."""
    return [rng.randn(rng.integer(1, 6), width), rng.randn(rng.integer(1, 3), rng.integer(1, 4), width),
            rng.randn(width)]


@check("DeepNet layout for random sizes: nn.ModuleList of nn.Linear(sizes[i], sizes[i+1]) with bias, "
       "parameters layers.{i}.weight/bias and nothing else, act is the tanh-form GELU",
       promises=["`layers`: an `nn.ModuleList` holding `nn.Linear(sizes[i], sizes[i + 1])`, with bias, for "
                 "every `i` from 0 to `len(sizes) - 2`, in that order.",
                 "The parameters are exactly `layers.{i}.weight` `(sizes[i + 1], sizes[i])` and "
                 "`layers.{i}.bias` `(sizes[i + 1],)`.",
                 "`act`: topic 15's `GELU()`, the tanh form.",
                 "`use_shortcut` is stored for you."])
def layout_random(t, rng):
    out = []
    for sizes, shortcut in ((mixed_sizes(rng), True), (random_sizes(rng), False), ([rng.integer(1, 9)] * 2, True)):
        model = t.DeepNet(sizes, shortcut)
        out.append({**module_layout(model, rng), "use_shortcut": model.use_shortcut})
    out.append(module_layout(t.DeepNet(tuple(random_sizes(rng)), True), rng))  # a tuple of sizes works too
    return out


@check("DeepNet forward given weights, with and without shortcuts: [a, a, a, b, b, 1]-like sizes, random "
       "sizes and [1, a, a]; inputs with one, two and three axes",
       promises=["`(..., sizes[0])` -> `(..., sizes[-1])`.",
                 "For each layer in order, `out = act(layer(x))`, the last layer included.",
                 "With `use_shortcut`, and only where `out` has the same shape as `x`, the layer's result is "
                 "`x + out`;",
                 "otherwise it is `out`.",
                 "So a layer that changes the width never gets a shortcut, and without `use_shortcut` no layer does",
                 "The checks load their weights by the parameter names above."])
def forward_random(t, rng):
    out = []
    for sizes in (mixed_sizes(rng), random_sizes(rng), widening_sizes(rng)):
        params = deep_params(rng, sizes, weight_scale=rng.choice([0.5, 1.0, 1.5]))
        for shortcut in (False, True):
            model = deepnet_with(t, sizes, shortcut, params)
            out.append([model(x) for x in inputs_for(rng, sizes[0])])
    return out


@check("only the layers that keep the width get a shortcut: the output minus the plain layer's output is "
       "the layer's input exactly there (one layer at a time, given weights)",
       promises=["With `use_shortcut`, and only where `out` has the same shape as `x`, the layer's result is "
                 "`x + out`;",
                 "So a layer that changes the width never gets a shortcut, and without `use_shortcut` no layer does"])
def one_layer_random(t, rng):
    out = []
    width = rng.integer(2, 6)
    for sizes in ([width, width], [width, width + rng.integer(1, 3)], [width, rng.integer(1, width - 1)], [1, width]):
        params = deep_params(rng, sizes)
        x = rng.randn(rng.integer(2, 5), sizes[0])
        plain, residual = (deepnet_with(t, sizes, s, params)(x) for s in (False, True))
        out.append({"plain": plain, "shortcut": residual})
    return out


@check("DeepNet with fewer than two sizes raises ValueError; one layer works",
       promises=["Fewer than two sizes (no layer at all) raises `ValueError`"])
def errors_random(t, rng):
    width = rng.integer(1, 9)
    return [error_case(f"DeepNet([{width}], ...)", t.DeepNet, [width], rng.coin()),
            error_case("DeepNet([], ...)", t.DeepNet, [], rng.coin()),
            error_case(f"DeepNet(({width},), ...)", t.DeepNet, (width,), rng.coin()),
            error_case(f"DeepNet([{width}, {width}], ...)", t.DeepNet, [width, width], True)]


@check("gradient_report equals the reference given weights (names, order, values); a second call on the same "
       "model gives the same report; the model holds this loss's gradients, biases included",
       compare=report_compare,
       promises=["clears the gradients stored in `model`, computes the mean squared error between `model(x)` and "
                 "`target` (`F.mse_loss`, averaged over all elements) and calls `backward()` once.",
                 "Returns a dict mapping the name of every parameter whose name ends in `weight` to the mean "
                 "absolute value of its gradient, as a Python `float`, in `model.named_parameters()` order;",
                 "biases are left out.",
                 "The model keeps the gradients of this one loss in `.grad`, biases included, so two calls in a "
                 "row give the same report"])
def report_random(t, rng):
    sizes = rng.choice([mixed_sizes(rng), random_sizes(rng)])
    model = deepnet_with(t, sizes, rng.coin(), deep_params(rng, sizes))
    batch = rng.integer(1, 6)
    return report_probe(t, model, rng.randn(batch, sizes[0]), rng.randn(batch, sizes[-1]))


@check("gradient_report on (batch, seq, d) inputs and on a model that already holds other gradients",
       compare=report_compare,
       promises=["clears the gradients stored in `model`,",
                 "(`F.mse_loss`, averaged over all elements)"])
def report_stale_gradients(t, rng):
    sizes = mixed_sizes(rng)
    model = deepnet_with(t, sizes, True, deep_params(rng, sizes))
    old = model(rng.randn(3, sizes[0], scale=3.0)).pow(2).sum()
    old.backward()  # gradients of another loss, left in .grad
    x = rng.randn(rng.integer(1, 3), rng.integer(2, 4), sizes[0])
    return report_probe(t, model, x, rng.randn(*x.shape[:-1], sizes[-1]))


@check("small weights, 11-14 layers (names past layers.9): without shortcuts the first layer's mean |grad| is "
       "over 1000 times below the last's, with the same weights and shortcuts it is not", compare=vanishing_compare,
       promises=["With `use_shortcut`, and only where `out` has the same shape as `x`, the layer's result is "
                 "`x + out`;"])
def vanishing_random(t, rng):
    return vanishing_probe(t, rng, depth=rng.integer(11, 14), width=rng.integer(3, 7), batch=rng.integer(4, 8))


@check("compare_shortcuts returns {'plain', 'shortcut'} reports equal to building each net after "
       "torch.manual_seed(seed) and calling gradient_report",
       promises=["Given: `compare_shortcuts(sizes, x, target, seed=0)`.",
                 "It builds your `DeepNet(sizes, False)` and `DeepNet(sizes, True)`, each right after "
                 "`torch.manual_seed(seed)`, so both start from the same weights, and returns "
                 "`{\"plain\": report, \"shortcut\": report}` with your `gradient_report`."])
def compare_shortcuts_given(t, rng):
    sizes = mixed_sizes(rng)
    x, target = rng.randn(4, sizes[0]), rng.randn(4, sizes[-1])
    seed = rng.integer(0, 10_000)
    given = t.compare_shortcuts(sizes, x, target, seed=seed)
    by_hand = {}
    for name, shortcut in (("plain", False), ("shortcut", True)):
        torch.manual_seed(seed)
        by_hand[name] = plain_report(t.gradient_report(t.DeepNet(sizes, shortcut), x, target))
    if not isinstance(given, dict) or set(given) != {"plain", "shortcut"}:
        raise Mismatch("compare_shortcuts should return {'plain': report, 'shortcut': report}")
    given = {name: plain_report(report) for name, report in given.items()}
    # initial weights depend on how __init__ draws them, so compare the learner's code with itself
    return {"names": {name: given[name]["names"] for name in given},
            "same_as_by_hand": given == by_hand}

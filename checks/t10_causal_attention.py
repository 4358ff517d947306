"""Public checks for topic 10 - Causal self-attention.

The helpers here (weights loaded by name, the "perturb the future" probe, the
dropout probe, error reports) are reused by the checks of topics 11 and 12.
"""

from __future__ import annotations

import re

import torch

from llmkit.checks import check
from llmkit.probing import Rng, contract_buffers, load_params
from llmkit.values import Mismatch, same

PROJECTIONS = ("W_query", "W_key", "W_value")


# ----------------------------------------------------------------------------- building modules


def projection_shapes(d_in: int, d_out: int, qkv_bias: bool, prefix: str = "") -> dict:
    """Documented parameter names and shapes of the three ``nn.Linear(d_in, d_out)`` projections."""
    shapes = {}
    for name in PROJECTIONS:
        shapes[f"{prefix}{name}.weight"] = (d_out, d_in)
        if qkv_bias:
            shapes[f"{prefix}{name}.bias"] = (d_out,)
    return shapes


def causal_attention_with(t, rng: Rng, d_in: int, d_out: int, context_length: int,
                          dropout: float = 0.0, qkv_bias: bool = False, scale: float = 0.5,
                          params: dict | None = None):
    """A learner's ``CausalAttention`` with every parameter overwritten by given values."""
    module = t.CausalAttention(d_in, d_out, context_length, qkv_bias=qkv_bias, dropout=dropout)
    if params is None:
        params = rng.params(projection_shapes(d_in, d_out, qkv_bias), scale=scale)
    return load_params(module, params, "t10 CausalAttention")


def module_layout(module) -> dict:
    """Parameter names with shapes, and buffer names with their values: plain data."""
    return {"parameters": {name: list(p.shape) for name, p in module.named_parameters()},
            "buffers": contract_buffers(module, ["mask"])}


# ----------------------------------------------------------------------------- causality


def future_probe(forward, rng: Rng, x: torch.Tensor) -> dict:
    """Outputs for ``x`` and for ``x`` with every position from ``split`` on replaced.

    A causal layer's outputs at positions ``< split`` cannot change.
    """
    seq = x.shape[1]
    split = rng.integer(1, seq - 1)
    perturbed = x.clone()
    perturbed[:, split:] = rng.randn(x.shape[0], seq - split, x.shape[2], scale=3.0)
    return {"split": split, "original": forward(x), "perturbed": forward(perturbed)}


def no_future_compare(got, expected, *, reveal: bool) -> None:
    """The prefix before ``split`` is unchanged by the perturbation, and both outputs match."""
    if not isinstance(got, dict) or set(got) != set(expected):
        raise Mismatch("expected a dict with keys 'split', 'original', 'perturbed'")
    split = expected["split"]
    original, perturbed = got["original"], got["perturbed"]
    for name in ("original", "perturbed"):
        if not isinstance(got[name], torch.Tensor) or tuple(got[name].shape) != tuple(expected[name].shape):
            shape = tuple(got[name].shape) if isinstance(got[name], torch.Tensor) else type(got[name]).__name__
            raise Mismatch(f"{name}: output shape {shape}, expected {tuple(expected[name].shape)}")
    before, after = original[:, :split].double(), perturbed[:, :split].double()
    changed = ~torch.isclose(before, after, rtol=1e-4, atol=1e-5, equal_nan=True)
    if bool(changed.any()):
        position = int(torch.nonzero(changed)[0][1])
        raise Mismatch(f"changing only the tokens from position {split} on changed the output at "
                       f"position {position} (max change {(before - after).abs().max().item():.3g}): "
                       "earlier positions attend to the future")
    same(original, expected["original"], reveal=reveal, path="output")
    same(perturbed, expected["perturbed"], reveal=reveal, path="output on the perturbed input")


# ----------------------------------------------------------------------------- attention weights


def causal_weights_compare(got, expected, *, reveal: bool, path: str = "weights") -> None:
    """Weights above the diagonal are exactly 0 (not just small); then equal to the reference."""
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            raise Mismatch(f"{path}: expected a list of {len(expected)} weight tensors")
        for i, (g, e) in enumerate(zip(got, expected)):
            causal_weights_compare(g, e, reveal=reveal, path=f"{path}[{i}]")
        return
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        raise Mismatch(f"{path}: shape {shape}, expected {tuple(expected.shape)}")
    seq = got.shape[-1]
    future = torch.ones(seq, seq, dtype=torch.bool).triu(1).expand_as(got)
    leaked = future & (got != 0)
    if bool(leaked.any()):
        where = tuple(int(i) for i in torch.nonzero(leaked)[0])
        raise Mismatch(f"{path}: weight {got[where].item():.3g} at index {where} is above the diagonal "
                       "(a query attending to a later key); it must be exactly 0")
    same(got, expected, reveal=reveal, path=path)


# ----------------------------------------------------------------------------- dropout


def dropped_weights(context: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Recover ``D`` from ``context = D @ values`` (values ``(batch, seq, d)`` of rank ``seq``).

    ``values`` has full row rank (``d_in, d_out >= seq``), so ``values @ pinv(values) = I`` and
    ``context @ pinv(values) = D``: the attention weights *as used*, after dropout.
    """
    return context.double() @ torch.linalg.pinv(values.double())


def uniform_dropout_probe(t_module_factory, rng: Rng, batch: int, seq: int, d_in: int, d_out: int,
                          p: float) -> dict:
    """Run a module whose queries and keys are 0 (so its weights are ``1/(i+1)``) in train mode.

    ``t_module_factory(W_value weight)`` builds the learner's module with zero
    query/key weights. Returns ``ratio[b, i, j] = D[b, i, j] * (i + 1)``, the
    used weight over the undropped one: 0 or ``1/(1-p)`` below the diagonal if
    dropout acts on the weights, 0 above it.
    """
    w_value = rng.randn(d_out, d_in, scale=0.5)
    x = rng.randn(batch, seq, d_in)
    module = t_module_factory(w_value)
    module.train()
    context = module(x)
    if not isinstance(context, torch.Tensor) or tuple(context.shape) != (batch, seq, d_out):
        shape = tuple(context.shape) if isinstance(context, torch.Tensor) else type(context).__name__
        raise Mismatch(f"train-mode output has shape {shape}, expected {(batch, seq, d_out)}")
    values = x @ w_value.T  # computed here from the given inputs, not by the learner
    used = dropped_weights(context.detach(), values)
    undropped = 1.0 / torch.arange(1, seq + 1, dtype=torch.float64).view(seq, 1)
    return {"p": p, "ratio": (used / undropped).float()}


def ratio_summary(ratio: torch.Tensor) -> dict:
    """Distinct ratios below the diagonal (rounded) and the largest magnitude above it."""
    seq = ratio.shape[-1]
    lower = torch.ones(seq, seq, dtype=torch.bool).tril().expand_as(ratio)
    distinct = sorted({round(float(r), 3) + 0.0 for r in ratio[lower]})
    upper = ratio[~lower]
    return {"distinct_ratios_below_diagonal": distinct,
            "max_above_diagonal": round(float(upper.abs().max()), 3) + 0.0 if upper.numel() else 0.0}


def dropout_property_compare(got, expected, *, reveal: bool) -> None:
    """Train-mode dropout acts on the attention weights, with rate ``p`` and scale ``1/(1-p)``."""
    p = expected["p"]
    ratio = got.get("ratio") if isinstance(got, dict) else None
    if not isinstance(ratio, torch.Tensor) or tuple(ratio.shape) != tuple(expected["ratio"].shape):
        raise Mismatch("expected {'p', 'ratio'} with the reference's shapes")
    ratio = ratio.double()
    seq = ratio.shape[-1]
    lower = torch.ones(seq, seq, dtype=torch.bool).tril().expand_as(ratio)
    kept_value = 1.0 / (1.0 - p)
    near_zero = ratio.abs() < 1e-3
    near_kept = (ratio - kept_value).abs() < 1e-3 * kept_value
    if bool((~near_zero & ~lower).any()):
        raise Mismatch("in train mode some weight above the diagonal is not 0: dropout must not "
                       "bring back masked positions")
    odd = lower & ~near_zero & ~near_kept
    if bool(odd.any()):
        where = tuple(int(i) for i in torch.nonzero(odd)[0])
        raise Mismatch(f"in train mode with dropout={p}, the weights actually used should each be 0 or "
                       f"scaled by 1/(1-p)={kept_value:.4g}; at index {where} the ratio is "
                       f"{ratio[where].item():.4g} - is dropout applied to the attention weights "
                       "(not to the values, the scores or the output)?")
    dropped = near_zero[lower].double().mean().item()
    n = int(lower.sum())
    band = 6 * (p * (1 - p) / n) ** 0.5 + 0.02
    if abs(dropped - p) > band:
        raise Mismatch(f"in train mode {dropped:.1%} of the attention weights were dropped, "
                       f"expected about {p:.0%} (dropout={p})")


# ----------------------------------------------------------------------------- errors


def _mentions(message: str, number) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(str(number))}(?![\d])", message) is not None


def error_case(case: str, fn, *args, names=()) -> dict:
    """``{"case", "error", "message", "names"}`` for ``fn(*args)``; ``names`` must appear in the message."""
    try:
        fn(*args)
    except NotImplementedError:
        raise
    except Exception as exc:  # the type and message are the output
        error, message = type(exc).__name__, str(exc)
    else:
        error, message = None, ""
    return {"case": case, "error": error, "message": message, "names": list(names)}


def expected_errors(got, expected, *, reveal: bool) -> None:
    """Each report raised the expected exception type, and its message names the given numbers."""
    if not isinstance(got, list) or len(got) != len(expected):
        raise Mismatch(f"expected a list of {len(expected)} error reports")
    for g, e in zip(got, expected):
        if e["error"] is None:
            if g["error"] is not None:
                raise Mismatch(f"{e['case']}: raised {g['error']} ({g['message']}), expected no error")
            continue
        if g["error"] != e["error"]:
            raised = f"raised {g['error']}: {g['message']}" if g["error"] else "raised nothing"
            raise Mismatch(f"{e['case']}: {raised}, expected {e['error']}")
        missing = [str(n) for n in e["names"] if not _mentions(g["message"], n)]
        if missing:
            raise Mismatch(f"{e['case']}: the message {g['message']!r} should name {' and '.join(missing)}")


# ----------------------------------------------------------------------------- checks


@check("causal_mask(n) is a bool (n, n) tensor, True strictly above the diagonal")
def mask_values(t, rng):
    return [t.causal_mask(1), t.causal_mask(4), t.causal_mask(rng.integer(5, 9))]


@check("CausalAttention: parameters W_query/W_key/W_value (+ biases), 'mask' is a buffer, not a parameter")
def layout(t, rng):
    return [module_layout(t.CausalAttention(5, 3, 6)),
            module_layout(t.CausalAttention(4, 2, 3, dropout=0.1, qkv_bias=True))]


@check("forward on (batch, seq, d_in) equals the reference given weights")
def forward_given_weights(t, rng):
    module = causal_attention_with(t, rng, 5, 4, 6, qkv_bias=rng.coin())
    return module(rng.randn(2, 6, 5))


@check("attention_weights: rows sum to 1, the upper triangle is exactly 0", compare=causal_weights_compare)
def weights_causal(t, rng):
    module = causal_attention_with(t, rng, 4, 3, 5)
    return module.attention_weights(rng.randn(2, 5, 4))


@check("sequences shorter than context_length (down to 1 token) work")
def shorter_sequences(t, rng):
    module = causal_attention_with(t, rng, 4, 3, 9)
    return [module(rng.randn(2, 3, 4)), module(rng.randn(1, 1, 4)), module.attention_weights(rng.randn(1, 6, 4))]


@check("changing later tokens leaves the outputs at earlier positions unchanged", compare=no_future_compare)
def no_future(t, rng):
    module = causal_attention_with(t, rng, 4, 3, 7)
    return future_probe(module, rng, rng.randn(2, 7, 4))


@check("in train mode dropout zeroes attention weights and scales the rest by 1/(1-p)")
def dropout_on_weights(t, rng):
    d_in, d_out, seq, p = 6, 8, 6, rng.choice([0.25, 0.5])

    def factory(w_value):
        params = {"W_query.weight": torch.zeros(d_out, d_in), "W_key.weight": torch.zeros(d_out, d_in),
                  "W_value.weight": w_value}
        return causal_attention_with(t, rng, d_in, d_out, seq, dropout=p, params=params)

    return ratio_summary(uniform_dropout_probe(factory, rng, 8, seq, d_in, d_out, p)["ratio"])


@check("seq_len > context_length raises ValueError naming both numbers", compare=expected_errors)
def too_long(t, rng):
    module = causal_attention_with(t, rng, 3, 2, 4)
    return [error_case("CausalAttention(context_length=4) on 6 tokens", module, rng.randn(1, 6, 3), names=[6, 4])]

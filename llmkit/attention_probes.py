"""Probes and comparisons shared by the attention topics (10-12) and every later
topic built on attention (the transformer block, GPT-2).

* documented parameter names of the attention modules,
* two of the learner's results that share one exact answer must agree within
  the rounding each is allowed (:func:`disagree`, no fixed tolerance): used for
  causality (perturb the future, earlier outputs must not move) and for topic
  12's weight mappings,
* dropout on attention weights: recover the weights actually used from inputs
  built to make that exact (:func:`dropout_inputs`), then test the 1/(1-p)
  scale (:data:`RATIO_TOLERANCE`) and the rate (:func:`dropout_band`, which
  gives the false-failure rate),
* multi-head outputs: block h of the features is head h.

A later topic's hidden checks import these from the kit, never from another
topic's check file.
"""

from __future__ import annotations

import inspect
import math

import torch
from torch import nn

from llmkit.probing import Rng, contract_buffers
from llmkit.values import SPREAD_FACTOR, Mismatch, Near, exact, per_item, same

PROJECTIONS = ("W_query", "W_key", "W_value")

# the tolerance llmkit.values.same applies to a float: atol + rtol * |answer| + SPREAD_FACTOR * spread
_SAME_DEFAULTS = inspect.signature(same).parameters
RTOL, ATOL = _SAME_DEFAULTS["rtol"].default, _SAME_DEFAULTS["atol"].default


def projection_shapes(d_in: int, d_out: int, qkv_bias: bool, prefix: str = "") -> dict[str, tuple[int, ...]]:
    """Documented parameter names and shapes of the three ``nn.Linear(d_in, d_out)`` projections."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name in PROJECTIONS:
        shapes[f"{prefix}{name}.weight"] = (d_out, d_in)
        if qkv_bias:
            shapes[f"{prefix}{name}.bias"] = (d_out,)
    return shapes


# ----------------------------------------------------------------------------- two results, one answer


def allowed_error(expected) -> torch.Tensor:
    """Per element, how far a correct float32 result may lie from the exact answer.

    ``expected`` is a :class:`llmkit.values.Near` (hidden checks, snapshots) or a
    plain tensor (spread 0); the bound is the one :func:`llmkit.values.same` applies.
    """
    if isinstance(expected, Near):
        truth, spread = expected.truth.double(), expected.spread.double()
    else:
        truth = expected.double()
        spread = torch.zeros_like(truth)
    return ATOL + RTOL * truth.abs() + SPREAD_FACTOR * spread


def disagree(a: torch.Tensor, b: torch.Tensor, expected_a, expected_b) -> torch.Tensor:
    """Where two of the learner's results that share one exact answer cannot both be right.

    Each correct result lies within :func:`allowed_error` of the answer, so two
    of them differ by at most the sum of their allowed errors (no fixed
    tolerance: the bound scales with the problem, like every exact-answer
    comparison). A correct implementation never trips this; a leak moves values
    by O(1). Both NaN counts as agreeing (the final comparison judges NaN).
    """
    allowed = allowed_error(expected_a) + allowed_error(expected_b)
    a, b = a.double(), b.double()
    return ~((a - b).abs() <= allowed) & ~(a.isnan() & b.isnan())


# ----------------------------------------------------------------------------- causality


def future_probe(forward, rng: Rng, x: torch.Tensor) -> dict:
    """Outputs for ``x`` and for ``x`` with every position from ``split`` on replaced.

    A causal layer's outputs at positions ``< split`` cannot change.
    """
    seq = x.shape[1]
    split = rng.integer(1, seq - 1)
    perturbed = x.clone()
    # new tokens three times larger than the inputs: a leak moves the prefix by O(1), far beyond any rounding
    perturbed[:, split:] = rng.randn(x.shape[0], seq - split, x.shape[2], scale=3.0)
    return {"split": split, "original": forward(x), "perturbed": forward(perturbed)}


def no_future_compare(got, expected, *, reveal: bool) -> None:
    """The prefix before ``split`` is unchanged by the perturbation, and both outputs match.

    "Unchanged" is judged with the exact answers' tolerance (:func:`disagree`):
    the prefix has the same exact answer in both runs, so the learner's two
    prefixes may differ only by the rounding each is allowed.
    """
    if not isinstance(got, dict) or set(got) != set(expected):
        raise Mismatch("expected a dict with keys 'split', 'original', 'perturbed'")
    split = expected["split"]
    original, perturbed = got["original"], got["perturbed"]
    for name in ("original", "perturbed"):
        if not isinstance(got[name], torch.Tensor) or tuple(got[name].shape) != tuple(expected[name].shape):
            shape = tuple(got[name].shape) if isinstance(got[name], torch.Tensor) else type(got[name]).__name__
            raise Mismatch(f"{name}: output shape {shape}, expected {tuple(expected[name].shape)}")
    prefix = (slice(None), slice(None, split))
    before, after = original[prefix], perturbed[prefix]
    changed = disagree(before, after, expected["original"][prefix], expected["perturbed"][prefix])
    if bool(changed.any()):
        position = int(torch.nonzero(changed)[0][1])
        raise Mismatch(f"changing only the tokens from position {split} on changed the output at "
                       f"position {position} (max change {(before.double() - after.double()).abs().max().item():.3g}): "
                       "earlier positions attend to the future")
    same(original, expected["original"], reveal=reveal, path="output")
    same(perturbed, expected["perturbed"], reveal=reveal, path="output on the perturbed input")


@per_item
def causal_weights_compare(got, expected, *, reveal: bool, path: str = "weights") -> None:
    """Weights above the diagonal are exactly 0 (not just small); then equal to the reference."""
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        raise Mismatch(f"{path}: shape {shape}, expected {tuple(expected.shape)}")
    seq = got.shape[-1]
    future = torch.ones(seq, seq, dtype=torch.bool).triu(1).expand_as(got)
    leaked = future & (got != 0)  # exactly 0, no tolerance: exp(-inf) is 0 in any float format
    if bool(leaked.any()):
        where = tuple(int(i) for i in torch.nonzero(leaked)[0])
        raise Mismatch(f"{path}: weight {got[where].item():.3g} at index {where} is above the diagonal "
                       "(a query attending to a later key); it must be exactly 0")
    same(got, expected, reveal=reveal, path=path)


# ----------------------------------------------------------------------------- dropout

# How the dropout probes read the weights a layer used. With zero query and key
# weights every score is 0, so row i of the undropped weights is 1/(i+1) on keys
# 0..i. The values V = x @ W_value^T (batch, seq, d) are computed by the probe;
# the layer returns D @ V, and D = output @ pinv(V) recovers the weights as
# used. The ratio D / (1/(i+1)) is 0 (dropped) or 1/(1-p) (kept) below the
# diagonal, 0 above it.
#
# Recovery error. pinv amplifies the output's float32 rounding by
# 1/sigma_min(V). Random V would give that amplification a heavy tail (an
# almost singular draw now and then), so dropout_inputs builds x with
# orthonormal rows and W_value with orthonormal columns: every V then has
# orthonormal rows, pinv(V) = V^T, and the error is a few float32 roundings of
# the output, whatever the draw. Measured on the reference and on the
# alternative implementations (every dropout probe of topics 10-12, 3000 seeds
# each): the largest deviation of a ratio from 0 or 1/(1-p) was 6.3e-7 (with
# random V it had been 2.3e-4, and unbounded in principle). RATIO_TOLERANCE =
# 1e-2 is four orders of magnitude above that (no correct layer comes near it:
# no false failures from this source), and far below what a bug does: the
# scale 1/(1-p) with p >= 0.2 is >= 0.25 away from 1 (dropout without
# rescaling), and dropout on the scores, the values or the output gives ratios
# spread over a continuum, not two values.
RATIO_TOLERANCE = 1e-2


def dropout_inputs(rng: Rng, batch: int, seq: int, d_in: int, d_out: int,
                   num_heads: int = 1) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Inputs ``x`` ``(batch, seq, d_in)`` and one ``W_value`` weight ``(d_out, d_in)`` per head.

    Rows of ``x`` are orthonormal and each weight has orthonormal columns
    (``seq <= d_in <= d_out``), so each head's values ``x @ W.T`` have
    orthonormal rows and the weights used can be read back to float32 precision
    (see above). Both are random: QR factors of Gaussian draws.
    """
    if not seq <= d_in <= d_out:
        raise ValueError(f"dropout_inputs needs seq <= d_in <= d_out, got {seq}, {d_in}, {d_out}")
    x = rng.input(torch.linalg.qr(rng.randn(batch, d_in, seq)).Q.transpose(1, 2))
    weights = [rng.input(torch.linalg.qr(rng.randn(d_out, d_in)).Q) for _head in range(num_heads)]
    return x, weights


def dropout_band(p: float, n: int) -> float:
    """Largest allowed gap between the dropped fraction of ``n`` weights and ``p``.

    The dropped count is Binomial(n, p) (nn.Dropout draws each weight
    independently), standard deviation ``sqrt(p(1-p)/n)``. Six of them, plus a
    floor of 0.02 so the band never narrows to nothing for large ``n``. Exact
    binomial tails for the probes the kit uses (n >= 168 weights below the
    diagonal, 0.2 <= p <= 0.6): a correct layer fails at most 3.7e-10 of runs
    (n = 168, p = 0.2). A wrong rate is caught once it is off by more than the
    band (0.15 to 0.25 there); a wrong *scale* is caught by the ratios.
    """
    return 6 * math.sqrt(p * (1 - p) / n) + 0.02


def dropped_weights(context: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Recover ``D`` from ``context = D @ values`` (values ``(batch, seq, d)`` of rank ``seq``).

    ``values`` has full row rank (orthonormal rows, from :func:`dropout_inputs`), so
    ``values @ pinv(values) = I`` and ``context @ pinv(values) = D``: the attention
    weights *as used*, after dropout.
    """
    return context.double() @ torch.linalg.pinv(values.double())


def head_ratios(output: torch.Tensor, values: list[torch.Tensor]) -> torch.Tensor:
    """Ratios used / undropped weight of every head, ``(batch * num_heads, seq, seq)``, float32.

    ``output`` ``(batch, seq, num_heads * head_dim)`` holds the heads' context
    vectors in head order (no output projection, or an identity one);
    ``values[h]`` ``(batch, seq, head_dim)`` is head h's values, computed by the probe.
    """
    seq = output.shape[1]
    undropped = 1.0 / torch.arange(1, seq + 1, dtype=torch.float64).view(seq, 1)
    blocks = output.detach().chunk(len(values), dim=-1)
    return torch.cat([dropped_weights(block, v) / undropped for block, v in zip(blocks, values)], dim=0).float()


def check_train_output(output, shape: tuple[int, ...]) -> None:
    """A train-mode output of the expected shape, or a :class:`Mismatch` naming what came back."""
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != tuple(shape):
        got = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise Mismatch(f"train-mode output has shape {got}, expected {tuple(shape)}")


def uniform_dropout_probe(t_module_factory, rng: Rng, batch: int, seq: int, d_in: int, d_out: int,
                          p: float) -> dict:
    """Run a module whose queries and keys are 0 (so its weights are ``1/(i+1)``) in train mode.

    ``t_module_factory(W_value weight)`` builds the learner's module with zero
    query/key weights (``seq <= d_in <= d_out``, see :func:`dropout_inputs`).
    Returns ``ratio[b, i, j] = D[b, i, j] * (i + 1)``, the
    used weight over the undropped one: 0 or ``1/(1-p)`` below the diagonal if
    dropout acts on the weights, 0 above it.
    """
    x, (w_value,) = dropout_inputs(rng, batch, seq, d_in, d_out)
    module = t_module_factory(w_value)
    module.train()
    context = module(x)
    check_train_output(context, (batch, seq, d_out))
    values = x @ w_value.T  # computed here from the given inputs, not by the learner
    return {"p": p, "ratio": head_ratios(context, [values])}


def ratio_summary(ratio: torch.Tensor) -> dict:
    """Distinct ratios below the diagonal (rounded) and the largest magnitude above it.

    Rounded to 3 decimals: the recovery error (below 1e-6, see above) is far below
    the rounding step, and 0, 1/(1-p) for the public p (0.25, 0.5: 1.333.., 2)
    lie far from a rounding boundary, so every correct implementation rounds to
    the same numbers.
    """
    seq = ratio.shape[-1]
    lower = torch.ones(seq, seq, dtype=torch.bool).tril().expand_as(ratio)
    distinct = sorted({round(float(r), 3) + 0.0 for r in ratio[lower]})
    upper = ratio[~lower]
    return {"distinct_ratios_below_diagonal": distinct,
            "max_above_diagonal": round(float(upper.abs().max()), 3) + 0.0 if upper.numel() else 0.0}


def dropout_property_compare(got, expected, *, reveal: bool) -> None:
    """Train-mode dropout acts on the attention weights, with rate ``p`` and scale ``1/(1-p)``."""
    p = exact(expected["p"])
    ratio = got.get("ratio") if isinstance(got, dict) else None
    if not isinstance(ratio, torch.Tensor) or tuple(ratio.shape) != tuple(expected["ratio"].shape):
        raise Mismatch("expected {'p', 'ratio'} with the reference's shapes")
    ratio = ratio.double()
    seq = ratio.shape[-1]
    lower = torch.ones(seq, seq, dtype=torch.bool).tril().expand_as(ratio)
    kept_value = 1.0 / (1.0 - p)
    near_zero = ratio.abs() < RATIO_TOLERANCE
    near_kept = (ratio - kept_value).abs() < RATIO_TOLERANCE * kept_value
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
    if abs(dropped - p) > dropout_band(p, n):
        raise Mismatch(f"in train mode {dropped:.1%} of the attention weights were dropped, "
                       f"expected about {p:.0%} (dropout={p})")


# ----------------------------------------------------------------------------- multi-head layout


def wrapper_shapes(d_in: int, head_dim: int, num_heads: int, qkv_bias: bool) -> dict:
    """Documented parameter names and shapes of topic 11's wrapper: ``heads.{h}.W_query.weight`` ..."""
    shapes = {}
    for h in range(num_heads):
        shapes.update(projection_shapes(d_in, head_dim, qkv_bias, prefix=f"heads.{h}."))
    return shapes


@per_item
def head_blocks_compare(got, expected, *, reveal: bool, path: str = "output") -> None:
    """Output block ``h`` (features ``h*head_dim`` to ``(h+1)*head_dim - 1``) must be head ``h``'s output.

    ``expected`` is ``{"num_heads", "output"}`` (or a list of those). A block
    equal to another head's output is reported as a head-order problem.
    """
    if not isinstance(got, dict):
        raise Mismatch(f"{path}: expected a dict with keys 'num_heads', 'output'")
    out, ref, num_heads = got.get("output"), expected["output"], expected["num_heads"]
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != tuple(ref.shape):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise Mismatch(f"{path}: shape {shape}, expected {tuple(ref.shape)} = (batch, seq, num_heads * head_dim)")
    head_dim = out.shape[-1] // num_heads
    got_blocks = out.chunk(num_heads, dim=-1)
    ref_blocks = [ref[..., h * head_dim:(h + 1) * head_dim] for h in range(num_heads)]

    def equal(a, b):
        try:
            same(a, b)
        except Mismatch:
            return False
        return True

    for h, block in enumerate(got_blocks):
        if equal(block, ref_blocks[h]):
            continue
        other = next((k for k, r in enumerate(ref_blocks) if k != h and equal(block, r)), None)
        if other is not None:
            raise Mismatch(f"{path}: features of block {h} hold head {other}'s output - concatenate the "
                           "heads in order (head 0 first) along the last axis")
        same(block, ref_blocks[h], reveal=reveal, path=f"{path} block of head {h}")


def module_layout(module) -> dict:
    """Parameter names with shapes, buffer names with their values, the dropout submodule: plain data."""
    dropout = getattr(module, "dropout", None)
    return {"parameters": {name: list(p.shape) for name, p in module.named_parameters()},
            "buffers": contract_buffers(module, ["mask"]),
            "dropout": {"is an nn.Dropout": isinstance(dropout, nn.Dropout),
                        "rate": getattr(dropout, "p", None) if isinstance(dropout, nn.Dropout) else None}}

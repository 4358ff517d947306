"""Probes and comparisons shared by the attention topics (10-12) and every later
topic built on attention (the transformer block, GPT-2).

* documented parameter names of the attention modules,
* causality: perturb the future, earlier outputs must not move,
* dropout on attention weights: recover the weights actually used, test the
  rate and the 1/(1-p) scale statistically,
* multi-head outputs: block h of the features is head h.

A later topic's hidden checks import these from the kit, never from another
topic's check file.
"""

from __future__ import annotations

import torch

from llmkit.probing import Rng
from llmkit.values import Mismatch, exact, same

PROJECTIONS = ("W_query", "W_key", "W_value")


def projection_shapes(d_in: int, d_out: int, qkv_bias: bool, prefix: str = "") -> dict:
    """Documented parameter names and shapes of the three ``nn.Linear(d_in, d_out)`` projections."""
    shapes = {}
    for name in PROJECTIONS:
        shapes[f"{prefix}{name}.weight"] = (d_out, d_in)
        if qkv_bias:
            shapes[f"{prefix}{name}.bias"] = (d_out,)
    return shapes


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
    p = exact(expected["p"])
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


def wrapper_shapes(d_in: int, d_head: int, num_heads: int, qkv_bias: bool) -> dict:
    """Documented parameter names and shapes: ``heads.{h}.W_query.weight`` ..."""
    shapes = {}
    for h in range(num_heads):
        shapes.update(projection_shapes(d_in, d_head, qkv_bias, prefix=f"heads.{h}."))
    return shapes


def head_blocks_compare(got, expected, *, reveal: bool, path: str = "output") -> None:
    """Output block ``h`` (features ``h*d_head .. (h+1)*d_head-1``) must be head ``h``'s output.

    ``expected`` is ``{"num_heads", "output"}`` (or a list of those). A block
    equal to another head's output is reported as a head-order problem.
    """
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            raise Mismatch(f"{path}: expected a list of {len(expected)} results")
        for i, (g, e) in enumerate(zip(got, expected)):
            head_blocks_compare(g, e, reveal=reveal, path=f"{path}[{i}]")
        return
    if not isinstance(got, dict):
        raise Mismatch(f"{path}: expected a dict with keys 'num_heads', 'output'")
    out, ref, heads = got.get("output"), expected["output"], expected["num_heads"]
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != tuple(ref.shape):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise Mismatch(f"{path}: shape {shape}, expected {tuple(ref.shape)} = (batch, seq, num_heads * d_out)")
    width = out.shape[-1] // heads
    got_blocks = out.chunk(heads, dim=-1)
    ref_blocks = [ref[..., h * width:(h + 1) * width] for h in range(heads)]

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

"""Public checks for topic 17 - Transformer block.

The helpers here (documented parameter names, given weights, the zero-projection
probe that shows where the normalization and the dropout act) are reused by
the hidden checks of this topic.
"""

from __future__ import annotations

import torch

from llmkit.attention_probes import future_probe, no_future_compare, projection_shapes
from llmkit.checks import check
from llmkit.probing import Rng, error_case, load_params, seeded
from llmkit.values import Mismatch, exact, same

# ----------------------------------------------------------------------------- building blocks


def block_shapes(d_model: int, qkv_bias: bool, prefix: str = "") -> dict[str, tuple[int, ...]]:
    """Documented parameter names and shapes of ``TransformerBlock(d_model, ...)``."""
    d, hidden = d_model, 4 * d_model
    shapes = {f"{prefix}norm1.weight": (d,), f"{prefix}norm1.bias": (d,)}
    shapes.update(projection_shapes(d, d, qkv_bias, prefix=f"{prefix}attn."))
    shapes.update({
        f"{prefix}attn.out_proj.weight": (d, d), f"{prefix}attn.out_proj.bias": (d,),
        f"{prefix}norm2.weight": (d,), f"{prefix}norm2.bias": (d,),
        f"{prefix}ff.fc.weight": (hidden, d), f"{prefix}ff.fc.bias": (hidden,),
        f"{prefix}ff.proj.weight": (d, hidden), f"{prefix}ff.proj.bias": (d,),
    })
    return shapes


def block_params(rng: Rng, d_model: int, qkv_bias: bool) -> dict[str, torch.Tensor]:
    """Random values for every block parameter, scaled so activations stay O(1).

    Matrices get ``1/sqrt(fan_in)``; LayerNorm scales and shifts and all biases
    get 0.5 (a LayerNorm weight far from 1 shows whether it is applied at all).
    """
    params = {}
    for name, shape in block_shapes(d_model, qkv_bias).items():
        scale = shape[1] ** -0.5 if len(shape) == 2 else 0.5
        params[name] = rng.randn(*shape, scale=scale)
    return params


def block_with(t, rng: Rng, d_model: int, num_heads: int, context_length: int, dropout: float = 0.0,
               qkv_bias: bool = False, params: dict | None = None):
    """A learner's ``TransformerBlock`` with every parameter overwritten by given values."""
    block = t.TransformerBlock(d_model, num_heads, context_length, dropout, qkv_bias)
    if params is None:
        params = block_params(rng, d_model, qkv_bias)
    return load_params(block, params, "t17 TransformerBlock")


def layout(block) -> dict:
    """Parameter names with their shapes: plain data."""
    return {name: list(p.shape) for name, p in block.named_parameters()}


# ----------------------------------------------------------------------------- the zero-projection probe


def zero_projection_params(rng: Rng, d_model: int, qkv_bias: bool) -> dict[str, torch.Tensor]:
    """Block parameters with both output projections zero and well-separated output biases.

    Then ``attn(.) = b_attn`` and ``ff(.) = b_ff`` whatever they read, so a pre-LN
    block returns ``x + drop(b_attn) + drop(b_ff)``. ``b_attn`` lies in [1, 2) and
    ``b_ff`` in [4, 6): the four sums 0, b_attn, b_ff, b_attn + b_ff (each over 1-p)
    are at least 1 apart, so every feature of ``y - x`` tells which branch kept it.
    """
    params = block_params(rng, d_model, qkv_bias)
    params["attn.out_proj.weight"] = torch.zeros(d_model, d_model)
    params["ff.proj.weight"] = torch.zeros(d_model, 4 * d_model)
    params["attn.out_proj.bias"] = rng.input(1.0 + rng.rand(d_model))
    params["ff.proj.bias"] = rng.input(4.0 + 2.0 * rng.rand(d_model))
    return params


def zero_projection_probe(t, rng: Rng, batch: int, seq: int, d_model: int, num_heads: int, context: int,
                          dropout: float, qkv_bias: bool, train: bool) -> dict:
    """``y - x`` of a block whose output projections are zero, with the two output biases."""
    params = zero_projection_params(rng, d_model, qkv_bias)
    block = block_with(t, rng, d_model, num_heads, context, dropout, qkv_bias, params=params)
    block.train(train)
    x = rng.randn(batch, seq, d_model, scale=2.0)
    with seeded(rng):
        y = block(x)
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != tuple(x.shape):
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise Mismatch(f"output shape {shape}, expected the input's {tuple(x.shape)}")
    return {"p": dropout, "b_attn": params["attn.out_proj.bias"], "b_ff": params["ff.proj.bias"],
            "delta": (y - x).detach()}


def shortcut_compare(got, expected, *, reveal: bool) -> None:
    """Eval mode, zero output projections: ``y - x`` is exactly ``b_attn + b_ff`` at every position."""
    try:
        same(got["delta"], expected["delta"], reveal=reveal, path="output - input")
    except Mismatch as exc:
        raise Mismatch(f"{exc} - with attn.out_proj.weight and ff.proj.weight set to 0, a pre-LN block "
                       "returns x + attn.out_proj.bias + ff.proj.bias: is the sum normalized (post-LN), "
                       "a shortcut missing, or dropout active in eval mode?") from None


# Train mode: each feature of y - x decodes into the two branches' dropout masks. The counts are
# binomial: with n features per branch and rate p, the dropped share has standard deviation
# sqrt(p(1-p)/n); the share of features where the two masks agree, with q = p^2 + (1-p)^2,
# sqrt(q(1-q)/n). Each is allowed 6 standard deviations + 0.01. The exact binomial tail of that band
# is < 1e-9 for every p in {0.2, 0.3, 0.5, 0.6} at n >= 288 (the probes use n >= 288): a correct block
# fails one of the three statistics of a run with probability < 3e-9. A wrong rate (a fixed 0.1 where
# p >= 0.2 is asked) or one mask shared by both branches (agreement 1) misses by far more.
BAND_SIGMAS = 6.0


def branch_dropout_compare(got, expected, *, reveal: bool) -> None:
    """Train mode: dropout on each branch's output, two independent draws at rate p, scale 1/(1-p)."""
    p = float(exact(expected["p"]))
    b_attn, b_ff = exact(expected["b_attn"]).double(), exact(expected["b_ff"]).double()
    delta = got.get("delta") if isinstance(got, dict) else None
    if not isinstance(delta, torch.Tensor) or tuple(delta.shape) != tuple(expected["delta"].shape):
        raise Mismatch(f"expected y - x of shape {tuple(expected['delta'].shape)}")
    delta = delta.double()
    scale = 1.0 / (1.0 - p)
    candidates = torch.stack([torch.zeros_like(b_attn), b_attn, b_ff, b_attn + b_ff]) * scale  # (4, d)
    distance = (delta.unsqueeze(-2) - candidates).abs()          # (batch, seq, 4, d)
    best = distance.argmin(dim=-2)                               # (batch, seq, d)
    fits = distance.min(dim=-2).values <= 1e-3 * (1.0 + candidates.abs().max())
    if not bool(fits.all()):
        where = tuple(int(i) for i in torch.nonzero(~fits)[0])
        unscaled = (delta - (b_attn + b_ff)).abs().max().item() < 1e-3
        hint = ("no dropout reached the branch outputs: in train mode each branch's output must go "
                "through dropout before it is added" if unscaled else
                "dropout must act on each branch's output before the addition, not on the sum x + f(x), "
                "not on the stream x, and the sum must not be normalized")
        raise Mismatch(f"with zero output projections in train mode (dropout={p}), y - x at index {where} is "
                       f"{delta[where].item():.4g}, which is none of 0, b_attn/(1-p), b_ff/(1-p), "
                       f"(b_attn+b_ff)/(1-p): {hint}")
    kept_attn = ((best == 1) | (best == 3)).double()
    kept_ff = ((best == 2) | (best == 3)).double()
    n = best.numel()
    for what, kept in (("attention", kept_attn), ("feed-forward", kept_ff)):
        dropped = 1.0 - kept.mean().item()
        band = BAND_SIGMAS * (p * (1 - p) / n) ** 0.5 + 0.01
        if abs(dropped - p) > band:
            raise Mismatch(f"in train mode {dropped:.1%} of the {what} branch's outputs were dropped, "
                           f"expected about {p:.0%} (dropout={p})")
    agree = (kept_attn == kept_ff).double().mean().item()
    want = p * p + (1 - p) * (1 - p)
    band = BAND_SIGMAS * (want * (1 - want) / n) ** 0.5 + 0.01
    if abs(agree - want) > band:
        raise Mismatch(f"the two branches' dropout masks agree on {agree:.1%} of the features, expected about "
                       f"{want:.0%} for two independent draws: draw a fresh mask for each branch")


def too_long_case(t, rng: Rng, d_model: int, num_heads: int, context: int, longer: int) -> dict:
    block = block_with(t, rng, d_model, num_heads, context)
    return error_case(f"TransformerBlock(context_length={context}) on {longer} tokens", block,
                      rng.randn(1, longer, d_model), names=[longer, context])


# ----------------------------------------------------------------------------- checks


@check("parameters: norm1, attn (W_query/W_key/W_value, out_proj), norm2, ff (fc, proj) with documented shapes")
def parameter_layout(t, rng):
    return [layout(t.TransformerBlock(8, 2, 6)), layout(t.TransformerBlock(12, 3, 5, 0.1, True))]


@check("forward equals the reference given weights (eval mode)")
def forward_given_weights(t, rng):
    block = block_with(t, rng, 12, 3, 7, dropout=0.2, qkv_bias=rng.coin()).eval()
    return block(rng.randn(2, 7, 12))


@check("(batch, seq, d_model) -> same shape, for sequences down to 1 token")
def shorter_sequences(t, rng):
    block = block_with(t, rng, 8, 2, 9).eval()
    return [block(rng.randn(3, 4, 8)), block(rng.randn(1, 1, 8))]


@check("pre-LN shortcuts: with zero output projections the block returns x + out_proj.bias + ff.proj.bias",
       compare=shortcut_compare)
def zero_projections(t, rng):
    return zero_projection_probe(t, rng, 2, 5, 8, 2, 6, dropout=0.3, qkv_bias=True, train=False)


@check("changing later tokens leaves the block's outputs at earlier positions unchanged",
       compare=no_future_compare)
def no_future(t, rng):
    block = block_with(t, rng, 8, 2, 7).eval()
    return future_probe(block, rng, rng.randn(2, 7, 8))


@check("train mode: dropout on each branch's output (two independent draws), never on the sum",
       compare=branch_dropout_compare)
def branch_dropout(t, rng):
    return zero_projection_probe(t, rng, 4, 8, 12, 3, 8, dropout=0.5, qkv_bias=False, train=True)


@check("eval mode switches dropout off")
def eval_mode(t, rng):
    block = block_with(t, rng, 8, 2, 6, dropout=0.6).eval()
    return block(rng.randn(2, 6, 8))


@check("seq > context_length raises ValueError naming both numbers")
def too_long(t, rng):
    return [too_long_case(t, rng, 8, 2, 4, 6)]

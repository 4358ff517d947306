"""Public checks for topic 12 - Multi-head attention II (fused)."""

from __future__ import annotations

import importlib

import torch
import torch.nn.functional as F

from llmkit.attention_probes import (
    disagree,
    future_probe,
    no_future_compare,
    projection_shapes,
    wrapper_shapes,
)
from llmkit.checks import check
from llmkit.probing import Rng, contract_buffers, error_case, load_params
from llmkit.values import Mismatch, same


def mha_shapes(d_in: int, d_out: int, qkv_bias: bool) -> dict:
    """Documented parameter names and shapes of ``MultiHeadAttention``."""
    return {**projection_shapes(d_in, d_out, qkv_bias),
            "out_proj.weight": (d_out, d_out), "out_proj.bias": (d_out,)}


def mha_with(t, rng: Rng, d_in: int, d_out: int, context_length: int, num_heads: int,
             dropout: float = 0.0, qkv_bias: bool = False, params: dict | None = None):
    """A learner's ``MultiHeadAttention`` with every parameter overwritten; returns (module, params)."""
    module = t.MultiHeadAttention(d_in, d_out, context_length, dropout, num_heads, qkv_bias=qkv_bias)
    if params is None:
        params = rng.params(mha_shapes(d_in, d_out, qkv_bias))
    return load_params(module, params, "t12 MultiHeadAttention"), params


def identity_out_proj(d_out: int) -> dict:
    return {"out_proj.weight": torch.eye(d_out), "out_proj.bias": torch.zeros(d_out)}


def linear(x: torch.Tensor, params: dict, name: str) -> torch.Tensor:
    return F.linear(x, params[f"{name}.weight"], params.get(f"{name}.bias"))


def sdpa_reference(params: dict, x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """PyTorch's own causal attention on the given projections, then the given out_proj.

    Computed from the given weights only - independent of the learner's code.
    """
    batch, seq, _ = x.shape

    def split(name):
        projected = linear(x, params, name)
        return projected.view(batch, seq, num_heads, -1).transpose(1, 2)

    context = F.scaled_dot_product_attention(split("W_query"), split("W_key"), split("W_value"), is_causal=True)
    return linear(context.transpose(1, 2).reshape(batch, seq, -1), params, "out_proj")


def sdpa_compare(got, expected, *, reveal: bool) -> None:
    """The learner's output equals ``F.scaled_dot_product_attention`` (is_causal=True) + out_proj."""
    if not isinstance(got, dict) or "mha" not in got:
        raise Mismatch("expected a dict with key 'mha'")
    same(got["mha"], expected["sdpa"], reveal=reveal, path="MultiHeadAttention vs F.scaled_dot_product_attention")


def wrapper_class():
    """Topic 11's wrapper, resolved like any other import of course.t11 (learner's or reference)."""
    return importlib.import_module("course.t11_multihead_wrapper").MultiHeadAttentionWrapper


def params_of(module) -> dict:
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def wrapper_to_fused_probe(t, rng: Rng, d_in: int, head_dim: int, context: int, num_heads: int,
                           qkv_bias: bool, batch: int = 2) -> dict:
    """A wrapper with given weights, mapped by ``wrapper_to_fused``: both outputs, the fused weights and mask."""
    wrapper = wrapper_class()(d_in, head_dim, context, 0.0, num_heads, qkv_bias=qkv_bias)
    load_params(wrapper, rng.params(wrapper_shapes(d_in, head_dim, num_heads, qkv_bias)),
                "t11 MultiHeadAttentionWrapper")
    x = rng.randn(batch, rng.integer(1, context), d_in)
    fused = t.wrapper_to_fused(wrapper)
    fused.eval()
    return {"wrapper": wrapper(x), "fused": fused(x), "fused_parameters": params_of(fused),
            "fused_buffers": contract_buffers(fused, ["mask"])}


def fused_to_wrapper_probe(t, rng: Rng, d_in: int, d_out: int, context: int, num_heads: int,
                           qkv_bias: bool, batch: int = 2) -> dict:
    """A fused module with given weights (random out_proj), mapped by ``fused_to_wrapper``.

    ``out_proj(wrapper(x))`` is computed here with the given out_proj weights;
    it must equal ``mha(x)``.
    """
    mha, params = mha_with(t, rng, d_in, d_out, context, num_heads, qkv_bias=qkv_bias)
    x = rng.randn(batch, rng.integer(1, context), d_in)
    wrapper = t.fused_to_wrapper(mha)
    wrapper.eval()
    return {"mha": mha(x), "out_proj_of_wrapper": linear(wrapper(x), params, "out_proj"),
            "wrapper_parameters": params_of(wrapper), "wrapper_buffers": contract_buffers(wrapper, ["mask"])}


def mapping_compare(got, expected, *, reveal: bool) -> None:
    """Both outputs agree (the mapping preserves the function), then everything equals the reference.

    "Agree" is judged with the exact answers' tolerance: both outputs have the
    same exact answer, so they may differ only by the rounding each is allowed
    (``llmkit.attention_probes.disagree``). A list is judged item by item.
    """
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            raise Mismatch(f"expected a list of {len(expected)} results")
        for g, e in zip(got, expected):
            mapping_compare(g, e, reveal=reveal)
        return
    if not isinstance(got, dict) or set(got) != set(expected):
        raise Mismatch(f"expected a dict with keys {sorted(expected)}")
    first, second = ("wrapper", "fused") if "wrapper" in expected else ("mha", "out_proj_of_wrapper")
    a, b = got[first], got[second]
    if (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
            and tuple(a.shape) == tuple(expected[first].shape)):
        apart = disagree(a, b, expected[first], expected[second])
        if bool(apart.any()):
            raise Mismatch(f"after the weight mapping, {first} and {second} differ by up to "
                           f"{(a.double() - b.double()).abs().max().item():.3g}: the mapping does not "
                           "preserve the computation (head order? out_proj?)")
    same(got, expected, reveal=reveal)


# ----------------------------------------------------------------------------- checks


@check("split_heads: (batch, seq, d) -> (batch, num_heads, seq, d / num_heads); merge_heads undoes it")
def split_merge(t, rng):
    x = torch.arange(2 * 3 * 6, dtype=torch.float32).view(2, 3, 6)
    split = t.split_heads(x, 3)
    return {"split": split, "merged": t.merge_heads(split),
            "merge_random": t.merge_heads(rng.randn(2, 4, 3, 2))}


@check("parameters W_query/W_key/W_value (d_out, d_in), out_proj (d_out, d_out) + bias; 'mask' is a buffer")
def layout(t, rng):
    out = []
    for args in ((4, 6, 5, 0.0, 3), (3, 4, 2, 0.1, 2, True)):
        module = t.MultiHeadAttention(*args)
        out.append({"parameters": {n: list(p.shape) for n, p in module.named_parameters()},
                    "buffers": contract_buffers(module, ["mask"])})
    return out


@check("forward equals the reference given weights")
def forward_given_weights(t, rng):
    module, _ = mha_with(t, rng, 5, 6, 6, 3, qkv_bias=rng.coin())
    return module(rng.randn(2, 6, 5))


@check("equals F.scaled_dot_product_attention(is_causal=True) on the same projections + out_proj",
       compare=sdpa_compare)
def equals_sdpa(t, rng):
    module, params = mha_with(t, rng, 4, 8, 6, 2)
    x = rng.randn(2, 5, 4)
    return {"mha": module(x), "sdpa": sdpa_reference(params, x, 2)}


@check("wrapper_to_fused: the fused module computes the wrapper's output", compare=mapping_compare)
def wrapper_to_fused(t, rng):
    return wrapper_to_fused_probe(t, rng, 4, 2, 5, 3, qkv_bias=False)


@check("fused_to_wrapper: out_proj(wrapper(x)) equals the fused module's output", compare=mapping_compare)
def fused_to_wrapper(t, rng):
    return fused_to_wrapper_probe(t, rng, 4, 6, 5, 2, qkv_bias=True)


@check("changing later tokens leaves the outputs at earlier positions unchanged", compare=no_future_compare)
def no_future(t, rng):
    module, _ = mha_with(t, rng, 4, 6, 6, 3)
    return future_probe(module, rng, rng.randn(2, 6, 4))


@check("d_out not divisible by num_heads raises ValueError naming both")
def indivisible(t, rng):
    return [error_case("MultiHeadAttention(d_out=10, num_heads=4)", t.MultiHeadAttention, 3, 10, 4, 0.0, 4,
                       names=[10, 4])]

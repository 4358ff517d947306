"""Public checks for topic 11 - Multi-head attention I (the wrapper)."""

from __future__ import annotations

import torch

from llmkit.attention_probes import (
    check_train_output,
    dropout_inputs,
    future_probe,
    head_blocks_compare,
    head_ratios,
    no_future_compare,
    wrapper_shapes,
)
from llmkit.checks import check
from llmkit.probing import Rng, error_case, load_params


def wrapper_with(t, rng: Rng, d_in: int, head_dim: int, context_length: int, num_heads: int,
                 dropout: float = 0.0, qkv_bias: bool = False, params: dict | None = None):
    """A learner's wrapper with every head's parameters overwritten by given (distinct) values."""
    module = t.MultiHeadAttentionWrapper(d_in, head_dim, context_length, dropout, num_heads, qkv_bias=qkv_bias)
    if params is None:
        params = rng.params(wrapper_shapes(d_in, head_dim, num_heads, qkv_bias))
    return load_params(module, params, "t11 MultiHeadAttentionWrapper")


def wrapper_dropout_probe(t, rng: Rng, batch: int, seq: int, d_in: int, head_dim: int, num_heads: int,
                          p: float) -> dict:
    """Train-mode wrapper with zero query/key weights: per-head ratios used/undropped weight.

    Returns ``{"p", "ratio"}`` with ratio ``(batch * num_heads, seq, seq)``; see
    ``llmkit.attention_probes.dropout_inputs`` (``seq <= d_in <= head_dim``).
    """
    params, values = {}, []
    x, w_values = dropout_inputs(rng, batch, seq, d_in, head_dim, num_heads)
    for h, w_value in enumerate(w_values):
        params.update({f"heads.{h}.W_query.weight": torch.zeros(head_dim, d_in),
                       f"heads.{h}.W_key.weight": torch.zeros(head_dim, d_in),
                       f"heads.{h}.W_value.weight": w_value})
        values.append(x @ w_value.T)  # head h's values, computed here from the given inputs
    module = wrapper_with(t, rng, d_in, head_dim, seq, num_heads, dropout=p, params=params)
    module.train()
    out = module(x)
    check_train_output(out, (batch, seq, num_heads * head_dim))
    return {"p": p, "ratio": head_ratios(out, values)}


@check("parameters are heads.{h}.W_query/W_key/W_value.weight (head_dim, d_in), one set per head")
def layout(t, rng):
    module = t.MultiHeadAttentionWrapper(4, 3, 5, 0.0, 3)
    biased = t.MultiHeadAttentionWrapper(2, 2, 3, 0.1, 2, qkv_bias=True)
    return [{name: list(p.shape) for name, p in m.named_parameters()} for m in (module, biased)]


@check("output shape is (batch, seq, num_heads * head_dim)")
def output_shape(t, rng):
    shapes = []
    for d_in, head_dim, num_heads, seq in ((4, 3, 2, 5), (3, 2, 4, 1), (6, 5, 1, 3)):
        module = wrapper_with(t, rng, d_in, head_dim, 6, num_heads)
        shapes.append(list(module(rng.randn(2, seq, d_in)).shape))
    return shapes


@check("forward equals the reference given distinct weights per head")
def forward_given_weights(t, rng):
    module = wrapper_with(t, rng, 5, 3, 6, 3, qkv_bias=rng.coin())
    return module(rng.randn(2, 6, 5))


@check("block h of the output is head h's context (heads concatenated in order)", compare=head_blocks_compare)
def head_order(t, rng):
    module = wrapper_with(t, rng, 4, 2, 5, 4)
    return {"num_heads": 4, "output": module(rng.randn(2, 5, 4))}


@check("changing later tokens leaves the outputs at earlier positions unchanged", compare=no_future_compare)
def no_future(t, rng):
    module = wrapper_with(t, rng, 4, 2, 6, 3)
    return future_probe(module, rng, rng.randn(2, 6, 4))


@check("num_heads=0 and sequences longer than context_length raise ValueError")
def errors(t, rng):
    module = wrapper_with(t, rng, 3, 2, 4, 2)
    return [error_case("MultiHeadAttentionWrapper(..., num_heads=0)", t.MultiHeadAttentionWrapper, 3, 2, 4, 0.0, 0),
            error_case("context_length=4 on 5 tokens", module, rng.randn(1, 5, 3), names=[5, 4])]

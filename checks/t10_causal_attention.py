"""Public checks for topic 10 - Causal self-attention.

The probes and comparisons shared with later attention topics (perturb the
future, recover the dropped weights, ...) live in :mod:`llmkit.attention_probes`;
this file keeps the two helpers topic 10's hidden checks reuse.
"""

from __future__ import annotations

import torch

from llmkit.attention_probes import (
    causal_weights_compare,
    future_probe,
    module_layout,
    no_future_compare,
    projection_shapes,
    ratio_summary,
    uniform_dropout_probe,
)
from llmkit.checks import check
from llmkit.probing import Rng, error_case, load_params


def causal_attention_with(t, rng: Rng, d_in: int, d_out: int, context_length: int,
                          dropout: float = 0.0, qkv_bias: bool = False, scale: float = 0.5,
                          params: dict | None = None):
    """A learner's ``CausalAttention`` with every parameter overwritten by given values."""
    module = t.CausalAttention(d_in, d_out, context_length, qkv_bias=qkv_bias, dropout=dropout)
    if params is None:
        params = rng.params(projection_shapes(d_in, d_out, qkv_bias), scale=scale)
    return load_params(module, params, "t10 CausalAttention")


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
    # seq <= d_in <= d_out (weights recoverable, see llmkit.attention_probes.dropout_inputs); ratio_summary
    # rounds the ratios to 3 decimals, far coarser than the recovery error, so every correct layer gives these
    d_in, d_out, seq, p = 8, 8, 6, rng.choice([0.25, 0.5])

    def factory(w_value):
        params = {"W_query.weight": torch.zeros(d_out, d_in), "W_key.weight": torch.zeros(d_out, d_in),
                  "W_value.weight": w_value}
        return causal_attention_with(t, rng, d_in, d_out, seq, dropout=p, params=params)

    return ratio_summary(uniform_dropout_probe(factory, rng, 8, seq, d_in, d_out, p)["ratio"])


@check("seq_len > context_length raises ValueError naming both numbers (5 tokens already, with context_length=4)")
def too_long(t, rng):
    module = causal_attention_with(t, rng, 3, 2, 4)
    x = rng.randn(1, 6, 3)
    return [error_case("CausalAttention(context_length=4) on 6 tokens", module, x, names=[6, 4]),
            error_case("CausalAttention(context_length=4) on 5 tokens", module, x[:, :5], names=[5, 4])]

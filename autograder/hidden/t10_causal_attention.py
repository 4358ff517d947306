"""Hidden checks for topic 10 - Causal self-attention (fresh seed every run)."""

import torch

from checks.t10_causal_attention import causal_attention_with, module_layout
from llmkit.attention_probes import (
    causal_weights_compare,
    dropout_property_compare,
    future_probe,
    no_future_compare,
    uniform_dropout_probe,
)
from llmkit.checks import check
from llmkit.probing import error_case


def sizes(rng, max_d=12):
    return rng.integer(1, max_d), rng.integer(1, max_d)


@check("causal_mask for random sizes (1 included): bool, True exactly where key > query")
def mask_random(t, rng):
    return [t.causal_mask(n) for n in (1, 2, rng.integer(3, 12), rng.integer(13, 40))]


@check("parameters are exactly the documented projections; 'mask' is a bool buffer (context_length, context_length)")
def layout_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, d_out = sizes(rng)
        out.append(module_layout(t.CausalAttention(d_in, d_out, rng.integer(1, 20),
                                                   dropout=rng.choice([0.0, 0.3]), qkv_bias=qkv_bias)))
    return out


@check("forward equals the reference given weights: random sizes, batches, with and without qkv bias")
def forward_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, d_out = sizes(rng)
        context = rng.integer(2, 16)
        module = causal_attention_with(t, rng, d_in, d_out, context, qkv_bias=qkv_bias)
        out.append(module(rng.randn(rng.integer(1, 4), context, d_in)))
    return out


@check("attention weights: upper triangle exactly 0, equal to the reference, no dropout even in train mode",
       compare=causal_weights_compare)
def weights_random(t, rng):
    d_in, d_out = sizes(rng)
    context = rng.integer(2, 16)
    module = causal_attention_with(t, rng, d_in, d_out, context, dropout=0.5, qkv_bias=rng.coin())
    x = rng.randn(rng.integer(1, 3), context, d_in, scale=2.0)
    module.eval()
    eval_weights = module.attention_weights(x)
    module.train()
    return [eval_weights, module.attention_weights(x)]


@check("sequences shorter than context_length, one after another with the same module, down to 1 token")
def shorter_random(t, rng):
    d_in, d_out = sizes(rng)
    context = rng.integer(8, 30)
    module = causal_attention_with(t, rng, d_in, d_out, context)
    lengths = [1, rng.integer(2, context - 1), context, rng.integer(2, context - 1)]
    return [module(rng.randn(rng.integer(1, 3), n, d_in)) for n in lengths]


@check("perturbing later tokens leaves every earlier output unchanged (random split)", compare=no_future_compare)
def no_future_random(t, rng):
    d_in, d_out = sizes(rng)
    context = rng.integer(3, 16)
    module = causal_attention_with(t, rng, d_in, d_out, context, qkv_bias=rng.coin())
    seq = rng.integer(2, context)
    return future_probe(module, rng, rng.randn(rng.integer(1, 3), seq, d_in))


@check("train-mode dropout: each attention weight dropped with probability p, kept ones scaled by 1/(1-p)",
       compare=dropout_property_compare)
def dropout_train_property(t, rng):
    seq = rng.integer(8, 12)
    # d_in, d_out >= seq: the values have full rank, so the weights can be recovered from the output
    d_in, d_out = seq + rng.integer(2, 6), seq + rng.integer(2, 6)
    p = rng.choice([0.2, 0.3, 0.5, 0.6])

    def factory(w_value):
        params = {"W_query.weight": torch.zeros(d_out, d_in), "W_key.weight": torch.zeros(d_out, d_in),
                  "W_value.weight": w_value}
        return causal_attention_with(t, rng, d_in, d_out, seq + rng.integer(0, 4), dropout=p, params=params)

    return uniform_dropout_probe(factory, rng, 10, seq, d_in, d_out, p)


@check("eval mode switches dropout off; dropout=0 in train mode changes nothing")
def dropout_eval_mode(t, rng):
    d_in, d_out = sizes(rng)
    context = rng.integer(2, 10)
    x = rng.randn(2, context, d_in)
    module = causal_attention_with(t, rng, d_in, d_out, context, dropout=0.7)
    module.eval()
    no_drop = causal_attention_with(t, rng, d_in, d_out, context, dropout=0.0)
    no_drop.train()
    return [module(x), no_drop(x)]


@check("seq_len > context_length raises ValueError naming both numbers (forward and attention_weights)")
def errors_random(t, rng):
    d_in, d_out = sizes(rng)
    context = rng.integer(1, 12)
    module = causal_attention_with(t, rng, d_in, d_out, context)
    longer = context + rng.integer(1, 7)
    x = rng.randn(1, longer, d_in)
    return [
        error_case(f"forward with context_length={context} on {longer} tokens", module, x,
                   names=[longer, context]),
        error_case(f"attention_weights with context_length={context} on {longer} tokens",
                   module.attention_weights, x, names=[longer, context]),
        error_case(f"forward on exactly context_length={context} tokens", module, x[:, :context]),
        error_case("causal_mask(0)", t.causal_mask, 0),
    ]

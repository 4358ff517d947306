"""Hidden checks for topic 10 - Causal self-attention (fresh seed every run)."""

import torch

from checks.t10_causal_attention import causal_attention_with
from llmkit.attention_probes import (
    causal_weights_compare,
    dropout_property_compare,
    future_probe,
    module_layout,
    no_future_compare,
    uniform_dropout_probe,
)
from llmkit.checks import check
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `causal_attention.py` (it imports `scaled_dot_product` from your topic 09):":
        "where the code goes and what it imports; every check runs that file",
    "Use the `(seq, seq)` top-left corner of the `mask` buffer and your `scaled_dot_product`":
        "a hint on how to compute the weights; what it yields is promised by 'Works for every "
        "`1 <= seq <= context_length`' (shorter_random) and by the weights' formula (weights_random)",
    "The reference registers it with `persistent=False`, which keeps it out of `state_dict()`;":
        "describes the reference, not the learner's code; the next clause says both choices pass",
}


def sizes(rng, max_d=12):
    return rng.integer(1, max_d), rng.integer(1, max_d)


@check("causal_mask for random sizes (1 included): bool, True exactly where key > query",
       promises=["bool tensor `(seq_len, seq_len)`, `mask[i, j]` is `True` exactly when `j > i`",
                 "**True = masked out**, topic 09's convention."])
def mask_random(t, rng):
    return [t.causal_mask(n) for n in (1, 2, rng.integer(3, 12), rng.integer(13, 40))]


@check("parameters are exactly the documented projections; 'dropout' is nn.Dropout(dropout); "
       "'mask' is a bool buffer (context_length, context_length)",
       promises=["submodules `W_query`, `W_key`, `W_value`, each `nn.Linear(d_in, d_out, bias=qkv_bias)`",
                 "The parameters are `W_query.weight` `(d_out, d_in)`",
                 "`dropout` is an `nn.Dropout(dropout)` submodule.",
                 "A **buffer** named `mask` holds `causal_mask(context_length)`",
                 "the checks accept either choice",
                 "The names `W_query`, `W_key`, `W_value` and `mask` are the ones topics 11 and 12 build on"])
def layout_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, d_out = sizes(rng)
        # a non-zero rate every run, so a layer that ignores its argument shows
        dropout = rng.choice([0.1, 0.3, 0.5])
        out.append(module_layout(t.CausalAttention(d_in, d_out, rng.integer(1, 20), dropout=dropout,
                                                   qkv_bias=qkv_bias)))
    return out


@check("forward equals the reference given weights: random sizes, batches, with and without qkv bias",
       promises=["`x (batch, seq, d_in)` -> `(batch, seq, d_out)`: dropout applied to the attention weights, "
                 "times the values `W_value(x)`."])
def forward_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, d_out = sizes(rng)
        context = rng.integer(2, 16)
        module = causal_attention_with(t, rng, d_in, d_out, context, qkv_bias=qkv_bias)
        out.append(module(rng.randn(rng.integer(1, 4), context, d_in)))
    return out


@check("attention weights: upper triangle exactly 0, equal to the reference, no dropout even in train mode",
       compare=causal_weights_compare,
       promises=["`x (batch, seq, d_in)` -> weights `(batch, seq, seq)`, **before** dropout (no dropout even in "
                 "train mode).",
                 "`weights[b, i, j]` is the softmax of $q_i \\cdot k_j / \\sqrt{d_{out}}$ over $j \\le i$, and "
                 "exactly 0 for $j > i$;",
                 "every row sums to 1."])
def weights_random(t, rng):
    d_in, d_out = sizes(rng)
    context = rng.integer(2, 16)
    module = causal_attention_with(t, rng, d_in, d_out, context, dropout=0.5, qkv_bias=rng.coin())
    x = rng.randn(rng.integer(1, 3), context, d_in, scale=2.0)  # larger scores: peaked rows, not near-uniform
    module.eval()
    eval_weights = module.attention_weights(x)
    module.train()
    return [eval_weights, module.attention_weights(x)]


@check("sequences shorter than context_length, one after another with the same module, down to 1 token",
       promises=["Works for every `1 <= seq <= context_length`"])
def shorter_random(t, rng):
    d_in, d_out = sizes(rng)
    context = rng.integer(8, 30)
    module = causal_attention_with(t, rng, d_in, d_out, context)
    lengths = [1, rng.integer(2, context - 1), context, rng.integer(2, context - 1)]
    return [module(rng.randn(rng.integer(1, 3), n, d_in)) for n in lengths]


@check("perturbing later tokens leaves every earlier output unchanged (random split)", compare=no_future_compare,
       promises=["over $j \\le i$"])
def no_future_random(t, rng):
    d_in, d_out = sizes(rng)
    context = rng.integer(3, 16)
    module = causal_attention_with(t, rng, d_in, d_out, context, qkv_bias=rng.coin())
    seq = rng.integer(2, context)
    return future_probe(module, rng, rng.randn(rng.integer(1, 3), seq, d_in))


@check("train-mode dropout: each attention weight dropped with probability p, kept ones scaled by 1/(1-p)",
       compare=dropout_property_compare,
       promises=["dropout applied to the attention weights, times the values `W_value(x)`."])
def dropout_train_property(t, rng):
    # 10 sequences of seq >= 8: at least 10 * 8 * 9 / 2 = 360 weights below the diagonal, so a correct
    # layer fails the rate band with probability <= 6e-11 per run (llmkit.attention_probes.dropout_band)
    seq = rng.integer(8, 12)
    # seq <= d_in <= d_out: the values can have orthonormal rows, so the weights used are recovered from the
    # output to float32 precision (llmkit.attention_probes.dropout_inputs, RATIO_TOLERANCE)
    d_in = seq + rng.integer(0, 3)
    d_out = d_in + rng.integer(0, 3)
    p = rng.choice([0.2, 0.3, 0.5, 0.6])

    def factory(w_value):
        params = {"W_query.weight": torch.zeros(d_out, d_in), "W_key.weight": torch.zeros(d_out, d_in),
                  "W_value.weight": w_value}
        return causal_attention_with(t, rng, d_in, d_out, seq + rng.integer(0, 4), dropout=p, params=params)

    return uniform_dropout_probe(factory, rng, 10, seq, d_in, d_out, p)


@check("eval mode switches dropout off; dropout=0 in train mode changes nothing",
       promises=["In eval mode (or with `dropout=0`) this is exactly `attention_weights(x) @ W_value(x)`."])
def dropout_eval_mode(t, rng):
    d_in, d_out = sizes(rng)
    context = rng.integer(2, 10)
    x = rng.randn(2, context, d_in)
    module = causal_attention_with(t, rng, d_in, d_out, context, dropout=0.7)
    module.eval()
    no_drop = causal_attention_with(t, rng, d_in, d_out, context, dropout=0.0)
    no_drop.train()
    return [module(x), no_drop(x)]


@check("seq_len > context_length raises ValueError naming both numbers, from context_length + 1 on; "
       "exactly context_length works; a wrongly shaped x raises ValueError (forward and attention_weights); "
       "causal_mask(0) raises ValueError",
       promises=["`seq_len < 1` raises `ValueError`",
                 "an `x` that is not `(batch, seq, d_in)` raises `ValueError`;",
                 "`seq > context_length` raises `ValueError`",
                 "`context_length + 1` tokens already do",
                 "the message names both numbers."])
def errors_random(t, rng):
    d_in, d_out = sizes(rng)
    context = rng.integer(1, 12)
    module = causal_attention_with(t, rng, d_in, d_out, context)
    # the boundary context + 1 every run (a check written `>= context + 2` fails only there), and a random
    # longer length
    lengths = [context + 1, context + rng.integer(2, 7)]
    x = rng.randn(1, lengths[-1], d_in)
    wrong_width = d_in + rng.integer(1, 3)
    cases = []
    for name, fn in (("forward", module), ("attention_weights", module.attention_weights)):
        for longer in lengths:
            cases.append(error_case(f"{name} with context_length={context} on {longer} tokens", fn,
                                    x[:, :longer], names=[longer, context]))
        cases += [
            error_case(f"{name} on exactly context_length={context} tokens", fn, x[:, :context]),
            error_case(f"{name} on x of shape (seq, d_in) = ({context}, {d_in}), no batch axis", fn,
                       x[0, :context]),
            error_case(f"{name} on x of shape (1, {context}, {wrong_width}) with d_in={d_in}", fn,
                       rng.randn(1, context, wrong_width)),
        ]
    cases += [error_case("causal_mask(0)", t.causal_mask, 0),
              error_case("causal_mask(1)", t.causal_mask, 1)]
    return cases

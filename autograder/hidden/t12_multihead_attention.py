"""Hidden checks for topic 12 - Multi-head attention II (fresh seed every run)."""

import torch

from checks.t12_multihead_attention import (
    fused_to_wrapper_probe,
    identity_out_proj,
    mapping_compare,
    mha_with,
    sdpa_compare,
    sdpa_reference,
    wrapper_class,
    wrapper_to_fused_probe,
)
from llmkit.attention_probes import (
    causal_weights_compare,
    check_train_output,
    dropout_inputs,
    dropout_property_compare,
    future_probe,
    head_blocks_compare,
    head_ratios,
    module_layout,
    no_future_compare,
    projection_shapes,
)
from llmkit.checks import check
from llmkit.probing import error_case, load_params

NOT_BEHAVIOUR = {
    "In `multihead_attention.py` (it imports `causal_mask` from your topic 10 and "
    "`MultiHeadAttentionWrapper` from your topic 11).":
        "where the code goes and what it imports; every check runs that file",
    "Use `view` (or `reshape`) and then `transpose`.":
        "a hint on how to split; the result it must give is the clause before it (split_merge_random)",
    "Write the scores, the scaling and the masking yourself (`torch.softmax` is fine).":
        "a learning instruction, not observable behaviour; the result is checked against "
        "F.scaled_dot_product_attention and the reference",
}

# Dropout probes below: 6 sequences, 2 or 3 heads, seq >= 6 give at least 6 * 2 * 21 = 252 weights below the
# diagonal, so a correct layer fails the rate band with probability <= 1.7e-10 per run
# (llmkit.attention_probes.dropout_band); seq <= d_in <= head_dim keeps the weights used recoverable from the
# output to float32 precision (llmkit.attention_probes.dropout_inputs).
DROPOUT_BATCH = 6
DROPOUT_RATES = (0.2, 0.4, 0.5)


def config(rng, max_heads=5, max_head_dim=5, min_heads=1, min_head_dim=1):
    """Random (d_in, d_out, context_length, num_heads) with d_out divisible by num_heads.

    Checks of head order use ``min_heads=2``: with one head, every order is right.
    ``min_head_dim=2``: with ``head_dim = 1`` the ``1/sqrt(head_dim)`` scaling is 1, so leaving it out shows
    only where a check draws a wider head.
    """
    num_heads = rng.integer(min_heads, max_heads)
    return rng.integer(1, 10), num_heads * rng.integer(min_head_dim, max_head_dim), rng.integer(2, 12), num_heads


def dropout_sizes(rng):
    """(seq, num_heads, d_in, head_dim) for a dropout probe (see the comment above)."""
    seq = rng.integer(6, 9)
    d_in = seq + rng.integer(0, 2)
    return seq, rng.integer(2, 3), d_in, d_in + rng.integer(0, 2)


@check("split_heads / merge_heads on random shapes: blocks of features per head, exact inverses",
       promises=["`(batch, seq, d)` -> `(batch, num_heads, seq, d // num_heads)`.",
                 "Features `h * head_dim` to `(h+1) * head_dim - 1` of every position go to head `h`.",
                 "`(batch, num_heads, seq, head_dim)` -> `(batch, seq, num_heads * head_dim)`, the exact inverse of "
                 "`split_heads`"])
def split_merge_random(t, rng):
    num_heads, head_dim = rng.integer(1, 5), rng.integer(1, 5)
    x = rng.randn(rng.integer(1, 3), rng.integer(1, 7), num_heads * head_dim)
    split = t.split_heads(x, num_heads)
    y = rng.randn(rng.integer(1, 3), num_heads, rng.integer(1, 7), head_dim)
    return {"split": split, "round_trip": t.merge_heads(split), "merged": t.merge_heads(y),
            "split_of_merged": t.split_heads(t.merge_heads(y), num_heads)}


@check("parameter names and shapes (random sizes, qkv bias or not); 'dropout' is nn.Dropout(dropout); 'mask' is a "
       "buffer, not a parameter; the attributes d_in, d_out, num_heads, head_dim, context_length",
       promises=["`d_out` is the layer's **total** width, `num_heads * head_dim`;",
                 "each of the `num_heads` heads gets `head_dim = d_out // num_heads` features",
                 "submodules `W_query`, `W_key`, `W_value`, each `nn.Linear(d_in, d_out, bias=qkv_bias)`",
                 "`out_proj`: `nn.Linear(d_out, d_out)`, **always** with a bias",
                 "`dropout`: `nn.Dropout(dropout)`.",
                 "`mask`: a buffer (not a parameter) holding `causal_mask(context_length)`",
                 "Set the attribute `head_dim` to `d_out // num_heads`;",
                 "`d_in`, `d_out`, `num_heads` and `context_length` are set for you.",
                 "Later topics load GPT-2's weights by the parameter names above"])
def layout_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, d_out, context, num_heads = config(rng)
        # a non-zero rate every run, so a layer that ignores its argument shows
        module = t.MultiHeadAttention(d_in, d_out, context, rng.choice([0.1, 0.3, 0.5]), num_heads,
                                      qkv_bias=qkv_bias)
        out.append({**module_layout(module),
                    "attributes": {name: getattr(module, name, None)
                                   for name in ("d_in", "d_out", "num_heads", "head_dim", "context_length")}})
    return out


@check("forward equals the reference given weights (random sizes, shorter sequences, qkv bias)",
       promises=["`(batch, seq, d_in)` -> `(batch, seq, d_out)`: the weights (after dropout, which is active in "
                 "training mode only) times each head's values, then `merge_heads`, then `out_proj`"])
def forward_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        # the second module every run: heads at least 2 wide and at least 2 positions, where the scaling shows
        d_in, d_out, context, num_heads = config(rng, min_head_dim=2 if qkv_bias else 1)
        module, _ = mha_with(t, rng, d_in, d_out, context, num_heads, qkv_bias=qkv_bias)
        out.append(module(rng.randn(rng.integer(1, 3), rng.integer(2 if qkv_bias else 1, context), d_in)))
    return out


@check("equals F.scaled_dot_product_attention(is_causal=True) on the same projections + out_proj",
       compare=sdpa_compare,
       promises=["`softmax(q_h k_h^T / sqrt(head_dim))` per head",
                 "then `merge_heads`, then `out_proj`"])
def equals_sdpa_random(t, rng):
    d_in, d_out, context, num_heads = config(rng, max_heads=6, max_head_dim=8)
    module, params = mha_with(t, rng, d_in, d_out, context, num_heads, qkv_bias=rng.coin())
    x = rng.randn(rng.integer(1, 3), rng.integer(1, context), d_in)
    return {"mha": module(x), "sdpa": sdpa_reference(params, x, num_heads)}


@check("with out_proj = identity, output block h is head h's context (heads merged in order)",
       compare=head_blocks_compare,
       promises=["head `h` fills features `h * head_dim` to `(h+1) * head_dim - 1`, as in topic 11"])
def head_order_random(t, rng):
    d_in, _, context, _ = config(rng)
    num_heads, head_dim = rng.integer(2, 5), rng.integer(1, 4)
    d_out = num_heads * head_dim
    params = {**rng.params(projection_shapes(d_in, d_out, False)), **identity_out_proj(d_out)}
    module, _ = mha_with(t, rng, d_in, d_out, context, num_heads, params=params)
    return {"num_heads": num_heads, "output": module(rng.randn(2, context, d_in))}


@check("wrapper -> fused under the documented mapping, with and without qkv bias: equal outputs, weights "
       "concatenated in head order, out_proj the identity, the heads' mask size",
       compare=mapping_compare,
       promises=["a new `MultiHeadAttention` that computes `wrapper(x)`.",
                 "It stacks the heads' weights and biases in head order, sets `out_proj` to the identity with a "
                 "zero bias, and takes its settings from the heads"])
def wrapper_to_fused_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, _, context, num_heads = config(rng, min_heads=2)
        out.append(wrapper_to_fused_probe(t, rng, d_in, rng.integer(1, 5), context, num_heads, qkv_bias=qkv_bias))
    return out


@check("fused -> wrapper under the documented mapping, with and without qkv bias: out_proj(wrapper(x)) == mha(x), "
       "weights split per head, the fused module's mask size",
       compare=mapping_compare,
       promises=["a new `MultiHeadAttentionWrapper` with `mha.num_heads` heads of size `mha.head_dim`, and "
                 "`mha`'s `d_in`, `context_length`",
                 "Head `h` gets row block `h` of each projection and bias.",
                 "`mha(x) == mha.out_proj(wrapper(x))`"])
def fused_to_wrapper_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, d_out, context, num_heads = config(rng, min_heads=2)
        out.append(fused_to_wrapper_probe(t, rng, d_in, d_out, context, num_heads, qkv_bias=qkv_bias))
    return out


@check("wrapper -> fused takes the dropout rate from the heads: in train mode the fused module drops attention "
       "weights at that rate", compare=dropout_property_compare,
       promises=["the dropout rate (a head's `dropout.p`)"])
def wrapper_to_fused_dropout(t, rng):
    seq, num_heads, d_in, head_dim = dropout_sizes(rng)
    p = rng.choice(DROPOUT_RATES)
    x, w_values = dropout_inputs(rng, DROPOUT_BATCH, seq, d_in, head_dim, num_heads)
    params, values = {}, []
    for h, w_value in enumerate(w_values):  # zero queries and keys: every head's undropped weights are 1/(i+1)
        params.update({f"heads.{h}.W_query.weight": torch.zeros(head_dim, d_in),
                       f"heads.{h}.W_key.weight": torch.zeros(head_dim, d_in),
                       f"heads.{h}.W_value.weight": w_value})
        values.append(x @ w_value.T)  # head h's values, computed here
    wrapper = wrapper_class()(d_in, head_dim, seq, p, num_heads)
    load_params(wrapper, params, "t11 MultiHeadAttentionWrapper")
    fused = t.wrapper_to_fused(wrapper)
    fused.train()
    out = fused(x)  # out_proj is the identity: the merged heads' context vectors
    check_train_output(out, (DROPOUT_BATCH, seq, num_heads * head_dim))
    return {"p": p, "ratio": head_ratios(out, values)}


@check("fused -> wrapper takes the dropout rate from mha.dropout.p: in train mode every head of the wrapper drops "
       "attention weights at that rate", compare=dropout_property_compare,
       promises=["dropout rate (`mha.dropout.p`)"])
def fused_to_wrapper_dropout(t, rng):
    seq, num_heads, d_in, head_dim = dropout_sizes(rng)
    d_out, p = num_heads * head_dim, rng.choice(DROPOUT_RATES)
    x, w_values = dropout_inputs(rng, DROPOUT_BATCH, seq, d_in, head_dim, num_heads)
    w_value = torch.cat(w_values)  # head h's rows h * head_dim to (h + 1) * head_dim - 1
    # zero queries and keys: every head's undropped weights are 1/(i+1); out_proj is never used by the wrapper
    params = {"W_query.weight": torch.zeros(d_out, d_in), "W_key.weight": torch.zeros(d_out, d_in),
              "W_value.weight": w_value, **rng.params({"out_proj.weight": (d_out, d_out), "out_proj.bias": (d_out,)})}
    mha, _ = mha_with(t, rng, d_in, d_out, seq, num_heads, dropout=p, params=params)
    wrapper = t.fused_to_wrapper(mha)
    wrapper.train()
    out = wrapper(x)
    check_train_output(out, (DROPOUT_BATCH, seq, d_out))
    return {"p": p, "ratio": head_ratios(out, list((x @ w_value.T).chunk(num_heads, dim=-1)))}


@check("round trip fused -> wrapper -> fused keeps the q/k/v weights exactly",
       promises=["Head `h` gets row block `h` of each projection and bias."])
def round_trip(t, rng):
    d_in, d_out, context, num_heads = config(rng, min_heads=2)
    mha, params = mha_with(t, rng, d_in, d_out, context, num_heads, qkv_bias=True)
    back = t.wrapper_to_fused(t.fused_to_wrapper(mha))
    return {name: p.detach() for name, p in back.named_parameters() if not name.startswith("out_proj")}


@check("causality: attention weights exactly 0 above the diagonal in every head, before dropout even in train mode",
       compare=causal_weights_compare,
       promises=["`(batch, seq, d_in)` -> `(batch, num_heads, seq, seq)`, before dropout",
                 "with `-inf` where the top-left `(seq, seq)` corner of `mask` is True.",
                 "Each row sums to 1, and the future gets exactly 0"])
def weights_causal(t, rng):
    d_in, d_out, context, num_heads = config(rng)
    module, _ = mha_with(t, rng, d_in, d_out, context, num_heads, dropout=0.5)
    x = rng.randn(2, rng.integer(1, context), d_in, scale=2.0)  # larger scores: peaked rows, not near-uniform
    module.train()  # attention_weights is before dropout, in any mode
    return module.attention_weights(x)


@check("causality: perturbing later tokens leaves earlier outputs unchanged", compare=no_future_compare,
       promises=["with `-inf` where the top-left `(seq, seq)` corner of `mask` is True."])
def no_future_random(t, rng):
    d_in, d_out, context, num_heads = config(rng)
    module, _ = mha_with(t, rng, d_in, d_out, context, num_heads, qkv_bias=rng.coin())
    return future_probe(module, rng, rng.randn(rng.integer(1, 3), context, d_in))


@check("train-mode dropout acts on the attention weights of every head", compare=dropout_property_compare,
       promises=["the weights (after dropout, which is active in training mode only) times each head's values"])
def dropout_train(t, rng):
    seq, num_heads, d_in, head_dim = dropout_sizes(rng)
    d_out, p = num_heads * head_dim, rng.choice(DROPOUT_RATES)
    x, w_values = dropout_inputs(rng, DROPOUT_BATCH, seq, d_in, head_dim, num_heads)
    w_value = torch.cat(w_values)  # head h's rows h * head_dim to (h + 1) * head_dim - 1
    params = {"W_query.weight": torch.zeros(d_out, d_in), "W_key.weight": torch.zeros(d_out, d_in),
              "W_value.weight": w_value, **identity_out_proj(d_out)}
    module, _ = mha_with(t, rng, d_in, d_out, seq, num_heads, dropout=p, params=params)
    module.train()
    out = module(x)
    check_train_output(out, (DROPOUT_BATCH, seq, d_out))
    return {"p": p, "ratio": head_ratios(out, list((x @ w_value.T).chunk(num_heads, dim=-1)))}


@check("eval mode switches dropout off",
       promises=["the weights (after dropout, which is active in training mode only) times each head's values"])
def dropout_eval(t, rng):
    d_in, d_out, context, num_heads = config(rng)
    module, _ = mha_with(t, rng, d_in, d_out, context, num_heads, dropout=0.6)
    module.eval()
    return module(rng.randn(2, context, d_in))


@check("ValueError naming the numbers: d_out % num_heads != 0, num_heads < 1, split_heads on an indivisible width, "
       "seq_len > context_length (from context_length + 1 on, forward and attention_weights); exactly "
       "context_length works; a wrongly shaped x raises ValueError",
       promises=["If `d` is not divisible by `num_heads`, raise `ValueError` naming both",
                 "If `num_heads < 1` or `d_out % num_heads != 0`, raise `ValueError` naming both numbers",
                 "an `x` that is not `(batch, seq, d_in)` raises `ValueError`",
                 "`seq > context_length` raises `ValueError` naming both numbers",
                 "`context_length + 1` tokens already do"])
def errors_random(t, rng):
    bad_heads = rng.integer(2, 6)
    bad = bad_heads * rng.integer(1, 5) + rng.integer(1, bad_heads - 1)  # not a multiple of bad_heads
    d_in, d_out, context, num_heads = config(rng)
    module, _ = mha_with(t, rng, d_in, d_out, context, num_heads)
    # context + 1 every run: the boundary a length check written one off misses
    lengths = [context + 1, context + rng.integer(2, 5)]
    x = rng.randn(1, lengths[-1], d_in)
    cases = [
        error_case(f"MultiHeadAttention(d_out={bad}, num_heads={bad_heads})", t.MultiHeadAttention,
                   d_in, bad, context, 0.0, bad_heads, names=[bad, bad_heads]),
        error_case(f"MultiHeadAttention(d_out={d_out}, num_heads=0)", t.MultiHeadAttention,
                   d_in, d_out, context, 0.0, 0, names=[d_out, 0]),
        error_case(f"MultiHeadAttention(d_out={d_out}, num_heads={num_heads})", t.MultiHeadAttention,
                   d_in, d_out, context, 0.0, num_heads),
        error_case(f"split_heads on width {bad} with num_heads={bad_heads}", t.split_heads,
                   rng.randn(1, 2, bad), bad_heads, names=[bad, bad_heads]),
    ]
    for name, fn in (("forward", module), ("attention_weights", module.attention_weights)):
        cases += [error_case(f"{name} with context_length={context} on {n} tokens", fn, x[:, :n],
                             names=[n, context]) for n in lengths]
        cases += [
            error_case(f"{name} on exactly context_length={context} tokens", fn, x[:, :context]),
            error_case(f"{name} on x of shape ({context}, {d_in}), no batch axis", fn, x[0, :context]),
            error_case(f"{name} on x of shape (1, {context}, {d_in + 1}) with d_in={d_in}", fn,
                       rng.randn(1, context, d_in + 1)),
        ]
    return cases

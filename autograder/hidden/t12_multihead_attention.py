"""Hidden checks for topic 12 - Multi-head attention II (fresh seed every run)."""

import torch

from checks.t12_multihead_attention import (
    fused_to_wrapper_probe,
    identity_out_proj,
    mapping_compare,
    mha_with,
    sdpa_compare,
    sdpa_reference,
    wrapper_to_fused_probe,
)
from llmkit.attention_probes import (
    causal_weights_compare,
    dropout_property_compare,
    dropped_weights,
    future_probe,
    head_blocks_compare,
    no_future_compare,
    projection_shapes,
)
from llmkit.checks import check
from llmkit.probing import contract_buffers, error_case
from llmkit.values import Mismatch


def config(rng, max_heads=5, max_head_dim=5, min_heads=1):
    """Random (d_in, d_out, context_length, num_heads) with d_out divisible by num_heads.

    Checks of head order use ``min_heads=2``: with one head, every order is right.
    """
    heads = rng.integer(min_heads, max_heads)
    return rng.integer(1, 10), heads * rng.integer(1, max_head_dim), rng.integer(2, 12), heads


@check("split_heads / merge_heads on random shapes: blocks of features per head, exact inverses")
def split_merge_random(t, rng):
    heads, head_dim = rng.integer(1, 5), rng.integer(1, 5)
    x = rng.randn(rng.integer(1, 3), rng.integer(1, 7), heads * head_dim)
    split = t.split_heads(x, heads)
    y = rng.randn(rng.integer(1, 3), heads, rng.integer(1, 7), head_dim)
    return {"split": split, "round_trip": t.merge_heads(split), "merged": t.merge_heads(y),
            "split_of_merged": t.split_heads(t.merge_heads(y), heads)}


@check("parameter names and shapes (random sizes, qkv bias or not); 'mask' is a buffer, not a parameter")
def layout_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, d_out, context, heads = config(rng)
        module = t.MultiHeadAttention(d_in, d_out, context, 0.0, heads, qkv_bias=qkv_bias)
        out.append({"parameters": {n: list(p.shape) for n, p in module.named_parameters()},
                    "buffers": contract_buffers(module, ["mask"])})
    return out


@check("forward equals the reference given weights (random sizes, shorter sequences, qkv bias)")
def forward_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, d_out, context, heads = config(rng)
        module, _ = mha_with(t, rng, d_in, d_out, context, heads, qkv_bias=qkv_bias)
        out.append(module(rng.randn(rng.integer(1, 3), rng.integer(1, context), d_in)))
    return out


@check("equals F.scaled_dot_product_attention(is_causal=True) on the same projections + out_proj",
       compare=sdpa_compare)
def equals_sdpa_random(t, rng):
    d_in, d_out, context, heads = config(rng, max_heads=6, max_head_dim=8)
    module, params = mha_with(t, rng, d_in, d_out, context, heads, qkv_bias=rng.coin())
    x = rng.randn(rng.integer(1, 3), rng.integer(1, context), d_in)
    return {"mha": module(x), "sdpa": sdpa_reference(params, x, heads)}


@check("with out_proj = identity, output block h is head h's context (heads merged in order)",
       compare=head_blocks_compare)
def head_order_random(t, rng):
    d_in, _, context, _ = config(rng)
    heads, head_dim = rng.integer(2, 5), rng.integer(1, 4)
    d_out = heads * head_dim
    params = {**rng.params(projection_shapes(d_in, d_out, False)), **identity_out_proj(d_out)}
    module, _ = mha_with(t, rng, d_in, d_out, context, heads, params=params)
    return {"num_heads": heads, "output": module(rng.randn(2, context, d_in))}


@check("wrapper -> fused under the documented mapping: equal outputs, weights concatenated in head order",
       compare=mapping_compare)
def wrapper_to_fused_random(t, rng):
    d_in, _, context, heads = config(rng, min_heads=2)
    return wrapper_to_fused_probe(t, rng, d_in, rng.integer(1, 5), context, heads, qkv_bias=rng.coin())


@check("fused -> wrapper under the documented mapping: out_proj(wrapper(x)) == mha(x), weights split per head",
       compare=mapping_compare)
def fused_to_wrapper_random(t, rng):
    d_in, d_out, context, heads = config(rng, min_heads=2)
    return fused_to_wrapper_probe(t, rng, d_in, d_out, context, heads, qkv_bias=rng.coin())


@check("round trip fused -> wrapper -> fused keeps the q/k/v weights exactly")
def round_trip(t, rng):
    d_in, d_out, context, heads = config(rng, min_heads=2)
    mha, params = mha_with(t, rng, d_in, d_out, context, heads, qkv_bias=True)
    back = t.wrapper_to_fused(t.fused_to_wrapper(mha))
    return {name: p.detach() for name, p in back.named_parameters() if not name.startswith("out_proj")}


@check("causality: attention weights exactly 0 above the diagonal in every head", compare=causal_weights_compare)
def weights_causal(t, rng):
    d_in, d_out, context, heads = config(rng)
    module, _ = mha_with(t, rng, d_in, d_out, context, heads, dropout=0.5)
    x = rng.randn(2, rng.integer(1, context), d_in, scale=2.0)
    module.train()  # attention_weights is before dropout, in any mode
    return module.attention_weights(x)


@check("causality: perturbing later tokens leaves earlier outputs unchanged", compare=no_future_compare)
def no_future_random(t, rng):
    d_in, d_out, context, heads = config(rng)
    module, _ = mha_with(t, rng, d_in, d_out, context, heads, qkv_bias=rng.coin())
    return future_probe(module, rng, rng.randn(rng.integer(1, 3), context, d_in))


@check("train-mode dropout acts on the attention weights of every head", compare=dropout_property_compare)
def dropout_train(t, rng):
    seq, heads = rng.integer(6, 9), rng.integer(2, 3)
    d_in, head_dim = seq + rng.integer(1, 4), seq + rng.integer(1, 3)
    d_out, batch, p = heads * head_dim, 6, rng.choice([0.2, 0.4, 0.5])
    w_value = rng.randn(d_out, d_in, scale=0.5)
    params = {"W_query.weight": torch.zeros(d_out, d_in), "W_key.weight": torch.zeros(d_out, d_in),
              "W_value.weight": w_value, **identity_out_proj(d_out)}
    module, _ = mha_with(t, rng, d_in, d_out, seq, heads, dropout=p, params=params)
    module.train()
    x = rng.randn(batch, seq, d_in)
    out = module(x)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (batch, seq, d_out):
        raise Mismatch(f"train-mode output shape {tuple(getattr(out, 'shape', ()))}, expected {(batch, seq, d_out)}")
    values = (x @ w_value.T).chunk(heads, dim=-1)  # each head's values, computed here
    undropped = 1.0 / torch.arange(1, seq + 1, dtype=torch.float64).view(seq, 1)
    ratios = [dropped_weights(block.detach(), v) / undropped for block, v in zip(out.chunk(heads, dim=-1), values)]
    return {"p": p, "ratio": torch.cat(ratios, dim=0).float()}


@check("eval mode switches dropout off")
def dropout_eval(t, rng):
    d_in, d_out, context, heads = config(rng)
    module, _ = mha_with(t, rng, d_in, d_out, context, heads, dropout=0.6)
    module.eval()
    return module(rng.randn(2, context, d_in))


@check("d_out % num_heads != 0 and seq_len > context_length raise ValueError naming the numbers")
def errors_random(t, rng):
    heads = rng.integer(2, 6)
    bad = heads * rng.integer(1, 5) + rng.integer(1, heads - 1)
    d_in, d_out, context, good_heads = config(rng)
    module, _ = mha_with(t, rng, d_in, d_out, context, good_heads)
    longer = context + rng.integer(1, 5)
    return [
        error_case(f"MultiHeadAttention(d_out={bad}, num_heads={heads})", t.MultiHeadAttention,
                   d_in, bad, context, 0.0, heads, names=[bad, heads]),
        error_case(f"MultiHeadAttention(d_out={d_out}, num_heads={good_heads})", t.MultiHeadAttention,
                   d_in, d_out, context, 0.0, good_heads),
        error_case(f"context_length={context} on {longer} tokens", module, rng.randn(1, longer, d_in),
                   names=[longer, context]),
    ]

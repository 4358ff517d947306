"""Hidden checks for topic 11 - Multi-head attention I (fresh seed every run)."""

import torch

from checks.t11_multihead_wrapper import wrapper_dropout_probe, wrapper_with
from llmkit.attention_probes import (
    dropout_property_compare,
    future_probe,
    head_blocks_compare,
    no_future_compare,
)
from llmkit.checks import check
from llmkit.probing import contract_buffers, error_case


def config(rng):
    """Random (d_in, d_head, context_length, num_heads)."""
    return rng.integer(1, 10), rng.integer(1, 6), rng.integer(2, 12), rng.integer(1, 6)


@check("parameter names and shapes for random sizes, with and without qkv bias; heads are registered")
def layout_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, d_head, context, heads = config(rng)
        module = t.MultiHeadAttentionWrapper(d_in, d_head, context, 0.0, heads, qkv_bias=qkv_bias)
        out.append({"parameters": {name: list(p.shape) for name, p in module.named_parameters()},
                    "buffers": sorted(contract_buffers(module, ["mask"]))})
    return out


@check("a new wrapper's heads are independent: no two start with the same weights")
def heads_independent(t, rng):
    d_in, d_head, context, _ = config(rng)
    module = t.MultiHeadAttentionWrapper(d_in, d_head, context, 0.0, rng.integer(2, 5))
    weights = [head.W_query.weight.detach().flatten() for head in module.heads]
    clashes = sum(torch.equal(a, b) for i, a in enumerate(weights) for b in weights[i + 1:])
    shared = len({id(head) for head in module.heads}) < len(weights)
    return {"heads with equal initial W_query": clashes, "a head object used twice": shared}


@check("output shape (batch, seq, num_heads * d_out) for random sizes, seq <= context_length")
def shape_random(t, rng):
    shapes = []
    for _ in range(4):
        d_in, d_head, context, heads = config(rng)
        module = wrapper_with(t, rng, d_in, d_head, context, heads)
        shapes.append(list(module(rng.randn(rng.integer(1, 3), rng.integer(1, context), d_in)).shape))
    return shapes


@check("forward equals the reference given distinct weights per head (random sizes, qkv bias)")
def forward_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, d_head, context, heads = config(rng)
        module = wrapper_with(t, rng, d_in, d_head, context, heads, qkv_bias=qkv_bias)
        out.append(module(rng.randn(rng.integer(1, 3), rng.integer(1, context), d_in)))
    return out


@check("each output block holds its own head's context vectors, in head order", compare=head_blocks_compare)
def head_order_random(t, rng):
    out = []
    for _ in range(2):
        d_in, d_head, context, _ = config(rng)
        heads = rng.integer(2, 6)
        module = wrapper_with(t, rng, d_in, d_head, context, heads, qkv_bias=rng.coin())
        out.append({"num_heads": heads, "output": module(rng.randn(2, context, d_in))})
    return out


@check("causality preserved: perturbing later tokens leaves earlier outputs unchanged",
       compare=no_future_compare)
def no_future_random(t, rng):
    d_in, d_head, context, heads = config(rng)
    module = wrapper_with(t, rng, d_in, d_head, context, heads)
    return future_probe(module, rng, rng.randn(rng.integer(1, 3), context, d_in))


@check("train-mode dropout acts on every head's attention weights with the given rate",
       compare=dropout_property_compare)
def dropout_every_head(t, rng):
    seq = rng.integer(6, 9)
    d_in, d_head = seq + rng.integer(1, 4), seq + rng.integer(1, 4)
    return wrapper_dropout_probe(t, rng, 6, seq, d_in, d_head, rng.integer(2, 4), rng.choice([0.2, 0.4, 0.5]))


@check("eval mode switches dropout off in every head")
def dropout_eval(t, rng):
    d_in, d_head, context, heads = config(rng)
    module = wrapper_with(t, rng, d_in, d_head, context, heads, dropout=0.6)
    module.eval()
    return module(rng.randn(2, context, d_in))


@check("num_heads < 1 and seq_len > context_length raise ValueError")
def errors_random(t, rng):
    d_in, d_head, context, heads = config(rng)
    module = wrapper_with(t, rng, d_in, d_head, context, heads)
    longer = context + rng.integer(1, 5)
    return [error_case("num_heads=0", t.MultiHeadAttentionWrapper, d_in, d_head, context, 0.0, 0),
            error_case(f"context_length={context} on {longer} tokens", module, rng.randn(1, longer, d_in),
                       names=[longer, context])]

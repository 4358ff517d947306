"""Hidden checks for topic 11 - Multi-head attention I (fresh seed every run)."""

import torch

from checks.t11_multihead_wrapper import wrapper_dropout_probe, wrapper_with
from llmkit.attention_probes import (
    dropout_property_compare,
    future_probe,
    head_blocks_compare,
    module_layout,
    no_future_compare,
)
from llmkit.checks import check
from llmkit.probing import contract_buffers, error_case

NOT_BEHAVIOUR = {
    "In `multihead_wrapper.py` (it imports `CausalAttention` from your topic 10):":
        "where the code goes and what it imports; every check runs that file",
    "Given: the attributes `d_in`, `head_dim` and `num_heads`, and `attention_weights(x)`":
        "code the stub already contains, not written by the learner",
    "The notebook uses it for its heat maps.": "a pointer to the notebook",
}


def config(rng):
    """Random (d_in, head_dim, context_length, num_heads)."""
    return rng.integer(1, 10), rng.integer(1, 6), rng.integer(2, 12), rng.integer(1, 6)


@check("parameter names and shapes for random sizes, with and without qkv bias; heads are registered, "
       "each with its own mask buffer and nn.Dropout(dropout)",
       promises=["creates the submodule `heads`: an `nn.ModuleList` of `num_heads` independent topic-10 "
                 "`CausalAttention(d_in, head_dim, context_length, dropout, qkv_bias)` modules.",
                 "`head_dim` is the size of **one** head",
                 "Parameter names: `heads.{h}.W_query.weight`",
                 "With `qkv_bias`, each also has a `.bias` of shape `(head_dim,)`.",
                 "There are no other parameters.",
                 "Each head keeps its own `mask` buffer from topic 10 and its own `dropout`"])
def layout_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, head_dim, context, num_heads = config(rng)
        # a non-zero rate every run, so heads built without the argument show
        dropout = rng.choice([0.1, 0.3, 0.5])
        module = t.MultiHeadAttentionWrapper(d_in, head_dim, context, dropout, num_heads, qkv_bias=qkv_bias)
        out.append({"parameters": {name: list(p.shape) for name, p in module.named_parameters()},
                    "buffers": contract_buffers(module, ["mask"]),
                    "heads' dropout": [module_layout(head)["dropout"] for head in module.heads]})
    return out


@check("a new wrapper's heads are independent: no two start with the same weights",
       promises=["`num_heads` independent topic-10"])
def heads_independent(t, rng):
    d_in, head_dim, context, _ = config(rng)
    module = t.MultiHeadAttentionWrapper(d_in, head_dim, context, 0.0, rng.integer(2, 5))
    weights = [head.W_query.weight.detach().flatten() for head in module.heads]
    clashes = sum(torch.equal(a, b) for i, a in enumerate(weights) for b in weights[i + 1:])
    shared = len({id(head) for head in module.heads}) < len(weights)
    return {"heads with equal initial W_query": clashes, "a head object used twice": shared}


@check("output shape (batch, seq, num_heads * head_dim) for random sizes, seq <= context_length",
       promises=["`(batch, seq, d_in)` -> `(batch, seq, num_heads * head_dim)`."])
def shape_random(t, rng):
    shapes = []
    for _ in range(4):
        d_in, head_dim, context, num_heads = config(rng)
        module = wrapper_with(t, rng, d_in, head_dim, context, num_heads)
        shapes.append(list(module(rng.randn(rng.integer(1, 3), rng.integer(1, context), d_in)).shape))
    return shapes


@check("forward equals the reference given distinct weights per head (random sizes, qkv bias)",
       promises=["Every head sees the whole `x`."])
def forward_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d_in, head_dim, context, num_heads = config(rng)
        module = wrapper_with(t, rng, d_in, head_dim, context, num_heads, qkv_bias=qkv_bias)
        out.append(module(rng.randn(rng.integer(1, 3), rng.integer(1, context), d_in)))
    return out


@check("each output block holds its own head's context vectors, in head order", compare=head_blocks_compare,
       promises=["Head `h`'s context vectors fill features `h * head_dim` to `(h+1) * head_dim - 1`, so the heads "
                 "are concatenated in order, head 0 first, along the last axis."])
def head_order_random(t, rng):
    out = []
    for _ in range(2):
        d_in, head_dim, context, _ = config(rng)
        num_heads = rng.integer(2, 6)  # with one head every order is right
        module = wrapper_with(t, rng, d_in, head_dim, context, num_heads, qkv_bias=rng.coin())
        out.append({"num_heads": num_heads, "output": module(rng.randn(2, context, d_in))})
    return out


@check("causality preserved: perturbing later tokens leaves earlier outputs unchanged",
       compare=no_future_compare, promises=["Every head sees the whole `x`."])
def no_future_random(t, rng):
    d_in, head_dim, context, num_heads = config(rng)
    module = wrapper_with(t, rng, d_in, head_dim, context, num_heads)
    return future_probe(module, rng, rng.randn(rng.integer(1, 3), context, d_in))


@check("train-mode dropout acts on every head's attention weights with the given rate",
       compare=dropout_property_compare,
       promises=["Dropout acts inside each head, on its attention weights, in training mode only"])
def dropout_every_head(t, rng):
    # 6 sequences, >= 2 heads, seq >= 6: at least 6 * 2 * 21 = 252 weights below the diagonal, so a correct
    # layer fails the rate band with probability <= 1.7e-10 per run (llmkit.attention_probes.dropout_band);
    # seq <= d_in <= head_dim keeps the weights used recoverable (llmkit.attention_probes.dropout_inputs)
    seq = rng.integer(6, 9)
    d_in = seq + rng.integer(0, 2)
    head_dim = d_in + rng.integer(0, 2)
    return wrapper_dropout_probe(t, rng, 6, seq, d_in, head_dim, rng.integer(2, 4), rng.choice([0.2, 0.4, 0.5]))


@check("eval mode switches dropout off in every head",
       promises=["Dropout acts inside each head, on its attention weights, in training mode only"])
def dropout_eval(t, rng):
    d_in, head_dim, context, num_heads = config(rng)
    module = wrapper_with(t, rng, d_in, head_dim, context, num_heads, dropout=0.6)
    module.eval()
    return module(rng.randn(2, context, d_in))


@check("num_heads < 1 raises ValueError (one head works); seq_len > context_length (from context_length + 1 "
       "on) and a wrongly shaped x raise ValueError from the heads",
       promises=["`num_heads < 1` raises `ValueError`;", "one head is fine",
                 "Errors: a `seq` longer than `context_length`, or an `x` that is not `(batch, seq, d_in)`, "
                 "raises `ValueError` from the heads",
                 "Let those errors through."])
def errors_random(t, rng):
    d_in, head_dim, context, num_heads = config(rng)
    module = wrapper_with(t, rng, d_in, head_dim, context, num_heads)
    # context + 1 every run: the boundary a length check written one off misses
    longer = [context + 1, context + rng.integer(2, 5)]
    x = rng.randn(1, longer[-1], d_in)
    negative = -rng.integer(1, 3)
    return [error_case("num_heads=0", t.MultiHeadAttentionWrapper, d_in, head_dim, context, 0.0, 0),
            error_case(f"num_heads={negative}", t.MultiHeadAttentionWrapper, d_in, head_dim, context, 0.0, negative),
            error_case("num_heads=1", t.MultiHeadAttentionWrapper, d_in, head_dim, context, 0.0, 1),
            *[error_case(f"context_length={context} on {n} tokens", module, x[:, :n], names=[n, context])
              for n in longer],
            error_case(f"exactly context_length={context} tokens", module, x[:, :context]),
            error_case(f"x of shape ({context}, {d_in}), no batch axis", module, x[0, :context]),
            error_case(f"x of shape (1, {context}, {d_in + 1}) with d_in={d_in}", module,
                       rng.randn(1, context, d_in + 1))]

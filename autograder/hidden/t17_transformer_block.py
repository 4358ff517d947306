"""Hidden checks for topic 17 - Transformer block (fresh seed every run)."""

import torch

from checks.t17_transformer_block import (
    block_params,
    block_with,
    branch_dropout_compare,
    layout,
    shortcut_compare,
    too_long_case,
    zero_projection_probe,
)
from llmkit.attention_probes import (
    dropout_property_compare,
    future_probe,
    no_future_compare,
    uniform_dropout_probe,
)
from llmkit.checks import check
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `block.py` (it imports": "where the code goes and what it builds on",
    "Topic 18 stacks these blocks": "a pointer to later topics",
    "Hint: one `nn.Dropout` module can serve both branches": "a hint about nn.Dropout, not a promise of this code",
}


def config(rng, max_heads: int = 4, max_head_dim: int = 6, min_heads: int = 1) -> tuple[int, int]:
    """Random ``(d_model, num_heads)`` with ``d_model`` divisible by ``num_heads``."""
    heads = rng.integer(min_heads, max_heads)
    return heads * rng.integer(1, max_head_dim), heads


@check("parameter names and shapes for random sizes, with and without qkv bias",
       promises=["submodules `norm1` and `norm2`",
                 "`attn`, a topic-12 `MultiHeadAttention(d_model, d_model, context_length, dropout, num_heads, "
                 "qkv_bias=qkv_bias)`;",
                 "`ff`, a topic-15 `FeedForward(d_model)`;",
                 "The parameters are exactly `norm1.weight`, `norm1.bias`, `norm2.weight`, `norm2.bias`",
                 "`attn.W_query.weight`, `attn.W_key.weight`, `attn.W_value.weight`, each `(d_model, d_model)`",
                 "`attn.out_proj.weight` `(d_model, d_model)` and `attn.out_proj.bias` `(d_model,)`;",
                 "`ff.fc.weight` `(4 * d_model, d_model)`, `ff.fc.bias` `(4 * d_model,)`"])
def layout_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d, heads = config(rng)
        out.append(layout(t.TransformerBlock(d, heads, rng.integer(1, 12), rng.choice([0.0, 0.2]), qkv_bias)))
    return out


@check("forward equals the reference given weights: random sizes, several heads, qkv bias both ways, "
       "sequences from 1 token to context_length, eval mode with dropout > 0",
       promises=["submodules `norm1` and `norm2`, each a topic-14 `LayerNorm(d_model)`;",
                 "`attn`, a topic-12 `MultiHeadAttention(d_model, d_model, context_length, dropout, num_heads, "
                 "qkv_bias=qkv_bias)`;",
                 "`ff`, a topic-15 `FeedForward(d_model)`;",
                 "`x` `(batch, seq, d_model)` -> a tensor of the same shape, for every `1 <= seq <= context_length`.",
                 "It computes `x = x + drop(attn(norm1(x)))`, then `x = x + drop(ff(norm2(x)))`, and returns `x`.",
                 "The checks load every parameter by the names above"])
def forward_random(t, rng):
    out = []
    for qkv_bias in (False, True):
        d, heads = config(rng, min_heads=2)
        context = rng.integer(2, 10)
        block = block_with(t, rng, d, heads, context, dropout=rng.choice([0.0, 0.3]), qkv_bias=qkv_bias).eval()
        for seq in (context, 1, rng.integer(1, context)):
            out.append(block(rng.randn(rng.integer(1, 3), seq, d)))
    return out


@check("gradients of a weighted sum of the outputs, w.r.t. the input and every parameter, equal the reference",
       promises=["Gradients flow to the input and to every parameter."])
def gradients_random(t, rng):
    d, heads = config(rng, min_heads=2)
    context = rng.integer(2, 8)
    qkv_bias = rng.coin()
    params = block_params(rng, d, qkv_bias)
    block = block_with(t, rng, d, heads, context, qkv_bias=qkv_bias, params=params).eval()
    x = rng.randn(rng.integer(1, 3), context, d).requires_grad_(True)
    weights = rng.randn(x.shape[0], context, d)
    (block(x) * weights).sum().backward()
    grads = {name: p.grad for name, p in block.named_parameters()}
    return {"x": x.grad, "parameters": {name: grads[name] for name in params}}


@check("pre-LN: with zero output projections (eval mode, or dropout=0 in train mode) the block returns "
       "x + attn.out_proj.bias + ff.proj.bias", compare=shortcut_compare,
       promises=["Pre-LN: each branch reads a normalized copy of the stream, and its output is added to the "
                 "stream as it is;", "nothing normalizes the sum."])
def zero_projections_random(t, rng):
    d, heads = config(rng)
    context = rng.integer(2, 10)
    train = rng.coin()  # train mode with dropout 0, or eval mode with dropout > 0: nothing dropped either way
    dropout = 0.0 if train else rng.choice([0.2, 0.5])
    return zero_projection_probe(t, rng, rng.integer(1, 3), rng.integer(1, context), d, heads, context,
                                 dropout=dropout, qkv_bias=rng.coin(), train=train)


@check("changing later tokens leaves every earlier output of the block unchanged (random split)",
       compare=no_future_compare,
       promises=["The output at position `t` depends only on the inputs at positions `0..t`."])
def no_future_random(t, rng):
    d, heads = config(rng)
    context = rng.integer(3, 12)
    block = block_with(t, rng, d, heads, context, qkv_bias=rng.coin()).eval()
    seq = rng.integer(2, context)
    return future_probe(block, rng, rng.randn(rng.integer(1, 3), seq, d))


@check("train mode: dropout acts on each branch's output with rate p and scale 1/(1-p), two independent "
       "draws, never on the stream or the sum", compare=branch_dropout_compare,
       promises=["and dropout with rate `dropout` for the branch outputs",
                 "In training mode dropout acts on each branch's output before the addition, with a separate "
                 "draw for each branch, and never on the stream or on the sum;"])
def branch_dropout_random(t, rng):
    heads = rng.integer(1, 4)
    d = heads * rng.integer(-(-12 // heads), 24 // heads)  # 12-24 features, 4 sequences of >= 6: n >= 288
    context = rng.integer(6, 10)
    return zero_projection_probe(t, rng, 4, context, d, heads, context,
                                 dropout=rng.choice([0.2, 0.3, 0.5, 0.6]), qkv_bias=rng.coin(), train=True)


@check("train mode: the attention inside the block drops attention weights with the block's rate",
       compare=dropout_property_compare,
       promises=["Inside `attn`, dropout with the same rate acts on the attention weights."])
def attention_dropout_random(t, rng):
    seq = rng.integer(6, 9)
    # one head and d_model >= seq: the values have full rank, so the weights used can be recovered
    d = seq + rng.integer(2, 6)
    p = rng.choice([0.2, 0.3, 0.5, 0.6])

    def factory(w_value):
        params = block_params(rng, d, False)
        params.update({"attn.W_query.weight": torch.zeros(d, d), "attn.W_key.weight": torch.zeros(d, d),
                       "attn.W_value.weight": w_value, "attn.out_proj.weight": torch.eye(d),
                       "attn.out_proj.bias": torch.zeros(d)})
        block = block_with(t, rng, d, 1, seq + rng.integer(0, 3), dropout=p, params=params)
        return block.attn  # the attention the block built: its output is D @ values (out_proj = identity)

    return uniform_dropout_probe(factory, rng, 8, seq, d, d, p)


@check("eval mode switches all dropout off; dropout=0 in train mode drops nothing",
       promises=["in eval mode, or with `dropout=0`, nothing is dropped."])
def eval_mode_random(t, rng):
    d, heads = config(rng)
    context = rng.integer(2, 10)
    params = block_params(rng, d, True)
    x = rng.randn(2, context, d)
    dropping = block_with(t, rng, d, heads, context, dropout=rng.choice([0.3, 0.7]), qkv_bias=True,
                          params=params).eval()
    plain = block_with(t, rng, d, heads, context, dropout=0.0, qkv_bias=True, params=params).train()
    return [dropping(x), plain(x)]


@check("seq > context_length and d_model % num_heads != 0 raise ValueError naming both numbers; "
       "exactly context_length tokens raise nothing",
       promises=["`seq > context_length` raises `ValueError` naming both numbers",
                 "`d_model % num_heads != 0` raises `ValueError` naming both numbers",
                 "for every `1 <= seq <= context_length`"])
def errors_random(t, rng):
    d, heads = config(rng)
    context = rng.integer(1, 10)
    longer = context + rng.integer(1, 6)
    block = block_with(t, rng, d, heads, context)
    bad_heads = rng.integer(2, 5)
    bad_d = bad_heads * rng.integer(1, 4) + rng.integer(1, bad_heads - 1)
    return [
        too_long_case(t, rng, d, heads, context, longer),
        error_case(f"TransformerBlock(context_length={context}) on exactly {context} tokens", block,
                   rng.randn(1, context, d)),
        error_case(f"TransformerBlock(d_model={bad_d}, num_heads={bad_heads})", t.TransformerBlock,
                   bad_d, bad_heads, 4, names=[bad_d, bad_heads]),
    ]

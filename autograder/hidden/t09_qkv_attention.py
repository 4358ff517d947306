"""Hidden checks for topic 09 - Self-attention with Q, K, V (fresh seed every run)."""

import inspect

import torch
from torch import nn

from checks.t09_qkv_attention import (
    NAMES,
    against_torch_sdpa,
    make_v1,
    make_v2,
    random_mask,
    v2_params,
)
from llmkit.checks import check
from llmkit.probing import error_case, load_params

NOT_BEHAVIOUR = {
    "In `self_attention.py`, which imports `softmax` from your topic 08.": "where the code goes and what it reuses",
    "PyTorch's `scaled_dot_product_attention` uses the opposite)": "a remark about PyTorch, not about this code",
}

# d_k that are not perfect squares, so sqrt(d_k) is not an integer and differs from d_k
D_K = (2, 3, 5, 6, 7, 8, 10, 12)


def batch_shape(rng) -> list[int]:
    return [rng.integer(1, 3) for _ in range(rng.integer(0, 2))]


def qkv(rng, d_k: int, d_v: int, scale: float = 1.5, min_seq: int = 1):
    batch = batch_shape(rng)
    seq_q, seq_k = rng.integer(min_seq, 6), rng.integer(min_seq, 6)
    return (rng.randn(*batch, seq_q, d_k, scale=scale), rng.randn(*batch, seq_k, d_k, scale=scale),
            rng.randn(*batch, seq_k, d_v))


def dims(rng, square: bool = False) -> tuple[int, int]:
    """``(d_in, d_out)``: equal when ``square``, else different (so a scaling by sqrt(d_in) shows)."""
    d_in = rng.integer(2, 7)
    return (d_in, d_in) if square else (d_in, rng.choice([d for d in D_K if d != d_in]))


@check("scaled_dot_product divides the scores by sqrt(d_k) (d_k not a square, d_v != d_k, seq_k >= 2)",
       promises=["`q (..., seq_q, d_k)`, `k (..., seq_k, d_k)`, `v (..., seq_k, d_v)`",
                 "Returns `(context (..., seq_q, d_v), weights (..., seq_q, seq_k))`",
                 "Scores are divided by `sqrt(d_k)`", "softmax runs over the last axis"])
def sdp_scaling(t, rng):
    d_k = rng.choice(D_K)
    d_v = rng.choice([d for d in range(1, 9) if d != d_k])
    # seq_k >= 2: with a single key its weight is 1 whatever the scaling. q and k of scale s give
    # scores q.k / sqrt(d_k) of std s**2 (0.5 to 2): a softmax that far from one-hot shows any other
    # scaling, where a saturated one (std 20 at s = 3) hid it from 1 run in 100
    q, k, v = qkv(rng, d_k, d_v, scale=rng.choice([0.7, 1.0, 1.4]), min_seq=2)
    context, weights = t.scaled_dot_product(q, k, v)
    return [context, weights]


@check("scaled_dot_product equals F.scaled_dot_product_attention (with and without a mask)",
       compare=against_torch_sdpa)
def sdp_vs_torch(t, rng):
    d_k, d_v = rng.choice(D_K), rng.integer(1, 6)
    q, k, v = qkv(rng, d_k, d_v)
    seq_q, seq_k = q.shape[-2], k.shape[-2]
    # a full-size mask or one that broadcasts over the batch dimensions
    mask = rng.choice([None, random_mask(rng, seq_q, seq_k),
                       random_mask(rng, *q.shape[:-1], seq_k)])
    context, _ = t.scaled_dot_product(q, k, v, mask=mask)
    return {"q": q, "k": k, "v": v, "mask": mask, "context": context}


@check("mask semantics: True = masked out, weight exactly 0 there; broadcast masks work",
       promises=["`mask`: True = masked out (this course's convention everywhere;",
                 "`mask` is bool and broadcastable to `(..., seq_q, seq_k)`, with **True = masked out**."])
def mask_semantics(t, rng):
    d_k = rng.choice(D_K)
    batch, seq_q, seq_k = rng.integer(1, 3), rng.integer(2, 5), rng.integer(2, 6)
    q, k, v = rng.randn(batch, seq_q, d_k), rng.randn(batch, seq_k, d_k), rng.randn(batch, seq_k, 3)
    full = random_mask(rng, batch, seq_q, seq_k)
    padding = random_mask(rng, batch, 1, seq_k)  # one mask per sequence, shared by all queries
    out = []
    for mask in (full, padding):
        context, weights = t.scaled_dot_product(q, k, v, mask=mask)
        masked = weights.masked_select(mask.expand_as(weights))
        out += [context, weights, {"masked weights all exactly 0": bool((masked == 0).all())}]
    return out


@check("a query whose keys are all masked gets NaN weights (scores set to -inf, documented)",
       promises=["masked scores are set to `-inf`", "A query with all keys masked gets NaN"])
def sdp_fully_masked(t, rng):
    q, k, v = rng.randn(3, 4), rng.randn(5, 4), rng.randn(5, 2)
    mask = random_mask(rng, 3, 5)
    mask[rng.integer(0, 2)] = True
    context, weights = t.scaled_dot_product(q, k, v, mask=mask)
    return [context, weights]


@check("SelfAttentionV1 equals the reference given weights (d_in != d_out), unbatched and batched",
       promises=["`(seq, d_in)` or `(batch, seq, d_in)` -> `(..., seq, d_out)`, using `x @ W` and no mask"])
def v1_given_weights(t, rng):
    d_in, d_out = dims(rng)
    attn = make_v1(t, rng, d_in, d_out)
    seq = rng.integer(2, 6)  # >= 2 keys, so the scaling of the scores shows in the output
    x = rng.randn(rng.integer(1, 3), seq, d_in)
    return [attn(x), attn(x[0]), attn(x[-1])]


@check("SelfAttentionV2 equals the reference given weights (d_in != d_out), with and without qkv_bias",
       promises=["as V1"])
def v2_given_weights(t, rng):
    d_in, d_out = dims(rng)
    plain, biased = make_v2(t, rng, d_in, d_out), make_v2(t, rng, d_in, d_out, bias=True)
    x = rng.randn(rng.integer(1, 3), rng.integer(2, 6), d_in)  # seq >= 2, as for V1
    return [plain(x), plain(x[0]), biased(x), biased(x[-1])]


@check("transfer_v2_to_v1: equal outputs, copied in place without gradient, v1 returned, v2 untouched "
       "(square and non-square)",
       promises=["copies each V2 weight, **transposed**, into V1 in place (no gradient recorded) and returns `v1`.",
                 "`v2` is unchanged"])
def transfer_equal_outputs(t, rng):
    out = []
    for square in (False, True):
        d_in, d_out = dims(rng, square)
        params = v2_params(rng, d_in, d_out)
        v2 = load_params(t.SelfAttentionV2(d_in, d_out), params, "t09 SelfAttentionV2")
        v1 = t.SelfAttentionV1(d_in, d_out)
        before = {name: getattr(v1, name) for name in NAMES}
        returned = t.transfer_v2_to_v1(v2, v1)
        in_place = {name: getattr(v1, name) is before[name] for name in NAMES}
        untracked = {name: bool(p.is_leaf and p.requires_grad and p.grad_fn is None)
                     for name, p in ((n, getattr(v1, n)) for n in NAMES)}
        x = rng.randn(2, rng.integer(2, 5), d_in)
        with torch.no_grad():
            out += [v1(x), v2(x), returned is v1,
                    {"same Parameter objects (copied in place)": in_place,
                     "trainable leaves, no gradient recorded": untracked},
                    [getattr(v1, name) for name in NAMES],
                    [getattr(v2, name).weight for name in NAMES]]  # unchanged by the transfer
    return out


@check("transfer_v2_to_v1 refuses a V2 with biases and modules of different sizes (ValueError)",
       promises=["In `transfer_v2_to_v1`, a V2 with biases (V1 cannot hold them) or modules of different sizes "
                 "raise `ValueError`."])
def transfer_errors(t, rng):
    d_in, d_out = dims(rng)
    v2 = make_v2(t, rng, d_in, d_out)
    return [
        error_case("V2 with qkv_bias=True", t.transfer_v2_to_v1, make_v2(t, rng, d_in, d_out, bias=True),
                   t.SelfAttentionV1(d_in, d_out)),
        error_case(f"V2({d_in}, {d_out}) into V1({d_in}, {d_out + 1})", t.transfer_v2_to_v1, v2,
                   t.SelfAttentionV1(d_in, d_out + 1)),
        # the sizes swapped: V2's weights (d_out, d_in) fit V1(d_out, d_in) only if copied untransposed
        error_case(f"V2({d_in}, {d_out}) into V1({d_out}, {d_in})", t.transfer_v2_to_v1, v2,
                   t.SelfAttentionV1(d_out, d_in)),
    ]


@check("parameter names, shapes, types and requires_grad of both versions; scaled_dot_product's signature",
       promises=["parameters `W_query`, `W_key`, `W_value`, each an `nn.Parameter` of shape `(d_in, d_out)`",
                 "submodules `W_query`, `W_key`, `W_value`, each `nn.Linear(d_in, d_out, bias=qkv_bias)`.",
                 "Parameter names: `W_query.weight` `(d_out, d_in)`, `W_query.bias` `(d_out,)`",
                 "Topic 10 calls `scaled_dot_product` with a causal mask, so keep its signature exactly."])
def parameter_contract(t, rng):
    d_in, d_out = dims(rng)

    def describe(module):
        return sorted([name, list(p.shape), p.requires_grad] for name, p in module.named_parameters())

    v1, v2, v2_bias = (t.SelfAttentionV1(d_in, d_out), t.SelfAttentionV2(d_in, d_out),
                       t.SelfAttentionV2(d_in, d_out, qkv_bias=True))
    parameters = list(inspect.signature(t.scaled_dot_product).parameters.values())
    return [describe(v1), describe(v2), describe(v2_bias),
            {"V1 attributes are nn.Parameter": [isinstance(getattr(v1, n, None), nn.Parameter) for n in NAMES],
             "V2 submodules are nn.Linear": [isinstance(getattr(v2, n, None), nn.Linear) for n in NAMES]},
            {"scaled_dot_product(q, k, v, mask=None), all four positional": [
                [p.name, p.kind.name, "required" if p.default is inspect.Parameter.empty else repr(p.default)]
                for p in parameters[:4]],
             "more parameters without a default": [p.name for p in parameters[4:]
                                                   if p.default is inspect.Parameter.empty
                                                   and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]}]


@check("bad shapes raise ValueError, a non-bool mask raises TypeError",
       promises=["`q`/`k` with different `d_k`, or `k`/`v` with different `seq_k`, raise `ValueError`.",
                 "A mask that is not a bool tensor raises `TypeError`.",
                 "`x` that is not `(seq, d_in)` or `(batch, seq, d_in)` raises `ValueError`."])
def bad_inputs(t, rng):
    d_in, d_out = dims(rng)
    v1, v2 = make_v1(t, rng, d_in, d_out), make_v2(t, rng, d_in, d_out)
    q, k, v = rng.randn(3, d_out), rng.randn(4, d_out), rng.randn(4, 2)
    return [error_case("V1: x with the wrong d_in", v1, rng.randn(3, d_in + 1)),
            error_case("V2: x with the wrong d_in", v2, rng.randn(2, 3, d_in + 2)),
            error_case("V1: x of 1 dimension", v1, rng.randn(d_in)),
            error_case("V2: x of 1 dimension", v2, rng.randn(d_in)),
            error_case("V1: x of 4 dimensions", v1, rng.randn(2, 2, 3, d_in)),
            error_case("V2: x of 4 dimensions", v2, rng.randn(2, 2, 3, d_in)),
            error_case("scaled_dot_product: q, k with different d_k", t.scaled_dot_product, q,
                       rng.randn(4, d_out + 1), v),
            error_case("scaled_dot_product: k, v with different seq_k", t.scaled_dot_product, q, k,
                       rng.randn(5, 2)),
            error_case("scaled_dot_product: a long (integer) mask", t.scaled_dot_product, q, k, v,
                       torch.zeros(3, 4, dtype=torch.long)),
            error_case("scaled_dot_product: a float mask", t.scaled_dot_product, q, k, v, torch.zeros(3, 4))]

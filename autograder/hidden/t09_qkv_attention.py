"""Hidden checks for topic 09 - Self-attention with Q, K, V (fresh seed every run)."""

import torch

from checks.t09_qkv_attention import (
    NAMES,
    against_torch_sdpa,
    make_v1,
    make_v2,
    random_mask,
    v2_params,
)
from llmkit.checks import check
from llmkit.probing import load_params, raises

# d_k that are not perfect squares, so sqrt(d_k) is not an integer and differs from d_k
D_K = (2, 3, 5, 6, 7, 8, 10, 12)


def batch_shape(rng) -> list[int]:
    return [rng.integer(1, 3) for _ in range(rng.integer(0, 2))]


def qkv(rng, d_k: int, d_v: int, scale: float = 1.5):
    batch = batch_shape(rng)
    seq_q, seq_k = rng.integer(1, 6), rng.integer(1, 6)
    return (rng.randn(*batch, seq_q, d_k, scale=scale), rng.randn(*batch, seq_k, d_k, scale=scale),
            rng.randn(*batch, seq_k, d_v))


def dims(rng, square: bool = False) -> tuple[int, int]:
    d_in = rng.integer(2, 7)
    return (d_in, d_in) if square else (d_in, rng.choice([d for d in D_K if d != d_in]))


@check("scaled_dot_product divides the scores by sqrt(d_k) (d_k not a square, d_v != d_k)")
def sdp_scaling(t, rng):
    d_k = rng.choice(D_K)
    d_v = rng.choice([d for d in range(1, 9) if d != d_k])
    q, k, v = qkv(rng, d_k, d_v, scale=rng.choice([1.0, 2.0, 3.0]))
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


@check("mask semantics: True = masked out, weight exactly 0 there; broadcast masks work")
def mask_semantics(t, rng):
    d_k = rng.choice(D_K)
    batch, seq_q, seq_k = rng.integer(1, 3), rng.integer(2, 5), rng.integer(2, 6)
    q, k, v = rng.randn(batch, seq_q, d_k), rng.randn(batch, seq_k, d_k), rng.randn(batch, seq_k, 3)
    full = random_mask(rng, batch, seq_q, seq_k)
    padding = random_mask(rng, batch, 1, seq_k)  # one mask per sequence, shared by all queries
    out = []
    for mask in (full, padding):
        context, weights = t.scaled_dot_product(q, k, v, mask=mask)
        out += [context, weights, weights.masked_select(mask.expand_as(weights))]
    return out


@check("a query whose keys are all masked gets NaN weights (scores set to -inf, documented)")
def sdp_fully_masked(t, rng):
    q, k, v = rng.randn(3, 4), rng.randn(5, 4), rng.randn(5, 2)
    mask = random_mask(rng, 3, 5)
    mask[rng.integer(0, 2)] = True
    context, weights = t.scaled_dot_product(q, k, v, mask=mask)
    return [context, weights]


@check("SelfAttentionV1 equals the reference given weights, unbatched and batched")
def v1_given_weights(t, rng):
    d_in, d_out = dims(rng)
    attn = make_v1(t, rng, d_in, d_out)
    seq = rng.integer(1, 6)
    x = rng.randn(rng.integer(1, 3), seq, d_in)
    return [attn(x), attn(x[0]), attn(x[-1])]


@check("SelfAttentionV2 equals the reference given weights, with and without qkv_bias")
def v2_given_weights(t, rng):
    d_in, d_out = dims(rng)
    plain, biased = make_v2(t, rng, d_in, d_out), make_v2(t, rng, d_in, d_out, bias=True)
    x = rng.randn(rng.integer(1, 3), rng.integer(1, 6), d_in)
    return [plain(x), plain(x[0]), biased(x), biased(x[-1])]


@check("transfer_v2_to_v1: equal outputs, v1 returned, v2 untouched (square and non-square)")
def transfer_equal_outputs(t, rng):
    out = []
    for square in (False, True):
        d_in, d_out = dims(rng, square)
        params = v2_params(rng, d_in, d_out)
        v2 = load_params(t.SelfAttentionV2(d_in, d_out), params, "t09 SelfAttentionV2")
        v1 = t.SelfAttentionV1(d_in, d_out)
        returned = t.transfer_v2_to_v1(v2, v1)
        x = rng.randn(2, rng.integer(1, 5), d_in)
        with torch.no_grad():
            out += [v1(x), v2(x), returned is v1,
                    [getattr(v1, name) for name in NAMES],
                    [getattr(v2, name).weight for name in NAMES]]  # unchanged by the transfer
    return out


@check("transfer_v2_to_v1 refuses a V2 with biases (ValueError)")
def transfer_with_bias(t, rng):
    d_in, d_out = dims(rng)
    v2 = make_v2(t, rng, d_in, d_out, bias=True)
    return raises(t.transfer_v2_to_v1, v2, t.SelfAttentionV1(d_in, d_out))


@check("parameter names, shapes and requires_grad of both versions")
def parameter_contract(t, rng):
    d_in, d_out = dims(rng)

    def describe(module):
        return sorted([name, list(p.shape), p.requires_grad] for name, p in module.named_parameters())

    return [describe(t.SelfAttentionV1(d_in, d_out)), describe(t.SelfAttentionV2(d_in, d_out)),
            describe(t.SelfAttentionV2(d_in, d_out, qkv_bias=True))]


@check("bad shapes raise ValueError, a non-bool mask raises TypeError")
def bad_inputs(t, rng):
    d_in, d_out = dims(rng)
    v1, v2 = make_v1(t, rng, d_in, d_out), make_v2(t, rng, d_in, d_out)
    q, k, v = rng.randn(3, d_out), rng.randn(4, d_out), rng.randn(4, 2)
    return [raises(v1, rng.randn(3, d_in + 1)), raises(v2, rng.randn(2, 3, d_in + 2)),
            raises(v1, rng.randn(d_in)), raises(v2, rng.randn(d_in)),
            raises(t.scaled_dot_product, q, rng.randn(4, d_out + 1), v),
            raises(t.scaled_dot_product, q, k, rng.randn(5, 2)),
            raises(t.scaled_dot_product, q, k, v, torch.zeros(3, 4, dtype=torch.long))]

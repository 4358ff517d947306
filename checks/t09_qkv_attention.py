"""Public checks for topic 09 - Self-attention with Q, K, V."""

import torch
import torch.nn.functional as F

from llmkit.checks import check
from llmkit.probing import Rng, load_params, raises
from llmkit.values import Mismatch, Near, exact, same

NAMES = ("W_query", "W_key", "W_value")


def v1_params(rng: Rng, d_in: int, d_out: int) -> dict[str, torch.Tensor]:
    """Given weights for SelfAttentionV1: each ``(d_in, d_out)``."""
    return rng.params({name: (d_in, d_out) for name in NAMES})


def v2_params(rng: Rng, d_in: int, d_out: int, bias: bool = False) -> dict[str, torch.Tensor]:
    """Given weights for SelfAttentionV2: ``W_*.weight`` ``(d_out, d_in)``, ``W_*.bias`` ``(d_out,)``."""
    shapes = {f"{name}.weight": (d_out, d_in) for name in NAMES}
    if bias:
        shapes.update({f"{name}.bias": (d_out,) for name in NAMES})
    return rng.params(shapes)


def make_v1(t, rng: Rng, d_in: int, d_out: int):
    return load_params(t.SelfAttentionV1(d_in, d_out), v1_params(rng, d_in, d_out),
                       f"t09 SelfAttentionV1({d_in}, {d_out})")


def make_v2(t, rng: Rng, d_in: int, d_out: int, bias: bool = False):
    return load_params(t.SelfAttentionV2(d_in, d_out, qkv_bias=bias),
                       v2_params(rng, d_in, d_out, bias),
                       f"t09 SelfAttentionV2({d_in}, {d_out}, qkv_bias={bias})")


def random_mask(rng: Rng, *shape: int) -> torch.Tensor:
    """Bool mask (True = masked out) that leaves at least one key per query visible."""
    mask = rng.rand(*shape) < 0.4
    keep = rng.randint(0, shape[-1], tuple(shape[:-1]))  # one visible key per row
    mask.scatter_(-1, keep.unsqueeze(-1), False)
    return mask


def against_torch_sdpa(got, expected, *, reveal):
    """``got["context"]`` must equal ``F.scaled_dot_product_attention`` on the stored inputs.

    PyTorch's boolean ``attn_mask`` means True = *take part*, the opposite of
    this course's convention, hence ``~mask``. Recomputed in the grader's process.
    """
    if not isinstance(got, dict) or "context" not in got:
        raise Mismatch("the probe did not return the context vectors")
    mask = expected["mask"]
    q, k, v = (exact(expected[name]) for name in "qkv")  # float64, on the learner's inputs
    truth = F.scaled_dot_product_attention(q, k, v, attn_mask=None if mask is None else ~mask)
    same(got["context"], Near(truth, expected["context"].spread), reveal=reveal,
         path="context vs F.scaled_dot_product_attention")


@check("scaled_dot_product: softmax(q k^T / sqrt(d_k)) v with d_k != d_v")
def sdp_basic(t, rng):
    q, k, v = rng.randn(4, 6, scale=2.0), rng.randn(5, 6, scale=2.0), rng.randn(5, 3)
    context, weights = t.scaled_dot_product(q, k, v)
    return [context, weights]


@check("scaled_dot_product: True in the mask means 'masked out' (weight exactly 0)")
def sdp_mask(t, rng):
    q, k, v = rng.randn(2, 4, 3), rng.randn(2, 5, 3), rng.randn(2, 5, 2)
    context, weights = t.scaled_dot_product(q, k, v, mask=random_mask(rng, 4, 5))
    return [context, weights]


@check("scaled_dot_product equals F.scaled_dot_product_attention", compare=against_torch_sdpa)
def sdp_like_torch(t, rng):
    q, k, v = rng.randn(2, 3, 5), rng.randn(2, 4, 5), rng.randn(2, 4, 7)
    mask = random_mask(rng, 2, 3, 4)
    context, _ = t.scaled_dot_product(q, k, v, mask=mask)
    return {"q": q, "k": k, "v": v, "mask": mask, "context": context}


@check("SelfAttentionV1 with given W_query, W_key, W_value (d_in, d_out): unbatched and batched")
def v1_forward(t, rng):
    attn = make_v1(t, rng, 5, 3)
    x = rng.randn(2, 4, 5)
    return [attn(x[0]), attn(x)]


@check("SelfAttentionV2 with given nn.Linear weights, without and with qkv_bias")
def v2_forward(t, rng):
    x = rng.randn(2, 4, 5)
    plain, biased = make_v2(t, rng, 5, 3), make_v2(t, rng, 5, 3, bias=True)
    return [plain(x[1]), plain(x), biased(x)]


@check("transfer_v2_to_v1 makes V1 compute what V2 computes (weights transposed)")
def transfer(t, rng):
    v2 = make_v2(t, rng, 4, 6)
    v1 = t.transfer_v2_to_v1(v2, t.SelfAttentionV1(4, 6))
    x = rng.randn(3, 4)
    with torch.no_grad():
        return [v1(x), v2(x), v1.W_query]


@check("bad shapes: ValueError; a mask that is not bool: TypeError")
def bad_inputs(t, rng):
    attn = make_v1(t, rng, 4, 2)
    q, k, v = rng.randn(3, 4), rng.randn(5, 4), rng.randn(5, 2)
    return [raises(attn, rng.randn(3, 5)),
            raises(t.scaled_dot_product, q, rng.randn(5, 3), v),
            raises(t.scaled_dot_product, q, k, rng.randn(4, 2)),
            raises(t.scaled_dot_product, q, k, v, torch.zeros(3, 5))]

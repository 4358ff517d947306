"""Public checks for topic 04 - Token embeddings."""

import torch

from llmkit.checks import check
from llmkit.probing import Rng, error_case, load_params
from llmkit.values import Mismatch


def embedding_with(t, rng: Rng, vocab: int, dim: int):
    """A learner's ``Embedding(vocab, dim)`` with ``weight`` overwritten by given values."""
    module = t.Embedding(vocab, dim)
    load_params(module, rng.params({"weight": (vocab, dim)}), "t04 Embedding")
    return module


def gradient_of_lookup(t, rng: Rng, vocab: int, dim: int, ids: torch.Tensor):
    """``weight.grad`` after backpropagating a random weighting of ``Embedding(ids)``."""
    module = embedding_with(t, rng, vocab, dim)
    out = module(ids)
    weighting = rng.randn(*ids.shape, dim)
    if tuple(out.shape) != tuple(weighting.shape):
        raise Mismatch(f"Embedding({vocab}, {dim}) on ids of shape {tuple(ids.shape)} returned shape "
                       f"{tuple(out.shape)}, expected {tuple(weighting.shape)}")
    (out * weighting).sum().backward()
    return module.weight.grad


def ids_from_some_rows(rng: Rng, vocab: int, n_used: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Ids drawn (with repeats) from ``n_used`` random rows of ``vocab``: other rows stay unused."""
    used = torch.tensor(rng.sample(range(vocab), n_used))
    return used[rng.randint(0, n_used, shape)]


@check("Embedding has one parameter 'weight' (num_embeddings, embedding_dim), drawn from N(0, 1)")
def parameter(t, rng):
    module = t.Embedding(1000, 64)
    params = {name: [list(p.shape), p.requires_grad, str(p.dtype)] for name, p in module.named_parameters()}
    weight = dict(module.named_parameters()).get("weight")
    stats = None
    if weight is not None:  # mean 0 and std 1, rounded so that the answer does not depend on the draw
        # 64,000 N(0, 1) values: the sample mean varies by 1/sqrt(64000) = 0.004 and the sample std by
        # 0.0028, and rounding to one decimal changes the answer only past 0.05 away - 12 and 17 such
        # deviations, a false failure rate below 1e-30. (+ 0.0 turns a rounded -0.0 into 0.0, so the
        # stored snapshot does not flip between runs.)
        stats = [round(weight.mean().item(), 1) + 0.0, round(weight.std().item(), 1) + 0.0]
    return {"parameters": params, "mean_std": stats}


@check("Embedding(ids) of shape (batch, seq) equals nn.Embedding with the same weight")
def lookup_batch(t, rng):
    vocab, dim = 17, 6
    module = embedding_with(t, rng, vocab, dim)
    ids = rng.randint(0, vocab, (3, 5))
    ids[0, 0], ids[-1, -1] = 0, vocab - 1  # the first and the last row are used too
    return module(ids)


@check("Embedding works for 1-D ids and a 0-D (scalar) id")
def lookup_shapes(t, rng):
    vocab, dim = 11, 4
    module = embedding_with(t, rng, vocab, dim)
    return [module(rng.randint(0, vocab, (7,))), module(torch.tensor(rng.integer(0, vocab - 1)))]


@check("gradient reaches only the rows that were looked up; repeated ids add up")
def gradient_rows(t, rng):
    vocab, dim = 12, 3
    return gradient_of_lookup(t, rng, vocab, dim, ids_from_some_rows(rng, vocab, 5, (2, 6)))


@check("one_hot(ids, num_classes) gives float vectors with a single 1.0 at each id")
def one_hot_values(t, rng):
    return [t.one_hot(rng.randint(0, 6, (2, 4)), 6), t.one_hot(torch.tensor(2), 5)]


@check("embed_via_one_hot(ids, weight) equals the lookup weight[ids]")
def one_hot_matmul(t, rng):
    weight = rng.randn(9, 5)
    return t.embed_via_one_hot(rng.randint(0, 9, (2, 7)), weight)


@check("out-of-range ids raise IndexError naming the id and the vocabulary size; float or bool ids TypeError")
def bad_ids(t, rng):
    module = embedding_with(t, rng, 10, 4)
    return [
        error_case("Embedding(10, 4) on id 10", module, torch.tensor([3, 10, 2]), names=[10]),
        error_case("Embedding(10, 4) on id -1", module, torch.tensor([[0, -1]]), names=[-1, 10]),
        error_case("Embedding(10, 4) on float ids", module, torch.tensor([1.0, 2.0])),
        error_case("Embedding(10, 4) on bool ids", module, torch.tensor([True, False])),
        error_case("one_hot(ids, 6) on id 6", t.one_hot, torch.tensor([1, 6]), 6, names=[6]),
        error_case("one_hot(ids, 6) on float ids", t.one_hot, torch.tensor([1.0, 2.0]), 6),
    ]


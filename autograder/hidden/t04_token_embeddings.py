"""Hidden checks for topic 04 - Token embeddings (fresh seed every run)."""

import torch

from checks.t04_token_embeddings import (
    embedding_with,
    gradient_of_lookup,
    ids_from_some_rows,
)
from llmkit.checks import check
from llmkit.probing import error_case, load_params
from llmkit.values import close


def random_sizes(rng, max_vocab=300, max_dim=48):
    return rng.integer(2, max_vocab), rng.integer(1, max_dim)


@check("Embedding equals nn.Embedding given weights: random sizes, ids of shape (batch, seq)")
def lookup_random_batches(t, rng):
    out = []
    for _ in range(3):
        vocab, dim = random_sizes(rng)
        module = embedding_with(t, rng, vocab, dim)
        ids = rng.randint(0, vocab, (rng.integer(1, 5), rng.integer(1, 12)))
        ids.view(-1)[rng.integer(0, ids.numel() - 1)] = vocab - 1  # the last row is reachable
        out.append(module(ids))
    return out


@check("Embedding on 1-D ids, a 0-D id, 3-D ids and int32 ids; output dtype float32")
def lookup_any_shape(t, rng):
    vocab, dim = random_sizes(rng, 60, 16)
    module = embedding_with(t, rng, vocab, dim)
    scalar = torch.tensor(rng.integer(0, vocab - 1))
    return [module(rng.randint(0, vocab, (rng.integer(1, 9),))), module(scalar),
            module(rng.randint(0, vocab, (2, rng.integer(1, 4), 3))),
            module(rng.randint(0, vocab, (2, 5)).to(torch.int32)),
            str(module(scalar).dtype)]


@check("Embedding on an empty id tensor gives an empty (0, embedding_dim) result")
def lookup_empty(t, rng):
    vocab, dim = random_sizes(rng, 30, 8)
    module = embedding_with(t, rng, vocab, dim)
    return [module(torch.zeros(0, dtype=torch.long)), module(torch.zeros(2, 0, dtype=torch.long))]


@check("weight.grad is zero on unused rows and accumulates over repeated ids")
def gradient_sparse(t, rng):
    vocab, dim = random_sizes(rng, 40, 8)
    n_used = rng.integer(1, max(1, vocab // 2))
    ids = ids_from_some_rows(rng, vocab, n_used, (rng.integer(1, 4), rng.integer(2, 10)))
    scalar = torch.tensor(rng.integer(0, vocab - 1))
    return [gradient_of_lookup(t, rng, vocab, dim, ids), gradient_of_lookup(t, rng, vocab, dim, scalar)]


@check("parameter 'weight' has the right shape, requires grad and starts N(0, 1)",
       compare=close(rtol=0.0, atol=0.06))
def init_statistics(t, rng):
    vocab, dim = rng.integer(800, 1500), rng.integer(40, 80)
    module = t.Embedding(vocab, dim)
    params = dict(module.named_parameters())
    weight = params.get("weight")
    if weight is None:
        return {"names": sorted(params)}
    return {"names": sorted(params), "shape": list(weight.shape), "requires_grad": weight.requires_grad,
            "mean": weight.mean().item(), "std": weight.std().item(),
            "fraction_within_1_std": (weight.abs() < 1).float().mean().item()}


@check("one_hot on random ids: (..., num_classes) float, exactly one 1.0 per vector")
def one_hot_random(t, rng):
    classes = rng.integer(1, 40)
    return [t.one_hot(rng.randint(0, classes, (rng.integer(1, 4), rng.integer(1, 6))), classes),
            t.one_hot(rng.randint(0, classes, (rng.integer(1, 8),)), classes),
            t.one_hot(torch.tensor(rng.integer(0, classes - 1)), classes),
            t.one_hot(rng.randint(0, classes, (2, 3, 2)), classes)]


@check("embed_via_one_hot equals Embedding's lookup with the same weight")
def one_hot_equivalence(t, rng):
    vocab, dim = random_sizes(rng, 80, 16)
    weight = rng.randn(vocab, dim)
    ids = rng.randint(0, vocab, (rng.integer(1, 4), rng.integer(1, 9)))
    module = load_params(t.Embedding(vocab, dim), {"weight": weight}, "t04 Embedding")
    return [t.embed_via_one_hot(ids, weight), module(ids),
            t.embed_via_one_hot(torch.tensor(rng.integer(0, vocab - 1)), weight)]


@check("bad ids: too large, negative, float or bool -> clear errors naming the id and the size")
def bad_ids_random(t, rng):
    vocab, dim = random_sizes(rng, 50, 6)
    module = embedding_with(t, rng, vocab, dim)
    high = vocab + rng.integer(1, 500)
    low = -rng.integer(1, vocab)
    ids = rng.randint(0, vocab, (2, 5))
    big, negative, edge = ids.clone(), ids.clone(), ids.clone()
    big[1, rng.integer(0, 4)] = high
    negative[0, rng.integer(0, 4)] = low
    edge[0, 0] = vocab
    return [
        error_case(f"Embedding({vocab}, {dim}) on id {high}", module, big, names=[high, vocab]),
        error_case(f"Embedding({vocab}, {dim}) on id {low}", module, negative, names=[low]),
        error_case(f"Embedding({vocab}, {dim}) on id {vocab}", module, edge, names=[vocab]),
        error_case(f"Embedding({vocab}, {dim}) on float ids", module, ids.float()),
        error_case(f"Embedding({vocab}, {dim}) on bool ids", module, ids > 0),
        error_case(f"Embedding({vocab}, {dim}) on ids 0..{vocab - 1}", module, torch.arange(vocab)),
        error_case(f"one_hot(ids, {vocab}) on id {high}", t.one_hot, big, vocab, names=[high]),
        error_case(f"one_hot(ids, {vocab}) on id {low}", t.one_hot, negative, vocab, names=[low]),
    ]

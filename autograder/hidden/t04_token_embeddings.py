"""Hidden checks for topic 04 - Token embeddings (fresh seed every run)."""

import torch
import torch.nn.functional as F

from checks.t04_token_embeddings import (
    embedding_with,
    gradient_of_lookup,
    ids_from_some_rows,
)
from llmkit.checks import check
from llmkit.probing import CallWatch, error_case, load_params
from llmkit.values import Mismatch, close

NOT_BEHAVIOUR = {
    "In `embedding.py`:": "where the code goes, not what it does",
}

# The library shortcuts the README rules out, however the learner imported them: F.embedding is what
# nn.Embedding calls, torch.embedding what F.embedding calls, F.one_hot is torch._C._nn.one_hot.
LIBRARY_SHORTCUTS = {F.embedding: "F.embedding (or nn.Embedding)", torch.embedding: "torch.embedding",
                     F.one_hot: "F.one_hot"}


def random_sizes(rng, max_vocab=300, max_dim=48):
    return rng.integer(2, max_vocab), rng.integer(1, max_dim)


@check("Embedding equals nn.Embedding given weights: random sizes, ids of shape (batch, seq)",
       promises=["integer tensor of any shape `(...)`",
                 "The parameter name `weight` is part of the contract"])
def lookup_random_batches(t, rng):
    out = []
    for _ in range(3):
        vocab, dim = random_sizes(rng)
        module = embedding_with(t, rng, vocab, dim)
        ids = rng.randint(0, vocab, (rng.integer(1, 5), rng.integer(1, 12)))
        ids.view(-1)[rng.integer(0, ids.numel() - 1)] = vocab - 1  # the last row is reachable
        out.append(module(ids))
    return out


@check("Embedding on 1-D ids, a 0-D id, 3-D ids and int32 ids; output dtype float32",
       promises=["integer tensor of any shape `(...)` (also a 0-D scalar) -> `(..., embedding_dim)` float"])
def lookup_any_shape(t, rng):
    vocab, dim = random_sizes(rng, 60, 16)
    module = embedding_with(t, rng, vocab, dim)
    scalar = torch.tensor(rng.integer(0, vocab - 1))
    return [module(rng.randint(0, vocab, (rng.integer(1, 9),))), module(scalar),
            module(rng.randint(0, vocab, (2, rng.integer(1, 4), 3))),
            module(rng.randint(0, vocab, (2, 5)).to(torch.int32)),
            str(module(scalar).dtype)]


@check("Embedding on an empty id tensor gives an empty (0, embedding_dim) result",
       promises=["integer tensor of any shape `(...)`"])
def lookup_empty(t, rng):
    vocab, dim = random_sizes(rng, 30, 8)
    module = embedding_with(t, rng, vocab, dim)
    return [module(torch.zeros(0, dtype=torch.long)), module(torch.zeros(2, 0, dtype=torch.long))]


@check("weight.grad is zero on unused rows and accumulates over repeated ids",
       promises=["by indexing `weight`"])
def gradient_sparse(t, rng):
    vocab, dim = random_sizes(rng, 40, 8)
    n_used = rng.integer(1, max(1, vocab // 2))
    ids = ids_from_some_rows(rng, vocab, n_used, (rng.integer(1, 4), rng.integer(2, 10)))
    scalar = torch.tensor(rng.integer(0, vocab - 1))
    return [gradient_of_lookup(t, rng, vocab, dim, ids), gradient_of_lookup(t, rng, vocab, dim, scalar)]


# Embedding(vocab, dim) draws N = vocab * dim >= 800 * 40 = 32,000 values from N(0, 1), so the sample
# mean has standard deviation 1/sqrt(N) <= 0.0056, the sample std about 1/sqrt(2N) <= 0.0040 and the share
# of |w| < 1 (p = 0.683) sqrt(p(1-p)/N) <= 0.0026. The expected value is the reference's own sample, just
# as random, so learner minus reference varies sqrt(2) times as much: <= 0.0079, 0.0056, 0.0037. A band
# of 0.06 is > 7.5 such deviations: a correct N(0, 1) init fails with probability < 2e-13 per run (three
# statistics, two-sided). Real mistakes miss by far more: rand() gives mean 0.5, a uniform with std 1
# has 0.577 of its values within 1, std 0.02 (GPT-2's trained-model init) gives std 0.02.
INIT_BAND = close(rtol=0.0, atol=0.06)


@check("parameter 'weight' has the right shape, requires grad and starts N(0, 1)", compare=INIT_BAND,
       promises=["one parameter named **`weight`**, shape `(num_embeddings, embedding_dim)`, values from N(0, 1)",
                 "The parameter name `weight` is part of the contract"])
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


@check("one_hot on random ids: (..., num_classes) float, exactly one 1.0 per vector",
       promises=["`(...)` -> `(..., num_classes)` float32 with a single 1.0 per vector"])
def one_hot_random(t, rng):
    classes = rng.integer(1, 40)
    return [t.one_hot(rng.randint(0, classes, (rng.integer(1, 4), rng.integer(1, 6))), classes),
            t.one_hot(rng.randint(0, classes, (rng.integer(1, 8),)), classes),
            t.one_hot(torch.tensor(rng.integer(0, classes - 1)), classes),
            t.one_hot(rng.randint(0, classes, (2, 3, 2)), classes)]


@check("embed_via_one_hot equals Embedding's lookup with the same weight",
       promises=["`one_hot(ids, weight.shape[0]) @ weight`, equal to `Embedding`'s output"])
def one_hot_equivalence(t, rng):
    vocab, dim = random_sizes(rng, 80, 16)
    weight = rng.randn(vocab, dim)
    ids = rng.randint(0, vocab, (rng.integer(1, 4), rng.integer(1, 9)))
    module = load_params(t.Embedding(vocab, dim), {"weight": weight}, "t04 Embedding")
    return [t.embed_via_one_hot(ids, weight), module(ids),
            t.embed_via_one_hot(torch.tensor(rng.integer(0, vocab - 1)), weight)]


@check("no nn.Embedding / F.embedding in forward, no F.one_hot in one_hot: the lookup is written by hand",
       promises=["by indexing `weight` - no `nn.Embedding` / `F.embedding`.", "(no `F.one_hot`)"])
def no_library_shortcuts(t, rng):
    vocab, dim = random_sizes(rng, 60, 8)
    module = embedding_with(t, rng, vocab, dim)
    ids = rng.randint(0, vocab, (rng.integer(1, 3), rng.integer(1, 6)))
    with CallWatch(LIBRARY_SHORTCUTS) as watch:
        rows = module(ids)
        hot = t.one_hot(ids, vocab)
    if watch.seen:
        raise Mismatch(f"called {' and '.join(sorted(set(watch.seen)))}: the README asks for the lookup and "
                       f"the one-hot vectors written by hand (index weight; compare ids with an arange)")
    return [rows, hot]


@check("bad ids: too large, negative (-1 included), float or bool -> IndexError / TypeError naming the id and "
       "the size, for Embedding and one_hot; ids 0..size-1 raise nothing",
       promises=["Float or bool ids -> `TypeError`;",
                 "an id outside `0..num_embeddings-1` (negatives too) -> `IndexError` whose message names the "
                 "bad id and the vocabulary size",
                 "The same errors as `forward`: float or bool ids -> `TypeError`;",
                 "an id outside `0..num_classes-1` (negatives too) -> `IndexError` whose message names the bad "
                 "id and `num_classes`",
                 "Careful: indexing `weight[ids]` does none of the error checks for you",
                 "It silently reads `-1` as the last row;",
                 "on float ids it raises PyTorch's own `IndexError`, not the `TypeError` asked for;",
                 "and it reads bool ids as a mask."])
def bad_ids_random(t, rng):
    vocab, dim = random_sizes(rng, 50, 6)
    module = embedding_with(t, rng, vocab, dim)
    high = vocab + rng.integer(1, 500)
    low = -rng.integer(2, vocab + 2)  # -1 has a case of its own below
    ids = rng.randint(0, vocab, (2, 5))
    big, negative, last, edge = ids.clone(), ids.clone(), ids.clone(), ids.clone()
    big[1, rng.integer(0, 4)] = high
    negative[0, rng.integer(0, 4)] = low
    last[rng.integer(0, 1), rng.integer(0, 4)] = -1  # indexing would quietly give the last row
    edge[0, 0] = vocab  # one past the last row
    # bool ids shaped like weight's first axis: indexing would read them as a row mask, no error
    mask = rng.randint(0, 2, (vocab,)).bool()
    cases = []
    for name, fn, size in ((f"Embedding({vocab}, {dim})", module, None), (f"one_hot(ids, {vocab})", t.one_hot, vocab)):
        args = () if size is None else (size,)
        cases += [
            error_case(f"{name} on id {high}", fn, big, *args, names=[high, vocab]),
            error_case(f"{name} on id {low}", fn, negative, *args, names=[low, vocab]),
            error_case(f"{name} on id -1", fn, last, *args, names=[-1, vocab]),
            error_case(f"{name} on id {vocab}", fn, edge, *args, names=[vocab]),
            error_case(f"{name} on float ids", fn, ids.float(), *args),
            error_case(f"{name} on bool ids", fn, ids > 0, *args),
            error_case(f"{name} on bool ids of shape ({vocab},)", fn, mask, *args),
            error_case(f"{name} on ids 0..{vocab - 1}", fn, torch.arange(vocab), *args),
        ]
    return cases

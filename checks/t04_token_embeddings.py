"""Public checks for topic 04 - Token embeddings."""

import re

import torch

from llmkit.checks import check
from llmkit.probing import Rng, load_params
from llmkit.values import Mismatch, same

# Lenient on purpose: a ValueError is also accepted where IndexError or TypeError is documented.
ACCEPTED = {
    "IndexError": ("IndexError", "ValueError"),
    "TypeError": ("TypeError", "ValueError"),
    "ValueError": ("ValueError",),
}


def error_of(fn, *args, **kwargs) -> dict:
    """``{"error": exception class name or None, "message": its text}`` for ``fn(*args)``.

    ``NotImplementedError`` is let through: an unwritten hole is "not done".
    """
    try:
        fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as exc:  # the type and message are the output
        return {"error": type(exc).__name__, "message": str(exc)}
    return {"error": None, "message": ""}


def _mentions(message: str, number) -> bool:
    """Is ``number`` written in ``message`` as a number of its own (not inside 123)?"""
    return re.search(rf"(?<![\d.]){re.escape(str(number))}(?![\d])", message) is not None


def expected_errors(got, expected, *, reveal: bool, path: str = "result") -> None:
    """Compare error reports ``{"error", "message", "names": [...]}`` (or lists of them).

    The error type must be the expected one (or an accepted relative), and the
    message must mention every number in the expected ``names`` list.
    """
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            raise Mismatch(f"{path}: expected a list of {len(expected)} error reports")
        for i, (g, e) in enumerate(zip(got, expected)):
            expected_errors(g, e, reveal=reveal, path=f"{path}[{i}]")
        return
    if not isinstance(got, dict) or "error" not in got:
        raise Mismatch(f"{path}: expected an error report")
    what = expected.get("case", path)
    want = expected["error"]
    if want is None:
        if got["error"] is not None:
            raise Mismatch(f"{what}: raised {got['error']} ({got.get('message', '')}), expected no error")
        return
    allowed = ACCEPTED.get(want, (want,))
    if got["error"] not in allowed:
        raised = f"raised {got['error']}" if got["error"] else "raised nothing"
        raise Mismatch(f"{what}: {raised}, expected {' or '.join(allowed)}")
    message = got.get("message") or ""
    missing = [n for n in expected.get("names", []) if not _mentions(message, n)]
    if missing:
        raise Mismatch(f"{what}: the {got['error']} message {message!r} should name "
                       + " and ".join(str(n) for n in missing))


def error_case(case: str, fn, *args, names=()) -> dict:
    """An error report for ``fn(*args)`` labelled ``case``, with the numbers its message must name."""
    return {"case": case, **error_of(fn, *args), "names": list(names)}


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
        # (+ 0.0 turns a rounded -0.0 into 0.0, so the stored snapshot does not flip between runs)
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


@check("out-of-range ids raise IndexError naming the id and the vocabulary size; float ids TypeError",
       compare=expected_errors)
def bad_ids(t, rng):
    module = embedding_with(t, rng, 10, 4)
    return [
        error_case("Embedding(10, 4) on id 10", module, torch.tensor([3, 10, 2]), names=[10]),
        error_case("Embedding(10, 4) on id -1", module, torch.tensor([[0, -1]]), names=[-1]),
        error_case("Embedding(10, 4) on float ids", module, torch.tensor([1.0, 2.0])),
        error_case("one_hot(ids, 6) on id 6", t.one_hot, torch.tensor([1, 6]), 6, names=[6]),
    ]


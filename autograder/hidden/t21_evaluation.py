"""Hidden checks for topic 21 - evaluating on real text (fresh seed every run)."""

import importlib

import torch

from checks.t21_evaluation import (
    CountingLoader,
    FailingLoader,
    NumberTokenizer,
    Watched,
    batch_probe,
    device_probe,
    evaluate_probe,
    first_ids,
    id_text,
    increasing_ids,
    loader_cases,
    loaders_probe,
    random_pairs,
    ratio_for,
    split_cases,
    tiny_model,
)
from llmkit.checks import check
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `evaluate.py` (it imports": "where the code goes and what it builds on",
}

# letters, digits, spaces, newlines, punctuation, accents, CJK and an emoji: one character each for split_text
CHARACTERS = "abcdefghij XYZ0123\n\t.,;!?-'éüß漢字😀"


def random_text(rng, length: int) -> str:
    return "".join(rng.choice(CHARACTERS) for _ in range(length))


def ratio_with_fraction(rng, length: int, low: float, high: float) -> float:
    """A ratio whose ``ratio * length`` is an integer plus a fraction in ``[low, high]``: never within
    float rounding of an integer, so int() is unambiguous, while round() (above one half) or a
    ceiling would give another index."""
    whole = rng.integer(0, length - 1)
    return (whole + low + (high - low) * rng.py.random()) / length


@check("split_text on random unicode text (1-300 characters): the default 0.9, ratios whose split point has a "
       "fraction below and above one half; train_ratio 0, 1, negative or above 1 raise ValueError naming it",
       promises=["`(text[:k], text[k:])` with `k = int(train_ratio * len(text))`, counted in characters.",
                 "The two parts join back into `text`, the training part first.",
                 "A `train_ratio` that is not strictly between 0 and 1 raises `ValueError` naming it"])
def split_random(t, rng):
    length = rng.integer(12, 300)
    length += 1 if length % 10 == 0 else 0  # 0.9 * length then has a fraction of at least 0.1
    text = random_text(rng, length)
    cases = split_cases(t, text, [ratio_with_fraction(rng, length, 0.55, 0.95),
                                  ratio_with_fraction(rng, length, 0.05, 0.45)])
    cases.append(list(t.split_text(random_text(rng, 1), 0.5)))
    bad = [0.0, 1.0, -round(rng.integer(1, 99) / 100, 2), round(1 + rng.integer(1, 99) / 100, 2)]
    return cases + [error_case(f"split_text(text, train_ratio={r})", t.split_text, text, r, names=[r]) for r in bad]


@check("train_val_loaders (batch 2-4, context 2-6, the default stride and another one): val in order with a "
       "short last batch, train full batches of real windows, shuffled the same for the same seed; the defaults "
       "seed=123 and train_ratio=0.9; a part too short for one window raises ValueError",
       promises=["splits `text` with `split_text`, then builds `(train_loader, val_loader)` with topic 03's "
                 "`create_dataloader(part, batch_size=batch_size, max_length=context_length, stride=stride, ..., "
                 "tokenizer=tokenizer)`.", "`stride=None` means `context_length`.",
                 "The train loader has `shuffle=True, drop_last=True, seed=seed`: every batch is full, and two "
                 "loaders built with the same seed give the same orders.",
                 "The val loader has `shuffle=False, drop_last=False`: every window, in text order, the last batch "
                 "possibly shorter.", "A part shorter than `context_length + 1` tokens raises topic 03's `ValueError`"])
def loaders_random(t, rng):
    out = []
    for explicit in (False, True):
        batch, context = rng.integer(2, 4), rng.integer(2, 6)
        stride = rng.choice([s for s in range(1, context + 3) if s != context]) if explicit else None
        full = -(-15 // batch)                        # full train batches: at least 15 windows an epoch
        out.append(loaders_probe(t, rng, batch, context, stride, full * batch + rng.integer(1, batch - 1),
                                 rng.integer(1, 2) * batch + rng.integer(1, batch - 1)))
    # the defaults: train_ratio=0.9 (it may cut an id in two: both halves are ids), stride, seed=123
    batch, context = rng.integer(2, 4), rng.integer(2, 6)
    text = id_text(increasing_ids(rng, 30 * (context + 2)))
    made = [t.train_val_loaders(text, batch, context, tokenizer=NumberTokenizer()) for _ in range(2)]
    out.append({"defaults: val": [[x, y] for x, y in made[0][1]],
                "defaults: same orders twice": first_ids(made[0][0]) == first_ids(made[1][0])})
    # a part with context_length tokens: one short of a window
    n = rng.integer(40, 60)
    text = id_text(increasing_ids(rng, n))
    out.append(error_case(f"val part of {context} tokens, context_length={context}", t.train_val_loaders, text,
                          batch, context, ratio_for(n, n - context), None, 1, NumberTokenizer()))
    out.append(error_case(f"train part of {context} tokens, context_length={context}", t.train_val_loaders, text,
                          batch, context, ratio_for(n, context), None, 1, NumberTokenizer()))
    return out


@check("calc_loss_batch on a tiny GPT in eval mode (device 'cpu') and in train mode with dropout "
       "(torch.device('cpu')): the loss, one forward pass, its gradients, mode and weights left alone",
       promises=["and returns topic 20's `cross_entropy(model(inputs), targets)`, a 0-dim tensor that keeps its "
                 "graph, so `backward()` works on it.",
                 "It runs the model once and changes neither the model's mode nor its weights",
                 "(a string or a `torch.device`)"])
def loss_batch_random(t, rng):
    plain, config = tiny_model(rng)
    dropping, dropping_config = tiny_model(rng, dropout=rng.choice([0.2, 0.5]))
    return [batch_probe(t, rng, plain.eval(), config, rng.integer(1, 4), "cpu"),
            batch_probe(t, rng, dropping.train(), dropping_config, rng.integer(1, 4), torch.device("cpu"))]


@check("calc_loss_batch with device 'meta' and torch.device('meta'): the ids reach the model there, and "
       "topic 20's cross_entropy gets the logits and the targets there",
       promises=["moves `inputs` and `targets` (`(batch, seq)` ids) to `device` (a string or a `torch.device`)",
                 "and returns topic 20's `cross_entropy(model(inputs), targets)`"])
def device_random(t, rng):
    return [device_probe(t, rng, "meta"), device_probe(t, rng, torch.device("meta"))]


@check("calc_loss_loader on k batches with a short last one: all, a random num_batches, num_batches = len and "
       "> len, 0 and an empty loader (nan), a topic-03 DataLoader; the value and the forward passes",
       promises=["the mean of `calc_loss_batch` over the first `min(num_batches, len(loader))` batches of `loader`, "
                 "or over all of them when `num_batches` is `None`.", "It runs the model on those batches only.",
                 "The result is a Python `float`, the plain mean of the batch losses, each batch counted once "
                 "whatever its size.",
                 "No batch to average (an empty loader, or `num_batches=0`) gives `float(\"nan\")`",
                 "`loader` may be a `DataLoader` or anything with `len()` that yields `(inputs, targets)` pairs."])
def loader_random(t, rng):
    model, config = tiny_model(rng)
    model.eval()
    k, size = rng.integer(3, 6), rng.integer(2, 4)
    sizes = [size] * (k - 1) + [rng.integer(1, size - 1)]   # a short last batch: it weighs as much as the others
    cases = loader_cases(t, rng, model, config, [
        ("all batches", sizes, None), (f"num_batches < {k}", sizes, rng.integer(1, k - 1)),
        (f"num_batches = {k}", sizes, k), (f"num_batches > {k}", sizes, k + rng.integer(1, 5)),
        ("num_batches=0", sizes, 0), ("an empty loader", [], None), ("an empty loader, num_batches=3", [], 3)])
    t03 = importlib.import_module("course.t03_dataloader")
    ids = rng.randint(0, config.vocab_size, (rng.integer(20, 40),)).tolist()
    loader = t03.create_dataloader(id_text(ids), batch_size=3, max_length=config.context_length,
                                   stride=rng.integer(1, config.context_length), shuffle=False, drop_last=False,
                                   tokenizer=NumberTokenizer())
    watched = Watched(model)
    return cases + [{"case": "a DataLoader", "loss": t.calc_loss_loader(loader, watched, "cpu", 2),
                     "forward passes": len(watched.calls)}]


@check("evaluate_model on a dropout model starting in train mode and one starting in eval mode, eval_iters "
       "longer than one loader and shorter than the other: both losses, every forward pass in eval mode without "
       "gradients, the starting mode restored",
       promises=["returns `(train_loss, val_loss)`, `calc_loss_loader` of each loader with `num_batches=eval_iters`.",
                 "Every forward pass runs in eval mode and under `torch.no_grad()`.",
                 "Afterwards the model is back in the mode it had before, train or eval"])
def evaluate_random(t, rng):
    out = []
    for training in (True, False):
        eval_iters = rng.integer(2, 4)
        short = [rng.integer(1, 3) for _ in range(eval_iters - 1)]
        long = [rng.integer(1, 3) for _ in range(eval_iters + rng.integer(1, 3))]
        train_sizes, val_sizes = (long, short) if rng.coin() else (short, long)
        out.append(evaluate_probe(t, rng, training, rng.choice([0.3, 0.5, 0.7]), train_sizes, val_sizes, eval_iters))
    return out


@check("evaluate_model when the validation loader raises midway: the error comes through, and the model is back "
       "in its starting mode (train, and eval)",
       promises=["even when a loss computation raises"])
def evaluate_raises(t, rng):
    out = []
    for training in (True, False):
        model, config = tiny_model(rng, dropout=0.1)
        watched = Watched(model).train(training)
        good = CountingLoader(random_pairs(rng, config, [2, 2]))
        failing = FailingLoader(random_pairs(rng, config, [2] * rng.integer(0, 1)), extra=2)
        out.append(error_case(f"evaluate_model with a failing val loader, model in {'train' if training else 'eval'} "
                              "mode", t.evaluate_model, watched, good, failing, "cpu", 3))
        out.append({"training afterwards": [watched.training, model.training]})
    return out

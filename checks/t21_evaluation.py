"""Public checks for topic 21 - evaluating on real text.

The helpers here (a tiny GPT with given weights, texts of fixed-width token ids
for topic 03's stand-in tokenizer, loaders that count what is drawn, a model
wrapper that records how each forward pass ran, the device probe) are reused by
the hidden checks of this topic.
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager

import torch
from torch import nn

from checks.t03_dataloader import NumberTokenizer, batches, increasing_ids
from checks.t18_gpt_model import gpt_config, model_with
from llmkit.checks import check
from llmkit.data import sample_text
from llmkit.probing import Rng, seeded
from llmkit.values import Mismatch

__all__ = ["NumberTokenizer", "batches", "increasing_ids"]  # re-exported for the hidden checks

TOKEN_CHARS = 6  # "00042 ": a token id written with five digits and a space


# ----------------------------------------------------------------------------- texts and loaders


def id_text(ids: list[int]) -> str:
    """The text ``NumberTokenizer`` reads back as ``ids``: every id in ``TOKEN_CHARS`` characters."""
    return "".join(f"{i:05d} " for i in ids)


def ratio_for(tokens: int, train_tokens: int) -> float:
    """A ``train_ratio`` that splits ``id_text`` of ``tokens`` ids right after ``train_tokens`` of them.

    ``ratio * len(text)`` lands half a character past the boundary, so ``int()`` gives the boundary
    whatever the float rounding: the split never cuts an id in two.
    """
    return (TOKEN_CHARS * train_tokens + 0.5) / (TOKEN_CHARS * tokens)


def tokens_for(windows: int, context_length: int, stride: int) -> int:
    """The fewest tokens that give exactly ``windows`` windows (topic 03's count)."""
    return context_length + 1 + (windows - 1) * stride


def windows_of(ids: list[int], context_length: int, stride: int) -> list[list[int]]:
    """Topic 03's windows of ``ids``, each as its ``context_length`` inputs plus its last target."""
    return [ids[s:s + context_length + 1] for s in range(0, len(ids) - context_length, stride)]


def train_summary(loader, real: list[list[int]]) -> dict:
    """What a shuffled loader with ``drop_last`` serves in one epoch, whatever its order: the batch
    shapes, how many windows, and whether each is one of the ``real`` windows, none twice."""
    shapes, served = [], []
    for inputs, targets in loader:
        shapes.append(list(inputs.shape))
        served += [x + [y[-1]] for x, y in zip(inputs.tolist(), targets.tolist())]
    unique = {tuple(w) for w in served}
    return {"batch shapes": sorted(shapes), "windows served": len(served),
            "each a real window, none twice": len(unique) == len(served) and unique <= {tuple(w) for w in real}}


def first_ids(loader) -> list[int]:
    """The first input id of every window, in the order the loader serves them (one epoch)."""
    return [i for inputs, _ in loader for i in inputs[:, 0].tolist()]


class CountingLoader:
    """A loader of given ``(inputs, targets)`` batches that counts how many were drawn from it."""

    def __init__(self, pairs: list):
        self.pairs = list(pairs)
        self.drawn = 0

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self):
        for pair in self.pairs:
            self.drawn += 1
            yield pair


class FailingLoader(CountingLoader):
    """Yields its batches, then raises ``RuntimeError`` instead of the next one."""

    def __init__(self, pairs: list, extra: int):
        super().__init__(pairs)
        self.extra = extra  # len() claims this many batches more than it can give

    def __len__(self) -> int:
        return len(self.pairs) + self.extra

    def __iter__(self):
        yield from super().__iter__()
        raise RuntimeError("FailingLoader: the data went missing (raised on purpose by the check)")


# ----------------------------------------------------------------------------- models


def tiny_config(rng: Rng, dropout: float = 0.0):
    """A tiny topic-13 config: vocab 20-60, d_model 8-16, 1-2 layers, context 4-8."""
    heads = rng.choice([1, 2])
    return gpt_config(rng.integer(20, 60), rng.integer(4, 8), heads * rng.integer(-(-8 // heads), 16 // heads),
                      heads, rng.integer(1, 2), dropout, rng.coin(), rng.coin())


def tiny_model(rng: Rng, dropout: float = 0.0):
    """``(model, config)``: a topic-18 ``GPTModel`` (resolved like the learner's own import) with given weights."""
    config = tiny_config(rng, dropout)
    return model_with(importlib.import_module("course.t18_gpt_model"), rng, config), config


def random_pairs(rng: Rng, config, sizes: list[int]) -> list:
    """``(inputs, targets)`` batches of ``context_length`` random ids, one per batch size in ``sizes``."""
    seq = config.context_length
    return [(rng.randint(0, config.vocab_size, (n, seq)), rng.randint(0, config.vocab_size, (n, seq)))
            for n in sizes]


class Watched(nn.Module):
    """Wraps a model and records, for every forward pass, whether gradients were enabled and
    whether the model was in training mode. ``eval()`` / ``train()`` reach the wrapped model."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.calls: list[dict] = []

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        self.calls.append({"gradients on": torch.is_grad_enabled(), "training": self.model.training})
        return self.model(ids)


def gradients(model: nn.Module) -> dict:
    return {name: p.grad for name, p in model.named_parameters()}


def weights(model: nn.Module) -> dict:
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def unchanged(before: dict, model: nn.Module) -> bool:
    return all(torch.equal(before[name], p.detach()) for name, p in model.named_parameters())


def batch_probe(t, rng: Rng, model, config, batch: int, device) -> dict:
    """``calc_loss_batch`` on one batch (dropout masks seeded), then ``backward``: the loss, every
    parameter's gradient, and whether the mode and the weights stayed as they were."""
    inputs, targets = random_pairs(rng, config, [batch])[0]
    before, mode, watched = weights(model), model.training, Watched(model)
    with seeded(rng):
        loss = t.calc_loss_batch(inputs, targets, watched, device)
    if not isinstance(loss, torch.Tensor) or not loss.requires_grad:
        raise Mismatch("calc_loss_batch returned a loss without a graph: training needs loss.backward() to work "
                       "(no torch.no_grad() and no .item() in calc_loss_batch)")
    out = {"loss": loss, "forward passes": len(watched.calls), "mode unchanged": model.training == mode,
           "weights unchanged": unchanged(before, model)}
    loss.backward()
    return out | {"gradients": gradients(model)}


def loader_cases(t, rng: Rng, model, config, cases: list) -> list:
    """``calc_loss_loader`` for each ``(label, batch sizes, num_batches)``: the value, the batches drawn
    and the forward passes the model ran."""
    watched = Watched(model)
    out = []
    for label, sizes, num_batches in cases:
        loader = CountingLoader(random_pairs(rng, config, sizes))
        watched.calls.clear()
        value = t.calc_loss_loader(loader, watched, "cpu", num_batches=num_batches)
        if type(value) is not float:
            raise Mismatch(f"calc_loss_loader ({label}) returned a {type(value).__name__}: it should return a Python "
                           "float (a batch loss's .item())")
        out.append({"case": label, "loss": value, "forward passes": len(watched.calls)})
    return out


def evaluate_probe(t, rng: Rng, training: bool, dropout: float, train_sizes: list[int], val_sizes: list[int],
                   eval_iters: int) -> dict:
    """``evaluate_model`` on a dropout model that starts in ``training`` mode: the two losses, how every
    forward pass ran, and the mode of the model afterwards."""
    model, config = tiny_model(rng, dropout)
    watched = Watched(model).train(training)
    train_loader = CountingLoader(random_pairs(rng, config, train_sizes))
    val_loader = CountingLoader(random_pairs(rng, config, val_sizes))
    with seeded(rng):
        result = t.evaluate_model(watched, train_loader, val_loader, "cpu", eval_iters)
    return {"(train_loss, val_loss)": list(result) if isinstance(result, tuple) else result,
            "forward passes": watched.calls, "training afterwards": [watched.training, model.training]}


class DeviceProbe(nn.Module):
    """A stand-in model that notes the device of the ids it gets and returns zero logits there
    (on the ``meta`` device: shapes only, no values)."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.vocab_size = vocab_size
        self.seen: list[str] = []

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        self.seen.append(str(ids.device))
        return torch.zeros(*ids.shape, self.vocab_size, device=ids.device)


@contextmanager
def recorded_cross_entropy(t):
    """Inside the block, topic 20's ``cross_entropy`` - under every name that reaches it from the
    learner's topic 21 module or topic 20's package - only notes the devices of its arguments and
    returns a zero loss on the logits' device. Yields the list of notes."""
    t20 = importlib.import_module("course.t20_loss")  # the very module the learner's import resolved to
    original = t20.cross_entropy
    seen: list[dict] = []

    def recording(logits, targets, *args, **kwargs):
        seen.append({"logits on": str(logits.device), "targets on": str(targets.device)})
        return logits.sum() * 0.0

    namespaces = [vars(t20), t.calc_loss_batch.__globals__]
    defining = importlib.import_module(original.__module__) if original.__module__ else None
    if defining is not None:
        namespaces.append(vars(defining))
    patched = [(ns, name) for ns in namespaces for name, value in list(ns.items()) if value is original]
    for ns, name in patched:
        ns[name] = recording
    try:
        yield seen
    finally:
        for ns, name in patched:
            ns[name] = original


def device_probe(t, rng: Rng, device) -> dict:
    """``calc_loss_batch`` with ``device`` the ``meta`` device: where the ids and the targets arrive."""
    vocab = rng.integer(5, 30)
    model = DeviceProbe(vocab)
    shape = (rng.integer(1, 4), rng.integer(2, 8))
    inputs, targets = rng.randint(0, vocab, shape), rng.randint(0, vocab, shape)
    with recorded_cross_entropy(t) as seen:
        loss = t.calc_loss_batch(inputs, targets, model, device)
    if not seen:
        raise Mismatch("calc_loss_batch did not call topic 20's cross_entropy (from course.t20_loss)")
    return {"device": str(device), "the model got ids on": model.seen, "cross_entropy got": seen,
            "loss on": str(getattr(loss, "device", None))}


def split_cases(t, text: str, ratios: list[float]) -> list:
    """``split_text`` with the default ratio and with each of ``ratios``."""
    return [list(t.split_text(text))] + [list(t.split_text(text, r)) for r in ratios]


def loaders_probe(t, rng: Rng, batch_size: int, context_length: int, stride: int | None, train_windows: int,
                  val_windows: int) -> dict:
    """``train_val_loaders`` on a text of increasing ids, split right after ``train_windows`` windows' tokens.

    The val loader is judged batch by batch, in order. The train loader on what it serves (full batches of
    real windows, as many as fit) and on its order: shuffled, the same for the same seed. Which windows a
    shuffled ``drop_last`` loader leaves out depends on the shuffle, so they are not compared.
    """
    step = context_length if stride is None else stride
    n_train = tokens_for(train_windows, context_length, step)
    n_val = tokens_for(val_windows, context_length, step) + rng.integer(0, step - 1)
    ids = increasing_ids(rng, n_train + n_val)
    text, ratio, seed = id_text(ids), ratio_for(n_train + n_val, n_train), rng.integer(0, 2**31 - 1)
    made = [t.train_val_loaders(text, batch_size, context_length, ratio, stride, seed, NumberTokenizer())
            for _ in range(2)]
    (train, val), (again, _) = made
    orders = [first_ids(train), first_ids(train), first_ids(again), first_ids(again)]
    return {"train": train_summary(train, windows_of(ids[:n_train], context_length, step)), "val": batches(val),
            "same seed, same orders": orders[:2] == orders[2:],
            # m >= 15 windows an epoch: a correct shuffle comes out sorted with probability 1/15! ~ 8e-13
            "epochs shuffled": all(order != sorted(order) for order in orders[:2])}


# ----------------------------------------------------------------------------- checks


@check("split_text: the first 90% of the characters, then the rest; train_ratio=0.75 too")
def split_sample(t, rng):
    return split_cases(t, sample_text(rng.integer(200, 400)), [0.75])


@check("train_val_loaders: val batches in text order (a short last batch kept), train batches full and "
       "shuffled the same way for the same seed")
def loaders_small(t, rng):
    return loaders_probe(t, rng, batch_size=3, context_length=4, stride=None, train_windows=17, val_windows=4)


@check("calc_loss_batch: the loss of one batch of a tiny GPT, and the gradients its backward() gives")
def loss_batch(t, rng):
    model, config = tiny_model(rng)
    return batch_probe(t, rng, model.eval(), config, 3, "cpu")


@check("calc_loss_loader: all batches, the first 2, num_batches larger than the loader, and no batch (nan)")
def loss_loader(t, rng):
    model, config = tiny_model(rng)
    return loader_cases(t, rng, model.eval(), config, [("all batches", [2, 2, 2, 1], None),
                                                       ("num_batches=2", [2, 2, 2, 1], 2),
                                                       ("num_batches=10 > 4 batches", [2, 2, 2, 1], 10),
                                                       ("an empty loader", [], None)])


@check("evaluate_model on a model with dropout in train mode: both losses in eval mode without gradients, "
       "train mode afterwards")
def evaluate_dropout(t, rng):
    return evaluate_probe(t, rng, True, 0.5, [2, 2, 2], [2, 1], eval_iters=2)

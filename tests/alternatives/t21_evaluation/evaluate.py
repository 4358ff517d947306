"""A correct topic 21 written from the README alone, differently from the reference: math.floor for the
split, keyword dicts for the loaders, an enumerate loop that breaks (it draws one batch more than it uses),
losses collected in a list, torch.inference_mode instead of torch.no_grad, train(False) instead of eval()."""

from __future__ import annotations

import math

import torch
from torch import nn

from course.t03_dataloader import create_dataloader  # your topic 03
from course.t20_loss import cross_entropy  # your topic 20


def split_text(text: str, train_ratio: float = 0.9) -> tuple[str, str]:
    """``(text[:k], text[k:])`` with ``k = int(train_ratio * len(text))``: characters, not tokens.

    The two parts join back into ``text``; the training part comes first.
    ``train_ratio`` must lie strictly between 0 and 1, else ``ValueError`` naming it.
    """
    if train_ratio <= 0 or train_ratio >= 1:
        raise ValueError(f"split_text: train_ratio={train_ratio} is outside (0, 1)")
    cut = math.floor(len(text) * train_ratio)
    train_part = text[:cut]
    return train_part, text[len(train_part):]


def train_val_loaders(text: str, batch_size: int, context_length: int, train_ratio: float = 0.9,
                      stride: int | None = None, seed: int = 123, tokenizer=None):
    """Split ``text`` with :func:`split_text` and build ``(train_loader, val_loader)`` with topic 03.

    Both call ``create_dataloader(part, batch_size=batch_size, max_length=context_length,
    stride=stride, ..., tokenizer=tokenizer)`` with ``stride=None`` meaning
    ``context_length`` (windows side by side, no overlap):

    * train: ``shuffle=True, drop_last=True, seed=seed`` - a new order every epoch, the
      same orders for the same seed, every batch full;
    * val: ``shuffle=False, drop_last=False`` - in text order, every window measured.

    A part shorter than ``context_length + 1`` tokens raises topic 03's ``ValueError``.
    """
    parts = split_text(text, train_ratio)
    shared = dict(batch_size=batch_size, max_length=context_length,
                  stride=stride if stride is not None else context_length, tokenizer=tokenizer)
    train = create_dataloader(parts[0], shuffle=True, drop_last=True, seed=seed, **shared)
    val = create_dataloader(parts[1], shuffle=False, drop_last=False, **shared)
    return train, val


def calc_loss_batch(inputs: torch.Tensor, targets: torch.Tensor, model: nn.Module,
                    device: str | torch.device) -> torch.Tensor:
    """The loss of one batch: a 0-dim tensor, with its graph (training calls ``backward`` on it).

    ``inputs`` and ``targets`` are ``(batch, seq)`` token ids. Moves both to ``device``
    (``"cpu"``, ``"cuda"``, a ``torch.device``; the model is already there), runs
    ``model(inputs)`` -> ``(batch, seq, vocab_size)`` logits and returns topic 20's
    ``cross_entropy(logits, targets)``. Changes neither the model's mode nor its weights.
    """
    device = torch.device(device)
    targets = targets.to(device=device)
    return cross_entropy(model(inputs.to(device=device)), targets)


def calc_loss_loader(loader, model: nn.Module, device: str | torch.device, num_batches: int | None = None) -> float:
    """The mean of the batch losses (:func:`calc_loss_batch`) over the first batches of ``loader``.

    ``loader``: a ``DataLoader`` of ``(inputs, targets)`` batches, or anything with
    ``len()`` that yields such pairs. Uses the first ``min(num_batches, len(loader))``
    batches, all of them when ``num_batches`` is ``None``, and runs the model on those
    only. Returns a Python float: the plain mean of the batch losses (each batch counts
    once, whatever its size). No batch to average (an empty loader, ``num_batches=0``)
    gives ``float("nan")``.
    """
    limit = len(loader) if num_batches is None else num_batches
    losses = []
    for i, (inputs, targets) in enumerate(loader):
        if i >= limit:
            break
        losses.append(float(calc_loss_batch(inputs, targets, model, device)))
    return sum(losses) / len(losses) if losses else float("nan")


def evaluate_model(model: nn.Module, train_loader, val_loader, device: str | torch.device,
                   eval_iters: int) -> tuple[float, float]:
    """``(train_loss, val_loss)``: :func:`calc_loss_loader` of both loaders over ``eval_iters`` batches.

    Measures in eval mode (no dropout) and under ``torch.no_grad()`` (no graph, no
    gradients), then puts the model back in the mode it had before, train or eval,
    even when a loss computation raises.
    """
    previous = model.training
    try:
        model.train(False)
        with torch.inference_mode():
            losses = tuple(calc_loss_loader(loader, model, device, eval_iters) for loader in (train_loader, val_loader))
    finally:
        model.train(previous)
    return losses

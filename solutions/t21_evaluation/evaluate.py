"""Topic 21 - evaluating a language model on real text.

A loss on the text a model trains on says how well it *memorizes*; a loss on
text it never saw says how well it *generalizes*. So the text is split once,
before anything else: the first ``train_ratio`` of its characters train the
model, the rest only ever measure it::

    text  ->  split_text  ->  train_text | val_text
          ->  topic 03's create_dataloader on each  ->  train_loader, val_loader
    (inputs, targets) batch  ->  model  ->  logits  ->  topic 20's cross_entropy  ->  loss

``calc_loss_batch`` scores one batch (with gradients: training calls it too),
``calc_loss_loader`` averages the batch losses over (the first few batches of)
a loader, and ``evaluate_model`` measures both splits the way training reports
them: in eval mode (no dropout), without building a graph, leaving the model
as it found it.
"""

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
    ### BEGIN SOLUTION
    if not 0.0 < train_ratio < 1.0:
        raise ValueError(f"train_ratio must lie strictly between 0 and 1, got train_ratio={train_ratio}")
    split_at = int(train_ratio * len(text))
    return text[:split_at], text[split_at:]
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    stride = context_length if stride is None else stride
    train_text, val_text = split_text(text, train_ratio)
    train_loader = create_dataloader(train_text, batch_size=batch_size, max_length=context_length, stride=stride,
                                     shuffle=True, drop_last=True, tokenizer=tokenizer, seed=seed)
    val_loader = create_dataloader(val_text, batch_size=batch_size, max_length=context_length, stride=stride,
                                   shuffle=False, drop_last=False, tokenizer=tokenizer)
    return train_loader, val_loader
    ### END SOLUTION


def calc_loss_batch(inputs: torch.Tensor, targets: torch.Tensor, model: nn.Module,
                    device: str | torch.device) -> torch.Tensor:
    """The loss of one batch: a 0-dim tensor, with its graph (training calls ``backward`` on it).

    ``inputs`` and ``targets`` are ``(batch, seq)`` token ids. Moves both to ``device``
    (``"cpu"``, ``"cuda"``, a ``torch.device``; the model is already there), runs
    ``model(inputs)`` -> ``(batch, seq, vocab_size)`` logits and returns topic 20's
    ``cross_entropy(logits, targets)``. Changes neither the model's mode nor its weights.
    """
    ### BEGIN SOLUTION
    inputs, targets = inputs.to(device), targets.to(device)
    logits = model(inputs)                          # (batch, seq, vocab_size)
    return cross_entropy(logits, targets)
    ### END SOLUTION


def calc_loss_loader(loader, model: nn.Module, device: str | torch.device, num_batches: int | None = None) -> float:
    """The mean of the batch losses (:func:`calc_loss_batch`) over the first batches of ``loader``.

    ``loader``: a ``DataLoader`` of ``(inputs, targets)`` batches, or anything with
    ``len()`` that yields such pairs. Uses the first ``min(num_batches, len(loader))``
    batches, all of them when ``num_batches`` is ``None``, and runs the model on those
    only. Returns a Python float: the plain mean of the batch losses (each batch counts
    once, whatever its size). No batch to average (an empty loader, ``num_batches=0``)
    gives ``float("nan")``.
    """
    ### BEGIN SOLUTION
    used = len(loader) if num_batches is None else min(num_batches, len(loader))
    if used == 0:
        return math.nan                              # no batch: nothing to average (and no 0 / 0)
    total = 0.0
    # zip with a range stops after `used` batches, without asking the loader for one more
    for _, (inputs, targets) in zip(range(used), loader):
        total += calc_loss_batch(inputs, targets, model, device).item()
    return total / used
    ### END SOLUTION


def evaluate_model(model: nn.Module, train_loader, val_loader, device: str | torch.device,
                   eval_iters: int) -> tuple[float, float]:
    """``(train_loss, val_loss)``: :func:`calc_loss_loader` of both loaders over ``eval_iters`` batches.

    Measures in eval mode (no dropout) and under ``torch.no_grad()`` (no graph, no
    gradients), then puts the model back in the mode it had before, train or eval,
    even when a loss computation raises.
    """
    ### BEGIN SOLUTION
    training_before = model.training
    model.eval()
    try:
        with torch.no_grad():
            train_loss = calc_loss_loader(train_loader, model, device, num_batches=eval_iters)
            val_loss = calc_loss_loader(val_loader, model, device, num_batches=eval_iters)
    finally:
        model.train(training_before)                # as found: the caller decides the mode
    return train_loss, val_loss
    ### END SOLUTION

"""Topic 30 - a spam classifier, end to end.

Everything is in place: a GPT prepared for two classes (topic 27), padded SMS
batches with their lengths (topic 28), the scores at the last real token, the
loss and the accuracy (topic 29). What is left is the loop that finetunes the
model, and the function that uses it::

    for every epoch, for every batch (inputs, labels, lengths):
        model.train()                               dropout on
        optimizer.zero_grad()                       no gradient left over from before
        loss = calc_loss_batch(...)                 topic 29: cross-entropy at the last real token
        loss.backward()                             gradients of the trainable parameters only
        optimizer.step()
        every eval_every steps: loss and accuracy on both loaders (eval mode, no grad)

    classify("You have WON a prize! Call now", model, tokenizer)  ->  "spam"

Training only moves the parameters topic 27 left trainable: the frozen ones get
no gradient, and an optimizer skips a parameter whose ``.grad`` is ``None``.

``classify`` reads one text, so it needs no padding at all: the last token of
the (truncated) text is its last real token.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from course.t29_classification_model import (  # your topic 29
    calc_accuracy_loader,
    calc_loss_batch,
    calc_loss_loader,
    classify_batch,
)


def evaluate_classifier(model: nn.Module, train_loader, val_loader, device: str | torch.device,
                        eval_batches: int | None) -> dict[str, float]:
    """Loss and accuracy on both loaders over ``eval_batches`` batches each (topic 29's measurements:
    eval mode and no gradients while measuring, the model's mode restored)."""
    return {"train_loss": calc_loss_loader(train_loader, model, device, num_batches=eval_batches),
            "val_loss": calc_loss_loader(val_loader, model, device, num_batches=eval_batches),
            "train_acc": calc_accuracy_loader(train_loader, model, device, num_batches=eval_batches),
            "val_acc": calc_accuracy_loader(val_loader, model, device, num_batches=eval_batches)}


def train_classifier(model: nn.Module, train_loader, val_loader, optimizer: torch.optim.Optimizer,
                     device: str | torch.device, num_epochs: int, eval_every: int = 50, eval_batches: int | None = 5,
                     on_step: Callable[[int, float], Any] | None = None) -> dict:
    """Finetune a classifier: ``num_epochs`` passes over ``train_loader``, one optimizer step per batch.

    ``train_loader`` and ``val_loader`` yield ``(inputs, labels, lengths)`` (topic 28);
    the model and ``optimizer`` are already on ``device``. Each step, in order:
    ``model.train()``; ``optimizer.zero_grad()``; topic 29's ``calc_loss_batch(inputs,
    labels, lengths, model, device)``; ``backward()``; ``optimizer.step()``; then
    ``examples_seen += inputs.shape[0]`` and, when given, ``on_step(step, loss)``
    with ``step`` the number of steps done (1, 2, ...) and ``loss`` the batch's loss
    as a float.

    An *evaluation* (:func:`evaluate_classifier` with ``eval_batches``; ``None``
    means every batch) runs after every step whose number is a multiple of
    ``eval_every``, and once more after the last step unless that step was just
    evaluated; no step, no evaluation. It appends the step number to ``steps``
    and the four measurements to ``train_loss``, ``val_loss``, ``train_acc`` and
    ``val_acc``.

    Returns ``{"steps", "train_loss", "val_loss", "train_acc", "val_acc"}`` (lists,
    one entry per evaluation) plus ``"examples_seen"`` (an int). ``num_epochs < 0``
    or ``eval_every < 1`` -> ``ValueError`` naming the value, before any step.
    """
    raise NotImplementedError('t30 train_classifier: not implemented yet - write it in course/t30_spam_classifier/spam.py')


def classify(text: str, model: nn.Module, tokenizer, device: str | torch.device = "cpu",
             max_length: int | None = None, labels: Sequence[str] = ("ham", "spam")) -> str:
    """The label the classifier gives ``text``: ``labels[argmax]`` of the scores at its last token.

    Encodes ``text`` with ``tokenizer.encode`` and keeps the first ``min(max_length,
    model.config.context_length)`` tokens (``max_length=None``: the context length);
    no padding, so the last token kept is the last real token. Runs the model once
    on those ids, ``(1, n)`` on ``device``, in eval mode and under ``torch.no_grad()``,
    and gives the model back in the mode it had.

    Errors (``ValueError``): a text that encodes to no token; ``max_length < 1``
    (naming it); a model with another number of outputs than ``len(labels)``
    (naming both numbers).
    """
    raise NotImplementedError('t30 classify: not implemented yet - write it in course/t30_spam_classifier/spam.py')

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
    ### BEGIN SOLUTION
    if num_epochs < 0:
        raise ValueError(f"train_classifier: num_epochs must be >= 0, got num_epochs={num_epochs}")
    if eval_every < 1:
        raise ValueError(f"train_classifier: eval_every must be >= 1, got eval_every={eval_every}")
    history: dict[str, Any] = {"steps": [], "train_loss": [], "val_loss": [], "train_acc": [], "val_acc": [],
                               "examples_seen": 0}

    def evaluate(step: int) -> None:
        history["steps"].append(step)
        for key, value in evaluate_classifier(model, train_loader, val_loader, device, eval_batches).items():
            history[key].append(value)

    step = 0
    for _ in range(num_epochs):
        for inputs, labels, lengths in train_loader:
            model.train()  # every step with dropout, whatever mode the model came in (or evaluation left) in
            optimizer.zero_grad()  # .backward() adds to .grad: start each step from nothing
            loss = calc_loss_batch(inputs, labels, lengths, model, device)
            loss.backward()
            optimizer.step()
            step += 1
            history["examples_seen"] += int(inputs.shape[0])
            if on_step is not None:
                on_step(step, loss.item())
            if step % eval_every == 0:
                evaluate(step)
    if step > 0 and (not history["steps"] or history["steps"][-1] != step):
        evaluate(step)  # the state training ends in is always measured
    return history
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if max_length is not None and max_length < 1:
        raise ValueError(f"classify: max_length must be >= 1, got max_length={max_length}")
    ids = list(tokenizer.encode(text))
    if not ids:
        raise ValueError("classify: the text encodes to no tokens - there is nothing to classify")
    limit = model.config.context_length if max_length is None else min(max_length, model.config.context_length)
    ids = ids[:limit]  # the start of the text, as in training (topic 28 keeps the first tokens too)
    training_before = model.training
    model.eval()  # no dropout: the same text always gets the same label
    try:
        with torch.no_grad():
            inputs = torch.tensor([ids], dtype=torch.long, device=device)  # (1, n): one text, no padding
            scores = classify_batch(model, inputs, torch.tensor([len(ids)], device=device))[0]
    finally:
        model.train(training_before)
    if scores.shape[-1] != len(labels):
        raise ValueError(f"classify: the model gives {scores.shape[-1]} scores but {len(labels)} labels were "
                         f"given")
    return labels[int(scores.argmax())]
    ### END SOLUTION

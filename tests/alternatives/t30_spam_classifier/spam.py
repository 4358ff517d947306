"""A correct spam-classifier module written from the README alone, differently from the reference."""

from __future__ import annotations

import contextlib

import torch

from course.t29_classification_model import (
    calc_accuracy_loader,
    calc_loss_batch,
    calc_loss_loader,
    last_token_logits,
)


def evaluate_classifier(model, train_loader, val_loader, device, eval_batches):
    return {"train_loss": calc_loss_loader(train_loader, model, device, num_batches=eval_batches),
            "val_loss": calc_loss_loader(val_loader, model, device, num_batches=eval_batches),
            "train_acc": calc_accuracy_loader(train_loader, model, device, num_batches=eval_batches),
            "val_acc": calc_accuracy_loader(val_loader, model, device, num_batches=eval_batches)}


def train_classifier(model, train_loader, val_loader, optimizer, device, num_epochs, eval_every=50, eval_batches=5,
                     on_step=None):
    if not num_epochs >= 0:
        raise ValueError(f"num_epochs={num_epochs} is negative")
    if not eval_every >= 1:
        raise ValueError(f"eval_every={eval_every} must be at least 1")
    keys = ("train_loss", "val_loss", "train_acc", "val_acc")
    result = {"steps": [], **{k: [] for k in keys}, "examples_seen": 0}
    done, measured_last = 0, False
    epoch = 0
    while epoch < num_epochs:
        batches = iter(train_loader)
        while True:
            try:
                inputs, labels, lengths = next(batches)
            except StopIteration:
                break
            model.train(True)
            optimizer.zero_grad(set_to_none=True)
            batch_loss = calc_loss_batch(inputs, labels, lengths, model, device)
            batch_loss.backward()
            optimizer.step()
            done += 1
            result["examples_seen"] = result["examples_seen"] + len(labels)
            if on_step:
                on_step(done, float(batch_loss.detach()))
            measured_last = done % eval_every == 0
            if measured_last:
                numbers = evaluate_classifier(model, train_loader, val_loader, device, eval_batches)
                result["steps"].append(done)
                for k in keys:
                    result[k].append(numbers[k])
        epoch += 1
    if done and not measured_last:
        numbers = evaluate_classifier(model, train_loader, val_loader, device, eval_batches)
        result["steps"].append(done)
        for k in keys:
            result[k].append(numbers[k])
    return result


@contextlib.contextmanager
def _evaluating(model):
    mode = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        model.train(mode)


def classify(text, model, tokenizer, device="cpu", max_length=None, labels=("ham", "spam")):
    if max_length is not None and max_length <= 0:
        raise ValueError(f"max_length={max_length} leaves no token to classify")
    tokens = tokenizer.encode(text)
    if len(tokens) == 0:
        raise ValueError("this text has no tokens to classify")
    keep = model.config.context_length
    if max_length is not None and max_length < keep:
        keep = max_length
    tokens = list(tokens)[:keep]
    with _evaluating(model):
        ids = torch.as_tensor(tokens, dtype=torch.long).unsqueeze(0).to(device)
        scores = last_token_logits(model(ids), torch.full((1,), ids.shape[1]))[0]
    if len(labels) != scores.numel():
        raise ValueError(f"{len(labels)} labels for a model with {scores.numel()} outputs")
    return labels[scores.argmax().item()]

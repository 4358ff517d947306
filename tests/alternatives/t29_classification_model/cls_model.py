"""A correct classification-model module written from the README alone, differently from the reference."""

from __future__ import annotations

import torch


def batches_to_read(loader, num_batches):
    return len(loader) if num_batches is None else min(num_batches, len(loader))


def last_token_logits(logits, lengths):
    if logits.ndim != 3:
        raise ValueError(f"expected 3-D logits (batch, seq, classes), not {logits.ndim}-D")
    rows, seq = logits.shape[0], logits.shape[1]
    if lengths.ndim != 1 or lengths.shape[0] != rows:
        raise ValueError(f"got {lengths.numel()} lengths for a batch of {rows} rows")
    for row, n in enumerate(lengths.tolist()):
        if n < 1 or n > seq:
            raise ValueError(f"length {n} (row {row}) is outside 1..{seq}; the sequence length is {seq}")
    positions = lengths.to(logits.device).long() - 1
    return logits[torch.arange(rows, device=logits.device), positions]


def classify_batch(model, inputs, lengths):
    out = model(inputs)
    return last_token_logits(out, lengths)


def calc_loss_batch(inputs, labels, lengths, model, device):
    scores = classify_batch(model, inputs.to(device), lengths.to(device))
    log_probs = scores - scores.logsumexp(dim=-1, keepdim=True)
    picked = log_probs.gather(1, labels.to(device).long().unsqueeze(1)).squeeze(1)
    return -picked.mean()


def _measured(model, body):
    was_training = model.training
    try:
        model.eval()
        with torch.inference_mode():
            return body()
    finally:
        model.train(was_training)


def calc_loss_loader(loader, model, device, num_batches=None):
    limit = batches_to_read(loader, num_batches)
    if limit == 0:
        return float("nan")

    def body():
        losses = []
        for i, (inputs, labels, lengths) in enumerate(loader):
            if i >= limit:
                break
            losses.append(float(calc_loss_batch(inputs, labels, lengths, model, device)))
        return sum(losses) / len(losses)

    return _measured(model, body)


def calc_accuracy_loader(loader, model, device, num_batches=None):
    limit = batches_to_read(loader, num_batches)
    if limit == 0:
        return float("nan")

    def body():
        guesses, truths = [], []
        for i, (inputs, labels, lengths) in enumerate(loader):
            if i >= limit:
                break
            scores = classify_batch(model, inputs.to(device), lengths.to(device))
            guesses.append(torch.argmax(scores, dim=1).cpu())
            truths.append(labels.cpu())
        return (torch.cat(guesses) == torch.cat(truths)).double().mean().item()

    return _measured(model, body)

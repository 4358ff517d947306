"""Hidden checks for topic 29 - the classification model (fresh seed every run)."""

import torch

from checks.t29_classification_model import (
    accuracy_probe,
    classify_probe,
    dataloader_probe,
    failing_probe,
    last_token_errors,
    last_token_probe,
    loss_batch_probe,
    loss_loader_probe,
)
from llmkit.checks import check

NOT_BEHAVIOUR = {
    "In `cls_model.py` (it imports nothing": "where the code goes and what the checks build on",
    "the checks build the classifier with your topics 18 and 27": "what the checks build on",
    "Given: `batches_to_read(loader, num_batches)`": "code handed out, not written by the learner",
}

MEASURE_PROMISES = [
    "The model reads those batches only.", "No batch to average (an empty loader, or `num_batches=0`) gives "
    "`float(\"nan\")`.", "Every forward pass runs in eval mode and under `torch.no_grad()`.",
    "Afterwards the model is back in the mode it had before, train or eval"]


@check("last_token_logits on random logits (3-6 rows, seq 1 and 2-8, 1-4 classes; a full row, a one-token row, "
       "padded rows): the scores at lengths - 1, their gradient, int32 lengths",
       promises=["takes `(batch, seq, C)` logits and `(batch,)` lengths and returns `(batch, C)`: row `b`'s logits "
                 "at position `lengths[b] - 1`, the last real token.",
                 "`lengths` holds integers in `[1, seq]`, of any integer dtype.",
                 "A full row (length `seq`) gives its last position, a row of one token its first.",
                 "The result keeps the graph: gradients flow back to those positions of `logits` only."])
def last_token_random(t, rng):
    return [last_token_probe(t, rng, rng.integer(3, 6), rng.integer(2, 8), rng.integer(1, 4)),
            last_token_probe(t, rng, rng.integer(3, 6), 1, rng.integer(1, 4))]


@check("last_token_logits with a length of 0, a length of seq + 1, one length too many and 2-D logits: "
       "ValueError naming the values",
       promises=["`logits` that are not 3-D raise `ValueError`;",
                 "`lengths` not of shape `(batch,)` raise `ValueError` naming both sizes;",
                 "a length below 1 or above `seq` raises `ValueError` naming the length and `seq`"])
def last_token_bad_random(t, rng):
    return last_token_errors(t, rng, rng.integer(3, 6), rng.integer(2, 8))


@check("classify_batch on a random GPT classifier (topic 27's head, 1-4 classes) and a padded batch: the scores "
       "at the last real token, unchanged by two more pad tokens; the graph kept when gradients are on",
       promises=["runs `model(inputs)` once on the whole `(batch, seq)` batch, in whatever mode the model is in, and "
                 "returns `last_token_logits` of its output, `(batch, C)`.",
                 "Gradients are on or off as the caller has them.",
                 "More padding after the real tokens leaves the scores unchanged"])
def classify_random(t, rng):
    return classify_probe(t, rng, rng.integer(1, 4))


@check("calc_loss_batch on random GPT classifiers (device 'cpu' in eval mode, torch.device('cpu') in train mode): "
       "the loss, a 0-dim tensor, and its gradient on the head; mode and weights unchanged",
       promises=["moves `inputs`, `labels` and `lengths` to `device` (a string or a `torch.device`) and returns the "
                 "mean cross-entropy of `classify_batch`'s scores against `labels`, a 0-dim tensor that keeps its "
                 "graph, so `backward()` works on it.", "The scores at every other position play no part.",
                 "It changes neither the model's mode nor its weights"])
def loss_batch_random(t, rng):
    return [loss_batch_probe(t, rng, "cpu", False), loss_batch_probe(t, rng, torch.device("cpu"), True)]


@check("calc_loss_loader on k batches with a short last one (a dropout model starting in train mode, then in eval "
       "mode): all, a random num_batches, num_batches = len and > len, 0 and empty loaders; the value, the rows read, "
       "eval mode without gradients, the mode restored",
       promises=["returns the mean of `calc_loss_batch` over the first `min(num_batches, len(loader))` batches of "
                 "`loader`, or over all of them when `num_batches` is `None`.",
                 "The result is a Python `float`, the plain mean of the batch losses, each batch counted once "
                 "whatever its size.",
                 "`loader` may be topic 28's loader or anything with `len()` that yields `(inputs, labels, lengths)` "
                 "batches"] + MEASURE_PROMISES)
def loss_loader_random(t, rng):
    return [loss_loader_probe(t, rng, True), loss_loader_probe(t, rng, False)]


@check("calc_accuracy_loader on a model with known answers (dropout 0.5, starting in train mode, then in eval "
       "mode), k batches with a short last one, every num_batches case: the fraction of examples right, the rows "
       "read, eval mode without gradients, the mode restored",
       promises=["returns the fraction of examples whose argmax of the `classify_batch` scores equals their label, "
                 "over the first `min(num_batches, len(loader))` batches (all of them when `num_batches` is "
                 "`None`), as a Python `float` in `[0, 1]`.",
                 "The fraction counts examples: right answers divided by examples read, so a short last batch weighs "
                 "as many examples as it holds.", "No batch gives `float(\"nan\")`.",
                 "As in `calc_loss_loader`: the model reads those batches only, every forward pass runs in eval mode "
                 "and under `torch.no_grad()`, and afterwards the model is back in its previous mode"])
def accuracy_random(t, rng):
    return [accuracy_probe(t, rng, True), accuracy_probe(t, rng, False)]


@check("calc_loss_loader and calc_accuracy_loader when the loader raises midway: the error comes through, and the "
       "model is back in its starting mode (train, and eval)",
       promises=["even when an error is raised"])
def failing_loaders(t, rng):
    return failing_probe(t, rng)


@check("calc_loss_loader (all batches and 2) and calc_accuracy_loader on topic 28's ClassificationDataset and "
       "classification_loader",
       promises=["`loader` may be topic 28's loader"])
def topic28_loader(t, rng):
    return dataloader_probe(t, rng)

"""Topic 29 - the classification model: which scores decide, and how good they are.

Topic 27 gave the GPT a new head: for every position it now outputs
``num_classes`` scores instead of ``vocab_size``. Topic 28 padded every text of
a batch to one length and kept each text's real length. This topic reads the
class scores at the right place and measures them::

    inputs (batch, seq), lengths (batch,)
      -> model(inputs)                  (batch, seq, num_classes)   one score vector per position
      -> last_token_logits(., lengths)  (batch, num_classes)        the scores at position lengths - 1
      -> cross-entropy with the labels  (training)  /  argmax == label  (accuracy)

**Why the last real token.** Attention is causal: position ``t`` sees tokens
``0 .. t`` and nothing after. So only the last token of a text has seen all of
it, and its vector is the one to classify. With padding the last *position* of
a row is usually a pad token, whose vector saw the whole text plus some padding
- a position that depends on how long the longest text of the batch happened
to be. The last *real* token, at index ``length - 1``, sees exactly the text.

**Measuring.** A loader's loss is the mean of its batch losses (each batch
counts once, as in topic 21); its accuracy is the fraction of *examples*
classified correctly (a short last batch weighs what its examples weigh).
Both measure in eval mode (no dropout) without building a graph, and give the
model back in the mode they found it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def last_token_logits(logits: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``(batch, seq, C)`` logits, ``(batch,)`` lengths -> ``(batch, C)``: row ``b``'s logits at ``lengths[b] - 1``.

    ``lengths`` holds integers (any integer dtype, on any device) in ``[1, seq]``:
    the number of real tokens of each row, padding after them. The result keeps
    the graph: gradients flow back to those positions of ``logits`` only.

    Errors (``ValueError``): ``logits`` not 3-D; ``lengths`` not of shape
    ``(batch,)`` (naming both sizes); a length below 1 or above ``seq`` (naming the
    length and ``seq``).
    """
    raise NotImplementedError('t29 last_token_logits: not implemented yet - write it in course/t29_classification_model/cls_model.py')


def classify_batch(model: nn.Module, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The class scores of a padded batch: ``model(inputs)`` -> :func:`last_token_logits` -> ``(batch, C)``.

    ``inputs`` ``(batch, seq)`` ids on the model's device, ``lengths`` ``(batch,)``.
    Runs the model once on the whole batch, in whatever mode it is in, with
    gradients as the caller has them.
    """
    raise NotImplementedError('t29 classify_batch: not implemented yet - write it in course/t29_classification_model/cls_model.py')


def calc_loss_batch(inputs: torch.Tensor, labels: torch.Tensor, lengths: torch.Tensor, model: nn.Module,
                    device: str | torch.device) -> torch.Tensor:
    """The classification loss of one batch: a 0-dim tensor with its graph (training calls ``backward``).

    Moves ``inputs`` ``(batch, seq)``, ``labels`` ``(batch,)`` and ``lengths``
    ``(batch,)`` to ``device`` (a string or a ``torch.device``; the model is
    already there), then returns the mean cross-entropy of :func:`classify_batch`'s
    scores against ``labels``. Every other position's scores play no part.
    Changes neither the model's mode nor its weights.
    """
    raise NotImplementedError('t29 calc_loss_batch: not implemented yet - write it in course/t29_classification_model/cls_model.py')


def batches_to_read(loader, num_batches: int | None) -> int:
    """How many batches a measurement reads: all of them, or the first ``num_batches``."""
    return len(loader) if num_batches is None else min(num_batches, len(loader))


def calc_loss_loader(loader, model: nn.Module, device: str | torch.device, num_batches: int | None = None) -> float:
    """The mean of :func:`calc_loss_batch` over the first ``min(num_batches, len(loader))`` batches.

    ``loader`` yields ``(inputs, labels, lengths)`` batches (topic 28's loader, or
    anything with ``len()`` that does); ``num_batches=None`` means all of them.
    The model runs on those batches only. Returns a Python float, the plain mean
    of the batch losses (each batch counts once, whatever its size); no batch
    (an empty loader, ``num_batches=0``) gives ``float("nan")``.

    Measures in eval mode and under ``torch.no_grad()``, then puts the model back
    in the mode it had, train or eval, even when an error is raised.
    """
    raise NotImplementedError('t29 calc_loss_loader: not implemented yet - write it in course/t29_classification_model/cls_model.py')


def calc_accuracy_loader(loader, model: nn.Module, device: str | torch.device,
                         num_batches: int | None = None) -> float:
    """The fraction of examples classified correctly in the first ``min(num_batches, len(loader))`` batches.

    An example is correct when the argmax of its :func:`classify_batch` scores
    equals its label. The fraction is over *examples*: correct ones divided by
    all examples read, so a short last batch counts as many examples as it has.
    A float in ``[0, 1]``; no batch gives ``float("nan")``. Moves each batch to
    ``device``. Mode and gradients as :func:`calc_loss_loader`: eval mode and
    ``torch.no_grad()`` while measuring, the previous mode restored afterwards.
    """
    raise NotImplementedError('t29 calc_accuracy_loader: not implemented yet - write it in course/t29_classification_model/cls_model.py')

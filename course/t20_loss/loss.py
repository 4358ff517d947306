"""Topic 20 - the loss function: cross-entropy, written from scratch.

At every position the model outputs ``vocab_size`` logits, one score per
possible next token. Training wants the score of the token that really comes
next to win. Cross-entropy measures how far it is from winning: turn the
logits into log-probabilities with a log-softmax, pick the log-probability of
the true next token (a ``gather``), negate, and average over all positions::

    logits (..., vocab)  --log_softmax-->  log p (..., vocab)
                         --gather(target)-->  log p[target] (...)
                         --negate, mean over counted targets-->  loss ()

**Stability.** ``log(softmax(z))`` computed literally overflows for logits
above ~88 (``exp`` of float32) and gives ``log(0) = -inf`` for a token whose
probability underflows. The log-softmax subtracts the row's maximum ``m``
first and never forms a probability:
``log_softmax(z)_v = (z_v - m) - log(sum_u exp(z_u - m))``. Every exponent is
then <= 0, the sum is >= 1, and the result is exact even for logits of 1e4.

**Ignored targets.** Padding (topic 32) and prompt tokens (topic 35) must not
count. A target equal to ``ignore_index`` (default -100, as in PyTorch)
contributes nothing: the loss is the mean over the *other* targets only.

**Perplexity.** ``exp(loss)``: the number of equally likely tokens the model
is, on average, choosing between. A model that guesses uniformly over the
vocabulary has perplexity ``vocab_size``.
"""

from __future__ import annotations

import math

import torch


def _check_targets(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int) -> None:
    """Raise a clear error for targets that cannot be scored against ``logits``.

    * ``logits`` with fewer than 2 dimensions, or ``targets.shape != logits.shape[:-1]``:
      ``ValueError`` naming both shapes;
    * ``targets`` that are not integers: ``TypeError`` naming their dtype;
    * a target outside ``[0, vocab_size)`` that is not ``ignore_index``: ``ValueError``
      naming that target and ``vocab_size``.
    """
    if logits.dim() < 2 or tuple(targets.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"logits of shape {tuple(logits.shape)} need targets of shape "
                         f"{tuple(logits.shape[:-1])} (one per position), got targets of shape "
                         f"{tuple(targets.shape)}")
    if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
        raise TypeError(f"targets must be integer token ids (torch.long), got dtype {targets.dtype}")
    vocab_size = logits.shape[-1]
    bad = (targets != ignore_index) & ((targets < 0) | (targets >= vocab_size))
    if bool(bad.any()):
        first = int(targets[bad].flatten()[0])
        raise ValueError(f"target {first} is not a token id of a vocabulary of vocab_size={vocab_size} "
                         f"(valid: 0..{vocab_size - 1}, or ignore_index={ignore_index})")


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Log-probabilities over the last dimension: same shape and dtype as ``logits``.

    ``log_softmax(z)_v = z_v - log(sum_u exp(z_u))``, computed stably by
    subtracting the row's maximum first, so logits like ``1e4`` or ``-1e4`` and
    gaps of thousands between entries give exact, finite results. A ``-inf``
    logit (a masked entry) gives ``-inf``; each row needs one finite logit.
    ``exp`` of each row sums to 1. Written from tensor operations: no built-in
    ``log_softmax`` (``torch.logsumexp`` is fine).
    """
    raise NotImplementedError('t20 log_softmax: not implemented yet - write it in course/t20_loss/loss.py')


def token_losses(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """The loss of every single position: ``-log p(target)``, with the shape of ``targets``.

    ``logits`` ``(..., vocab_size)`` (``(N, V)`` or ``(batch, seq, V)``), ``targets`` the
    same shape without the last dimension, integer ids. Position ``i`` gets
    ``-log_softmax(logits[i])[targets[i]]``, and exactly ``0.0`` (with zero gradient)
    where ``targets[i] == ignore_index``. Like
    ``F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction="none")``,
    reshaped back. Calls :func:`_check_targets` first.
    """
    _check_targets(logits, targets, ignore_index)
    raise NotImplementedError('t20 token_losses: not implemented yet - write it in course/t20_loss/loss.py')


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """The mean of :func:`token_losses` over the targets that are not ``ignore_index``: a 0-dim tensor.

    Shapes as in :func:`token_losses`. Equals
    ``F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=ignore_index)``;
    differentiable. With no target left to count (all ignored, or none at all) the
    mean is ``0 / 0``: NaN, as in PyTorch.
    """
    raise NotImplementedError('t20 cross_entropy: not implemented yet - write it in course/t20_loss/loss.py')


def perplexity(loss: float | torch.Tensor) -> float:
    """``exp(loss)`` as a Python float, for a mean per-token loss (a float or a 0-dim tensor).

    Never raises for a large loss: where ``exp`` overflows (a loss above ~709.78)
    the result is ``float("inf")``; a NaN loss gives NaN.
    """
    raise NotImplementedError('t20 perplexity: not implemented yet - write it in course/t20_loss/loss.py')

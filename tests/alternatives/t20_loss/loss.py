"""A correct topic 20 written from the README alone, differently from the reference: torch.logsumexp
instead of an explicit shift, flattened rows indexed with arange instead of gather, masked_fill instead of
torch.where, the mean of a boolean selection, and perplexity as a float64 tensor exp."""

from __future__ import annotations

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
    # z - logsumexp(z): torch.logsumexp shifts by the max internally, and a -inf entry stays -inf
    return logits - torch.logsumexp(logits, dim=-1, keepdim=True)


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
    vocab = logits.shape[-1]
    flat_logits = logits.reshape(-1, vocab)
    flat_targets = targets.reshape(-1)
    ignored = flat_targets == ignore_index
    index = flat_targets.masked_fill(ignored, 0)
    rows = torch.arange(flat_logits.shape[0], device=logits.device)
    # -log p(y) = logsumexp(z) - z_y, without forming log_softmax of the whole row
    nll = torch.logsumexp(flat_logits, dim=-1) - flat_logits[rows, index]
    return nll.masked_fill(ignored, 0.0).reshape(targets.shape)


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """The mean of :func:`token_losses` over the targets that are not ``ignore_index``: a 0-dim tensor.

    Shapes as in :func:`token_losses`. Equals
    ``F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=ignore_index)``;
    differentiable. With no target left to count (all ignored, or none at all) the
    mean is ``0 / 0``: NaN, as in PyTorch.
    """
    losses = token_losses(logits, targets, ignore_index)
    kept = targets != ignore_index
    # the mean of the kept entries only; an empty selection gives NaN, like 0 / 0
    return losses[kept].mean()


def perplexity(loss: float | torch.Tensor) -> float:
    """``exp(loss)`` as a Python float, for a mean per-token loss (a float or a 0-dim tensor).

    Never raises for a large loss: where ``exp`` overflows (a loss above ~709.78)
    the result is ``float("inf")``; a NaN loss gives NaN.
    """
    as_tensor = torch.as_tensor(loss.detach() if torch.is_tensor(loss) else loss, dtype=torch.float64)
    return torch.exp(as_tensor).item()   # float64 exp: inf on overflow, NaN stays NaN

"""Topic 14 - layer normalization, from scratch.

Deep networks train badly when the scale of the activations drifts from layer
to layer. Layer normalization resets it at every position: it takes one token's
feature vector ``x`` (the last axis), subtracts its mean, divides by its standard
deviation, and then lets the network choose a new scale and shift per feature::

    y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias

Three details decide whether the numbers match PyTorch's ``nn.LayerNorm`` (and
GPT-2's weights) exactly:

* the statistics are over the **last axis only** - each position of each
  sequence on its own, never across the batch (that would be batch norm);
* the variance is the **biased** one, dividing by ``d`` (``unbiased=False``),
  not by ``d - 1``;
* ``eps`` goes **inside** the square root: a constant row (variance 0) gives
  ``(x - mean) = 0`` divided by ``sqrt(eps)``, so exactly ``bias``, never NaN.
"""

from __future__ import annotations

import torch
from torch import nn


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Normalize ``x`` ``(..., d)`` over its last axis, then scale by ``weight`` and shift by ``bias`` ``(d,)``.

    Mean and biased variance (divide by ``d``) over the last axis, each position on
    its own, ``eps`` inside the square root; a constant row gives ``bias``, never NaN.
    Returns a tensor of ``x``'s shape; float64 ``x`` gives a float64 result, also with
    float32 ``weight`` and ``bias``. Write it from tensor operations (no
    ``F.layer_norm`` / ``nn.LayerNorm``). ``weight`` or ``bias`` not of shape ``(d,)``
    -> ``ValueError`` naming the wrong shape and ``d``.
    """
    raise NotImplementedError('t14 layer_norm: not implemented yet - write it in course/t14_layer_norm/layer_norm.py')


class LayerNorm(nn.Module):
    """Layer normalization over the last axis, a drop-in for ``nn.LayerNorm(d_model, eps)``.

    Parameters (names are part of the contract, the same as ``nn.LayerNorm``'s, so
    state dicts are interchangeable and topic 26 loads GPT-2's ``ln_*`` weights):
        weight: the per-feature scale, ``(d_model,)``, initialised to ones;
        bias:   the per-feature shift, ``(d_model,)``, initialised to zeros.
    Attributes: ``d_model``, ``eps``.
    """

    def __init__(self, d_model: int, eps: float = 1e-5):
        """Create ``weight`` (ones) and ``bias`` (zeros), both trainable ``nn.Parameter``."""
        super().__init__()
        self.d_model = d_model
        self.eps = eps
        raise NotImplementedError('t14 LayerNorm.__init__: not implemented yet - write it in course/t14_layer_norm/layer_norm.py')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., d_model)`` -> same shape: :func:`layer_norm` with this module's parameters.

        A last axis other than ``d_model`` -> ``ValueError`` naming both sizes.
        """
        raise NotImplementedError('t14 LayerNorm.forward: not implemented yet - write it in course/t14_layer_norm/layer_norm.py')


def row_statistics(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Mean and (biased) standard deviation of each position's features: a teaching aid.

    ``x`` ``(..., d)`` -> ``{"mean": (...), "std": (...)}``; after a LayerNorm with
    ``weight=1, bias=0`` every mean is ~0 and every std ~1.
    """
    return {"mean": x.mean(dim=-1), "std": x.std(dim=-1, unbiased=False)}

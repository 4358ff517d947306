"""Topic 09 - self-attention with trainable query, key and value projections.

Topic 08 compared raw inputs with each other. Here every input vector ``x``
is projected three times, by three trainable matrices:

* the **query** ``q = x W_q`` - what this position is looking for,
* the **key**   ``k = x W_k`` - what this position offers to be found by,
* the **value** ``v = x W_v`` - what this position hands over when found.

Scores are query-key dot products, divided by ``sqrt(d_k)`` so that their
spread does not grow with the key dimension; softmax turns them into weights;
the context vectors are the weighted sums of the values. That is *scaled
dot-product attention* (Vaswani et al., 2017), the core of every GPT.

Two modules compute the same thing: ``SelfAttentionV1`` keeps the three
matrices as raw ``nn.Parameter`` tensors, ``SelfAttentionV2`` uses
``nn.Linear`` layers (optionally with bias), which is what later topics build
on. ``nn.Linear`` stores its weight transposed, ``(d_out, d_in)``, which
``transfer_v2_to_v1`` has to undo.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from course.t08_simple_attention import softmax  # your own topic 08, or the reference when grading falls back


def scaled_dot_product(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                       mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention with an optional boolean mask.

    Shapes (``...`` = any leading batch dimensions, the same for q, k and v)::

        q:    (..., seq_q, d_k)
        k:    (..., seq_k, d_k)
        v:    (..., seq_k, d_v)
        mask: bool, broadcastable to (..., seq_q, seq_k); True = masked OUT
        ->    context (..., seq_q, d_v), weights (..., seq_q, seq_k)

    ``weights = softmax(q k^T / sqrt(d_k))`` over the last axis (the keys),
    using topic 08's ``softmax``; where ``mask`` is True the score is set to
    ``-inf`` first, so that key gets weight exactly 0. ``context = weights v``.
    A query whose keys are *all* masked gets a row of NaN (see topic 08).

    Errors (``ValueError``, naming the shapes): q and k with different
    ``d_k``; k and v with different ``seq_k``. A mask that is not a bool
    tensor -> ``TypeError``.
    """
    raise NotImplementedError('t09 scaled_dot_product: not implemented yet - write it in course/t09_qkv_attention/self_attention.py')


def _check_input(x: torch.Tensor, d_in: int, where: str) -> None:
    if x.dim() not in (2, 3) or x.shape[-1] != d_in:
        raise ValueError(f"{where}: x must have shape (seq, {d_in}) or (batch, seq, {d_in}), "
                         f"got {tuple(x.shape)}")


class SelfAttentionV1(nn.Module):
    """Self-attention with raw weight matrices.

    Parameters (names are part of the contract), each ``(d_in, d_out)`` and
    applied as ``x @ W``:
        W_query, W_key, W_value

    ``forward(x)``: ``(seq, d_in)`` or ``(batch, seq, d_in)`` ->
    ``(seq, d_out)`` or ``(batch, seq, d_out)``; no mask, every position
    attends to every position. Wrong shape -> ``ValueError``.
    """

    def __init__(self, d_in: int, d_out: int):
        """Create ``W_query``, ``W_key``, ``W_value`` as ``nn.Parameter`` of shape ``(d_in, d_out)``."""
        super().__init__()
        self.d_in = d_in
        self.d_out = d_out
        raise NotImplementedError('t09 SelfAttentionV1.__init__: not implemented yet - write it in course/t09_qkv_attention/self_attention.py')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Context vectors ``(..., seq, d_out)`` for ``x`` ``(..., seq, d_in)``."""
        raise NotImplementedError('t09 SelfAttentionV1.forward: not implemented yet - write it in course/t09_qkv_attention/self_attention.py')

    def extra_repr(self) -> str:
        return f"d_in={self.d_in}, d_out={self.d_out}"


class SelfAttentionV2(nn.Module):
    """Self-attention with ``nn.Linear`` projections.

    Submodules (names are part of the contract), each ``nn.Linear(d_in, d_out,
    bias=qkv_bias)``:
        W_query, W_key, W_value

    so the parameters are ``W_query.weight`` ``(d_out, d_in)`` (and
    ``W_query.bias`` ``(d_out,)`` when ``qkv_bias``), the same for ``W_key``
    and ``W_value``. ``forward`` is as in :class:`SelfAttentionV1`.
    """

    def __init__(self, d_in: int, d_out: int, qkv_bias: bool = False):
        """Create the three ``nn.Linear(d_in, d_out, bias=qkv_bias)`` layers."""
        super().__init__()
        self.d_in = d_in
        self.d_out = d_out
        raise NotImplementedError('t09 SelfAttentionV2.__init__: not implemented yet - write it in course/t09_qkv_attention/self_attention.py')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Context vectors ``(..., seq, d_out)`` for ``x`` ``(..., seq, d_in)``."""
        raise NotImplementedError('t09 SelfAttentionV2.forward: not implemented yet - write it in course/t09_qkv_attention/self_attention.py')

    def extra_repr(self) -> str:
        return f"d_in={self.d_in}, d_out={self.d_out}"


def transfer_v2_to_v1(v2: SelfAttentionV2, v1: SelfAttentionV1) -> SelfAttentionV1:
    """Copy ``v2``'s projection weights into ``v1`` so that both compute the same output.

    ``nn.Linear`` stores ``(d_out, d_in)`` and computes ``x @ weight.T``;
    ``v1`` stores ``(d_in, d_out)`` and computes ``x @ W``, so each matrix is
    copied transposed. ``v1`` is changed in place (without recording
    gradients) and returned; ``v2`` is left unchanged.

    Errors (``ValueError``): ``v2`` has biases (``v1`` cannot hold them), or
    the two modules' ``d_in`` / ``d_out`` differ.
    """
    raise NotImplementedError('t09 transfer_v2_to_v1: not implemented yet - write it in course/t09_qkv_attention/self_attention.py')

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
    ### BEGIN SOLUTION
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"scaled_dot_product: q {tuple(q.shape)} and k {tuple(k.shape)} "
                         f"must have the same last dimension d_k")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"scaled_dot_product: k {tuple(k.shape)} and v {tuple(v.shape)} "
                         f"must have the same seq_k (second-to-last dimension)")
    d_k = q.shape[-1]
    # (..., seq_q, d_k) @ (..., d_k, seq_k) -> (..., seq_q, seq_k). Dividing by
    # sqrt(d_k) keeps the scores' variance near 1 whatever the key size.
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)
    if mask is not None:
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
            kind = mask.dtype if isinstance(mask, torch.Tensor) else type(mask).__name__
            raise TypeError(f"scaled_dot_product: mask must be a bool tensor "
                            f"(True = masked out), got {kind}")
        # -inf, not a large negative number: exp(-inf) is exactly 0.
        scores = scores.masked_fill(mask, float("-inf"))
    weights = softmax(scores, dim=-1)  # each query's row sums to 1 over the keys
    return weights @ v, weights
    ### END SOLUTION


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
        ### BEGIN SOLUTION
        # Scaled so that x @ W has roughly unit variance for unit-variance x.
        scale = 1.0 / math.sqrt(d_in)
        self.W_query = nn.Parameter(torch.randn(d_in, d_out) * scale)
        self.W_key = nn.Parameter(torch.randn(d_in, d_out) * scale)
        self.W_value = nn.Parameter(torch.randn(d_in, d_out) * scale)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Context vectors ``(..., seq, d_out)`` for ``x`` ``(..., seq, d_in)``."""
        ### BEGIN SOLUTION
        _check_input(x, self.d_in, "SelfAttentionV1")
        queries = x @ self.W_query  # (..., seq, d_out)
        keys = x @ self.W_key
        values = x @ self.W_value
        context, _ = scaled_dot_product(queries, keys, values)
        return context
        ### END SOLUTION

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
        ### BEGIN SOLUTION
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Context vectors ``(..., seq, d_out)`` for ``x`` ``(..., seq, d_in)``."""
        ### BEGIN SOLUTION
        _check_input(x, self.d_in, "SelfAttentionV2")
        # nn.Linear computes x @ weight.T + bias on the last axis.
        context, _ = scaled_dot_product(self.W_query(x), self.W_key(x), self.W_value(x))
        return context
        ### END SOLUTION

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
    ### BEGIN SOLUTION
    names = ("W_query", "W_key", "W_value")
    if any(getattr(v2, name).bias is not None for name in names):
        raise ValueError("transfer_v2_to_v1: v2 has qkv biases, which SelfAttentionV1 cannot hold")
    for name in names:  # check every shape before changing anything
        source, target = getattr(v2, name).weight, getattr(v1, name)
        if tuple(source.T.shape) != tuple(target.shape):
            raise ValueError(f"transfer_v2_to_v1: {name} is {tuple(source.shape)} in v2 "
                             f"(d_out, d_in) but {tuple(target.shape)} in v1 (d_in, d_out)")
    with torch.no_grad():  # a copy of values, not a step of the computation graph
        for name in names:
            # (d_out, d_in) -> (d_in, d_out): x @ W.T in v2 becomes x @ W' in v1
            getattr(v1, name).copy_(getattr(v2, name).weight.T)
    return v1
    ### END SOLUTION

"""Topic 12 - fused multi-head attention, as in GPT-2.

Topic 11 ran ``num_heads`` separate heads and concatenated their outputs. The
same computation fits into *one* query, one key and one value projection of
width ``d_out = num_heads * head_dim``: the first ``head_dim`` output features
belong to head 0, the next ``head_dim`` to head 1, and so on. After projecting,
we only have to *view* the last axis as ``(num_heads, head_dim)`` and move the
head axis in front of the sequence axis - then one batched matrix product
computes every head's scores at once::

    (batch, seq, d_out) --view--> (batch, seq, num_heads, head_dim)
                        --transpose(1, 2)--> (batch, num_heads, seq, head_dim)

After attention, the same two steps in reverse merge the heads back into
``(batch, seq, d_out)``, and a final linear layer ``out_proj`` mixes the heads'
features (the wrapper had no such layer).

The two functions at the end make the equivalence concrete: they copy the
weights of a topic-11 wrapper into a fused module and back.
"""

from __future__ import annotations

import math

import torch
from torch import nn

# resolves to your own topic 10 (or to the reference when grading falls back; see llmkit/resolver.py)
from course.t10_causal_attention import causal_mask
# resolves to your own topic 11 (or to the reference when grading falls back; see llmkit/resolver.py)
from course.t11_multihead_wrapper import MultiHeadAttentionWrapper


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """``(batch, seq, d)`` -> ``(batch, num_heads, seq, d // num_heads)``.

    Features ``h * head_dim`` to ``(h + 1) * head_dim - 1`` of every position go
    to head ``h``. Use ``view`` (or ``reshape``) and ``transpose`` - a plain
    ``view(batch, num_heads, seq, head_dim)`` would mix positions into heads.
    ``d`` not divisible by ``num_heads`` -> ``ValueError`` naming both.
    """
    raise NotImplementedError('t12 split_heads: not implemented yet - write it in course/t12_multihead_attention/multihead_attention.py')


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`split_heads`: ``(batch, num_heads, seq, head_dim)`` -> ``(batch, seq, num_heads * head_dim)``.

    Head ``h`` fills features ``h * head_dim`` to ``(h + 1) * head_dim - 1``, so
    the result is the heads concatenated in order, as in topic 11.
    """
    raise NotImplementedError('t12 merge_heads: not implemented yet - write it in course/t12_multihead_attention/multihead_attention.py')


class MultiHeadAttention(nn.Module):
    """Fused causal multi-head attention with an output projection.

    ``d_out`` is the layer's *total* width, ``num_heads * head_dim`` (topic 11's
    wrapper took one head's width, ``head_dim``, instead).

    Submodules and buffers (names are part of the contract; GPT-2's weights are
    loaded into them later):
        W_query, W_key, W_value: ``nn.Linear(d_in, d_out, bias=qkv_bias)``;
            rows ``h * head_dim`` to ``(h + 1) * head_dim - 1`` of each weight belong to head ``h``.
        out_proj: ``nn.Linear(d_out, d_out)`` (always with a bias).
        dropout: ``nn.Dropout(dropout)`` on the attention weights.
        mask: buffer ``causal_mask(context_length)`` from topic 10, bool
            ``(context_length, context_length)``, not a parameter.

    Attributes: ``d_in``, ``d_out``, ``num_heads``, ``head_dim = d_out // num_heads``,
    ``context_length``.

    ``forward(x)``: ``(batch, seq, d_in)`` -> ``(batch, seq, d_out)``, ``seq <= context_length``.
    """

    def __init__(self, d_in: int, d_out: int, context_length: int, dropout: float,
                 num_heads: int, qkv_bias: bool = False):
        """Check the sizes; create the projections, ``out_proj``, ``dropout`` and the ``mask`` buffer.

        ``num_heads < 1`` or ``d_out % num_heads != 0`` -> ``ValueError`` naming both numbers.
        """
        super().__init__()
        self.d_in = d_in
        self.d_out = d_out
        self.num_heads = num_heads
        self.context_length = context_length
        raise NotImplementedError('t12 MultiHeadAttention.__init__: not implemented yet - write it in course/t12_multihead_attention/multihead_attention.py')

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Every head's causal attention weights before dropout: ``(batch, num_heads, seq, seq)``.

        ``softmax(q_h k_h^T / sqrt(head_dim))`` per head, with ``-inf`` above the
        diagonal (top-left ``(seq, seq)`` corner of ``mask``). Write the scores,
        scaling and masking here yourself (``torch.softmax`` is fine).

        Errors: ``x`` not ``(batch, seq, d_in)`` -> ``ValueError``;
        ``seq > context_length`` (``context_length + 1`` already) -> ``ValueError``
        naming both numbers.
        """
        raise NotImplementedError('t12 MultiHeadAttention.attention_weights: not implemented yet - write it in course/t12_multihead_attention/multihead_attention.py')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, seq, d_in)`` -> ``(batch, seq, d_out)``: attention per head, merge, ``out_proj``.

        Dropout acts on the attention weights (train mode only). Same errors as
        :meth:`attention_weights`.
        """
        raise NotImplementedError('t12 MultiHeadAttention.forward: not implemented yet - write it in course/t12_multihead_attention/multihead_attention.py')

    def extra_repr(self) -> str:
        return (f"d_in={self.d_in}, d_out={self.d_out}, num_heads={self.num_heads}, "
                f"context_length={self.context_length}")


def wrapper_to_fused(wrapper: MultiHeadAttentionWrapper) -> MultiHeadAttention:
    """A ``MultiHeadAttention`` computing exactly what ``wrapper`` computes.

    With ``H = len(wrapper.heads)`` heads of size ``head_dim``::

        W_query.weight = cat([heads[h].W_query.weight for h in range(H)], dim=0)   # (H*head_dim, d_in)

    and the same for ``W_key``, ``W_value`` and, when present, their biases
    (concatenated in head order). ``out_proj`` is the identity with a zero bias,
    since the wrapper has no output projection. ``d_in``, ``context_length``
    (the heads' mask size), the dropout rate and ``qkv_bias`` are taken from
    the wrapper's heads. Returns a new module; ``wrapper`` is unchanged.
    """
    raise NotImplementedError('t12 wrapper_to_fused: not implemented yet - write it in course/t12_multihead_attention/multihead_attention.py')


def fused_to_wrapper(mha: MultiHeadAttention) -> MultiHeadAttentionWrapper:
    """The inverse split: a wrapper computing ``mha``'s output *before* ``out_proj``.

    The wrapper has no output projection, so the convention is::

        mha(x) == mha.out_proj(fused_to_wrapper(mha)(x))

    for any ``out_proj`` (when ``out_proj`` is the identity with zero bias, the
    wrapper alone equals ``mha``). Head ``h`` gets rows
    ``h * head_dim`` to ``(h + 1) * head_dim - 1`` of ``W_query.weight``,
    ``W_key.weight``, ``W_value.weight`` (and of their biases, if any). The
    wrapper has ``mha.num_heads`` heads of size ``mha.head_dim``, and ``mha``'s
    ``d_in``, ``context_length``, dropout rate and ``qkv_bias``. Returns a new
    module; ``mha`` is unchanged.
    """
    raise NotImplementedError('t12 fused_to_wrapper: not implemented yet - write it in course/t12_multihead_attention/multihead_attention.py')

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
    ### BEGIN SOLUTION
    batch, seq, d = x.shape
    if d % num_heads != 0:
        raise ValueError(f"split_heads: last dimension {d} is not divisible by num_heads={num_heads}")
    # Split the feature axis into (num_heads, head_dim) - contiguous blocks of features,
    # one block per head - then bring the head axis next to the batch axis.
    return x.view(batch, seq, num_heads, d // num_heads).transpose(1, 2)
    ### END SOLUTION


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`split_heads`: ``(batch, num_heads, seq, head_dim)`` -> ``(batch, seq, num_heads * head_dim)``.

    Head ``h`` fills features ``h * head_dim`` to ``(h + 1) * head_dim - 1``, so
    the result is the heads concatenated in order, as in topic 11.
    """
    ### BEGIN SOLUTION
    batch, num_heads, seq, head_dim = x.shape
    # After transpose the memory is no longer laid out row by row: .contiguous()
    # copies it so that .view can glue (num_heads, head_dim) back into one axis.
    return x.transpose(1, 2).contiguous().view(batch, seq, num_heads * head_dim)
    ### END SOLUTION


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
        ### BEGIN SOLUTION
        if num_heads < 1 or d_out % num_heads != 0:
            raise ValueError(f"MultiHeadAttention: d_out={d_out} must be divisible by "
                             f"num_heads={num_heads}")
        self.head_dim = d_out // num_heads
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("mask", causal_mask(context_length), persistent=False)
        ### END SOLUTION

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Every head's causal attention weights before dropout: ``(batch, num_heads, seq, seq)``.

        ``softmax(q_h k_h^T / sqrt(head_dim))`` per head, with ``-inf`` above the
        diagonal (top-left ``(seq, seq)`` corner of ``mask``). Write the scores,
        scaling and masking here yourself (``torch.softmax`` is fine).

        Errors: ``x`` not ``(batch, seq, d_in)`` -> ``ValueError``;
        ``seq > context_length`` (``context_length + 1`` already) -> ``ValueError``
        naming both numbers.
        """
        ### BEGIN SOLUTION
        if x.dim() != 3 or x.shape[-1] != self.d_in:
            raise ValueError(f"MultiHeadAttention: x must have shape (batch, seq, {self.d_in}), "
                             f"got {tuple(x.shape)}")
        seq = x.shape[1]
        if seq > self.context_length:
            raise ValueError(f"MultiHeadAttention: got seq_len={seq} > "
                             f"context_length={self.context_length}")
        queries = split_heads(self.W_query(x), self.num_heads)  # (batch, num_heads, seq, head_dim)
        keys = split_heads(self.W_key(x), self.num_heads)
        # One batched product for all heads: (..., seq, head_dim) @ (..., head_dim, seq).
        scores = queries @ keys.transpose(-2, -1) / math.sqrt(self.head_dim)
        # The (seq, seq) mask broadcasts over batch and num_heads.
        scores = scores.masked_fill(self.mask[:seq, :seq], float("-inf"))
        return torch.softmax(scores, dim=-1)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, seq, d_in)`` -> ``(batch, seq, d_out)``: attention per head, merge, ``out_proj``.

        Dropout acts on the attention weights (train mode only). Same errors as
        :meth:`attention_weights`.
        """
        ### BEGIN SOLUTION
        weights = self.dropout(self.attention_weights(x))  # (batch, num_heads, seq, seq)
        values = split_heads(self.W_value(x), self.num_heads)  # (batch, num_heads, seq, head_dim)
        context = merge_heads(weights @ values)  # (batch, seq, d_out), heads in order
        return self.out_proj(context)
        ### END SOLUTION

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
    ### BEGIN SOLUTION
    heads = list(wrapper.heads)
    first = heads[0]
    head_dim, d_in = first.W_query.weight.shape
    qkv_bias = first.W_query.bias is not None
    fused = MultiHeadAttention(d_in, len(heads) * head_dim, first.mask.shape[0], first.dropout.p,
                               len(heads), qkv_bias=qkv_bias)
    with torch.no_grad():  # copying values, not a step of any computation graph
        for name in ("W_query", "W_key", "W_value"):
            # Stacking the heads' (head_dim, d_in) weights along dim 0 puts head h's output
            # features at h*head_dim to (h+1)*head_dim - 1: the block split_heads gives head h.
            target = getattr(fused, name)
            target.weight.copy_(torch.cat([getattr(h, name).weight for h in heads], dim=0))
            if qkv_bias:
                target.bias.copy_(torch.cat([getattr(h, name).bias for h in heads], dim=0))
        fused.out_proj.weight.copy_(torch.eye(fused.d_out))
        fused.out_proj.bias.zero_()
    return fused
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    qkv_bias = mha.W_query.bias is not None
    wrapper = MultiHeadAttentionWrapper(mha.d_in, mha.head_dim, mha.context_length, mha.dropout.p,
                                        mha.num_heads, qkv_bias=qkv_bias)
    with torch.no_grad():
        for name in ("W_query", "W_key", "W_value"):
            source = getattr(mha, name)
            # split along dim 0 into num_heads blocks of head_dim rows, in head order
            weights = source.weight.split(mha.head_dim, dim=0)
            biases = source.bias.split(mha.head_dim, dim=0) if qkv_bias else [None] * mha.num_heads
            for head, weight, bias in zip(wrapper.heads, weights, biases):
                getattr(head, name).weight.copy_(weight)
                if bias is not None:
                    getattr(head, name).bias.copy_(bias)
    return wrapper
    ### END SOLUTION

"""Topic 10 - causal self-attention: no peeking at the future.

A GPT predicts the next token from the tokens before it. During training it
sees a whole sequence at once, so without care position 3 could simply look
at token 4 - the very token it is asked to predict. *Causal* (or *masked*)
self-attention forbids that: query ``i`` may only attend to keys ``j <= i``.

The rule is enforced with a boolean mask over the ``(seq, seq)`` score
matrix: True above the diagonal (``j > i``, the future). Topic 09's
``scaled_dot_product`` sets those scores to ``-inf`` before the softmax, so
their weights are exactly 0 and each row still sums to 1 over the allowed
keys.

Two more pieces make the layer ready for a real model:

* **dropout on the attention weights** (training only): a random subset of
  the weights is zeroed, the rest scaled by ``1 / (1 - p)``, which keeps one
  position from leaning on a single other position;
* **the mask as a buffer**: it is built once for the longest sequence the
  model accepts (``context_length``) and moves with the module
  (``.to(device)``), but it is not a parameter - the optimiser never sees it.
"""

from __future__ import annotations

import torch
from torch import nn

# resolves to your own topic 09 (or to the reference when grading falls back; see llmkit/resolver.py)
from course.t09_qkv_attention import scaled_dot_product


def causal_mask(seq_len: int) -> torch.Tensor:
    """The causal mask: bool ``(seq_len, seq_len)``, True where the key is in the future.

    ``mask[i, j]`` is True exactly when ``j > i`` (strictly above the
    diagonal): query ``i`` may see keys ``0 .. i``, itself included. True
    means *masked out*, the convention of topic 09's ``scaled_dot_product``.

    >>> causal_mask(3)
    tensor([[False,  True,  True],
            [False, False,  True],
            [False, False, False]])

    ``seq_len`` below 1 -> ``ValueError``.
    """
    ### BEGIN SOLUTION
    if seq_len < 1:
        raise ValueError(f"causal_mask: seq_len must be at least 1, got {seq_len}")
    # triu with diagonal=1 keeps the part strictly above the main diagonal;
    # diagonal=0 would also hide each token from itself.
    return torch.triu(torch.ones(seq_len, seq_len, dtype=torch.bool), diagonal=1)
    ### END SOLUTION


class CausalAttention(nn.Module):
    """Single-head causal self-attention with dropout on the attention weights.

    Submodules and buffers (their names are part of the contract):
        W_query, W_key, W_value: ``nn.Linear(d_in, d_out, bias=qkv_bias)``, so the
            parameters are ``W_query.weight`` ``(d_out, d_in)`` (plus
            ``W_query.bias`` ``(d_out,)`` when ``qkv_bias``), and the same for
            ``W_key`` and ``W_value``. No other parameters.
        dropout: ``nn.Dropout(dropout)``, applied to the attention weights.
        mask: a *buffer* (not a parameter) holding ``causal_mask(context_length)``,
            bool ``(context_length, context_length)``. The reference registers it
            with ``persistent=False``: it is not learned and can always be rebuilt,
            so it stays out of ``state_dict()`` (the checks accept either choice).

    ``forward(x)``: ``(batch, seq, d_in)`` -> ``(batch, seq, d_out)`` for any
    ``1 <= seq <= context_length``.
    """

    def __init__(self, d_in: int, d_out: int, context_length: int, dropout: float = 0.0,
                 qkv_bias: bool = False):
        """Create the three projections, the dropout layer and the ``mask`` buffer."""
        super().__init__()
        self.d_in = d_in
        self.d_out = d_out
        self.context_length = context_length
        ### BEGIN SOLUTION
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.dropout = nn.Dropout(dropout)
        # A buffer follows .to(device) / .half() like a parameter, but gets no
        # gradient and is invisible to the optimiser.
        self.register_buffer("mask", causal_mask(context_length), persistent=False)
        ### END SOLUTION

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Causal attention weights for ``x``, *before* dropout: ``(batch, seq, seq)``.

        ``weights[b, i, j] = softmax_j(q_i . k_j / sqrt(d_out))`` over ``j <= i``
        and exactly 0 for ``j > i``; each row sums to 1. This is what
        ``forward`` uses in eval mode. Use the top-left ``(seq, seq)`` corner of
        the ``mask`` buffer and topic 09's ``scaled_dot_product``.

        Errors: ``x`` not of shape ``(batch, seq, d_in)`` -> ``ValueError``;
        ``seq > context_length`` (``context_length + 1`` already) -> ``ValueError``
        naming both numbers.
        """
        ### BEGIN SOLUTION
        if x.dim() != 3 or x.shape[-1] != self.d_in:
            raise ValueError(f"CausalAttention: x must have shape (batch, seq, {self.d_in}), "
                             f"got {tuple(x.shape)}")
        seq = x.shape[1]
        if seq > self.context_length:
            raise ValueError(f"CausalAttention: got seq_len={seq} > "
                             f"context_length={self.context_length}")
        queries, keys = self.W_query(x), self.W_key(x)  # (batch, seq, d_out)
        # The mask was built once for context_length; a shorter sequence uses its
        # top-left corner, which is exactly causal_mask(seq).
        mask = self.mask[:seq, :seq]
        # Only the weights are wanted here, and scaled_dot_product needs *some*
        # values with seq rows: the keys will do (the context is discarded).
        _, weights = scaled_dot_product(queries, keys, keys, mask)
        return weights
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Context vectors ``(batch, seq, d_out)``: ``dropout(weights) @ values``.

        Dropout acts on the attention weights (after the softmax), not on the
        values and not on the output; in eval mode it does nothing. Same
        errors as :meth:`attention_weights`.
        """
        ### BEGIN SOLUTION
        weights = self.attention_weights(x)  # (batch, seq, seq), future = 0
        values = self.W_value(x)  # (batch, seq, d_out)
        # Dropout sits between the softmax and the weighted sum, which is why we
        # do the last product here instead of inside scaled_dot_product.
        return self.dropout(weights) @ values
        ### END SOLUTION

    def extra_repr(self) -> str:
        return f"d_in={self.d_in}, d_out={self.d_out}, context_length={self.context_length}"

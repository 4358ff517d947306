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
    raise NotImplementedError('t10 causal_mask: not implemented yet - write it in course/t10_causal_attention/causal_attention.py')


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
        raise NotImplementedError('t10 CausalAttention.__init__: not implemented yet - write it in course/t10_causal_attention/causal_attention.py')

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
        raise NotImplementedError('t10 CausalAttention.attention_weights: not implemented yet - write it in course/t10_causal_attention/causal_attention.py')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Context vectors ``(batch, seq, d_out)``: ``dropout(weights) @ values``.

        Dropout acts on the attention weights (after the softmax), not on the
        values and not on the output; in eval mode it does nothing. Same
        errors as :meth:`attention_weights`.
        """
        raise NotImplementedError('t10 CausalAttention.forward: not implemented yet - write it in course/t10_causal_attention/causal_attention.py')

    def extra_repr(self) -> str:
        return f"d_in={self.d_in}, d_out={self.d_out}, context_length={self.context_length}"

"""Topic 05 - positional embeddings: telling the model where each token stands.

A token embedding (topic 04) gives the same vector to "dog" wherever it occurs,
and attention (stage 2) treats its inputs as an unordered set. So the position
of each token must be put into the vectors themselves. Two classic ways:

* **learned** absolute positions (GPT-2): a second embedding table with one
  row per position ``0 .. context_length-1``, trained like any other weight;
* **sinusoidal** positions (the original Transformer): a fixed table of sines
  and cosines of geometrically spaced frequencies - nothing to learn.

Either way, the position vectors are *added* to the token vectors.
"""

from __future__ import annotations

import torch
from torch import nn

# resolves to your own topic 04 (or to the reference's when grading falls back; see llmkit/resolver.py)
from course.t04_token_embeddings import Embedding


class LearnedPositionalEmbedding(nn.Module):
    """Absolute position embeddings learned like token embeddings (GPT-2's ``wpe``).

    Submodules and parameters (names are part of the contract):
        table: topic 04's ``Embedding(context_length, d_model)``,
            so its parameter is ``table.weight`` of shape ``(context_length, d_model)``.
    """

    def __init__(self, context_length: int, d_model: int):
        """Create ``self.table``, an ``Embedding`` with one row per position."""
        super().__init__()
        self.context_length = context_length
        self.d_model = d_model
        ### BEGIN SOLUTION
        self.table = Embedding(context_length, d_model)
        ### END SOLUTION

    def positions(self, seq_len: int) -> torch.Tensor:
        """Rows ``0 .. seq_len-1`` of the table: ``(seq_len, d_model)``.

        ``seq_len > context_length`` -> ``ValueError`` naming both numbers
        (this table has no row for such positions).
        """
        ### BEGIN SOLUTION
        if seq_len > self.context_length:
            raise ValueError(f"sequence too long: got seq_len={seq_len} > "
                             f"context_length={self.context_length}")
        index = torch.arange(seq_len, device=self.table.weight.device)
        return self.table(index)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(batch, seq, d_model)`` or ``(seq, d_model)`` plus the positions of its ``seq`` axis."""
        return add_positions(x, self.positions(x.shape[-2]))


def sinusoidal_encoding(seq_len: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The fixed sinusoidal table of Vaswani et al.: ``(seq_len, d_model)`` float32.

    For position ``p`` and column pair ``(2i, 2i+1)``::

        PE[p, 2i]   = sin(p / base ** (2i / d_model))
        PE[p, 2i+1] = cos(p / base ** (2i / d_model))

    Works for odd ``d_model`` too: the last column ``d_model-1`` is even, so it
    is a sine with no cosine partner.
    """
    ### BEGIN SOLUTION
    # Compute in float64: angles reach seq_len radians, and float32 would lose
    # about 1e-3 of precision at positions in the thousands.
    position = torch.arange(seq_len, dtype=torch.float64).unsqueeze(1)  # (seq, 1)
    even = torch.arange(0, d_model, 2, dtype=torch.float64)  # 2i = 0, 2, 4, ...
    inv_freq = base ** (-even / d_model)  # (ceil(d/2),): wavelengths grow geometrically
    angle = position * inv_freq  # (seq, ceil(d/2))
    table = torch.zeros(seq_len, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : d_model // 2])  # odd d_model: one cosine fewer
    return table.float()
    ### END SOLUTION


class SinusoidalPositionalEncoding(nn.Module):
    """Fixed sinusoidal positions (the original Transformer): no parameters at all.

    Buffers: ``pe`` of shape ``(context_length, d_model)``, the table from
    :func:`sinusoidal_encoding`, registered as a *non-persistent* buffer (it
    moves with ``.to(device)`` but is not saved in the ``state_dict``, since it
    can always be recomputed).
    """

    def __init__(self, context_length: int, d_model: int, base: float = 10000.0):
        """Precompute the table for ``context_length`` positions and register it as buffer ``pe``."""
        super().__init__()
        self.context_length = context_length
        self.d_model = d_model
        ### BEGIN SOLUTION
        self.register_buffer("pe", sinusoidal_encoding(context_length, d_model, base), persistent=False)
        ### END SOLUTION

    def positions(self, seq_len: int) -> torch.Tensor:
        """Rows ``0 .. seq_len-1`` of ``pe``: ``(seq_len, d_model)``.

        ``seq_len > context_length`` -> ``ValueError`` naming both numbers, as in
        :class:`LearnedPositionalEmbedding`.
        """
        ### BEGIN SOLUTION
        if seq_len > self.context_length:
            raise ValueError(f"sequence too long: got seq_len={seq_len} > "
                             f"context_length={self.context_length}")
        return self.pe[:seq_len]
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(batch, seq, d_model)`` or ``(seq, d_model)`` plus the positions of its ``seq`` axis."""
        return add_positions(x, self.positions(x.shape[-2]))


def add_positions(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """``x + pos``: add one position vector to every token vector.

    ``x``: ``(..., seq, d_model)`` with any number of leading batch dimensions
    (none, ``(batch,)``, ``(b1, b2)``, ...); ``pos``: ``(seq, d_model)``.
    Returns a tensor of ``x``'s shape. ``pos`` broadcasts over the batch
    dimensions only: if ``x.shape[-2:]`` differs from ``pos.shape`` (or ``pos``
    is not 2-D, or ``x`` has fewer than 2 dimensions) raise ``ValueError``
    naming both shapes - never let PyTorch broadcast a length-1 axis silently.
    """
    ### BEGIN SOLUTION
    if pos.dim() != 2 or x.dim() < 2 or tuple(x.shape[-2:]) != tuple(pos.shape):
        raise ValueError(f"cannot add positions of shape {tuple(pos.shape)} (seq, d_model) to inputs "
                         f"of shape {tuple(x.shape)} (..., seq, d_model)")
    # (..., seq, d_model) + (seq, d_model): broadcasting lines up the trailing
    # dimensions, so the same position table is reused for every sequence.
    return x + pos
    ### END SOLUTION

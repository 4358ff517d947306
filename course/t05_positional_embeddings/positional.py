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
        raise NotImplementedError('t05 LearnedPositionalEmbedding.__init__: not implemented yet - write it in course/t05_positional_embeddings/positional.py')

    def positions(self, seq_len: int) -> torch.Tensor:
        """Rows ``0 .. seq_len-1`` of the table: ``(seq_len, d_model)``.

        ``seq_len > context_length`` -> ``ValueError`` naming both numbers
        (this table has no row for such positions).
        """
        raise NotImplementedError('t05 LearnedPositionalEmbedding.positions: not implemented yet - write it in course/t05_positional_embeddings/positional.py')

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
    raise NotImplementedError('t05 sinusoidal_encoding: not implemented yet - write it in course/t05_positional_embeddings/positional.py')


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
        raise NotImplementedError('t05 SinusoidalPositionalEncoding.__init__: not implemented yet - write it in course/t05_positional_embeddings/positional.py')

    def positions(self, seq_len: int) -> torch.Tensor:
        """Rows ``0 .. seq_len-1`` of ``pe``: ``(seq_len, d_model)``.

        ``seq_len > context_length`` -> ``ValueError`` naming both numbers, as in
        :class:`LearnedPositionalEmbedding`.
        """
        raise NotImplementedError('t05 SinusoidalPositionalEncoding.positions: not implemented yet - write it in course/t05_positional_embeddings/positional.py')

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
    raise NotImplementedError('t05 add_positions: not implemented yet - write it in course/t05_positional_embeddings/positional.py')

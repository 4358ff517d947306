"""Topic 04 - token embeddings: turning token ids into vectors.

A tokenizer (topics 01-02) gives integers; a network needs vectors of real
numbers it can learn. An embedding layer is a table with one learnable row per
token id: looking up id ``k`` returns row ``k``. The same lookup can be written
as a one-hot vector times the table, which is why an embedding layer is "just a
linear layer without bias, fed with one-hot inputs" - and why its gradient only
touches the rows of the ids that were actually used.
"""

from __future__ import annotations

import torch
from torch import nn


class Embedding(nn.Module):
    """A learnable lookup table: id ``k`` -> row ``k`` of ``weight``.

    Parameters (their names are part of the contract; later topics load
    GPT-2's weights by name):
        weight: ``(num_embeddings, embedding_dim)``, initialised from N(0, 1)
            like ``torch.nn.Embedding``.

    ``forward(ids)`` takes an integer tensor of any shape ``(...)`` - a 0-D
    scalar and empty tensors included (``(0,)`` gives ``(0, embedding_dim)``) -
    and returns ``(..., embedding_dim)``.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int):
        """Create ``weight`` of shape ``(num_embeddings, embedding_dim)`` with N(0, 1) values."""
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        raise NotImplementedError('t04 Embedding.__init__: not implemented yet - write it in course/t04_token_embeddings/embedding.py')

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Rows of ``weight`` for ``ids``: ``(...)`` integer tensor -> ``(..., embedding_dim)``.

        Write the lookup yourself by indexing ``weight`` (no ``nn.Embedding`` or
        ``F.embedding``). Errors:
        * ids that are not an integer tensor (float, bool) -> ``TypeError``;
        * an id outside ``0 .. num_embeddings-1`` (negative ids too) ->
          ``IndexError`` whose message names the bad id and the vocabulary size.
        Check both yourself, before indexing: ``weight[ids]`` reads ``-1`` as the
        last row, raises PyTorch's own ``IndexError`` (not ``TypeError``) on float
        ids and reads bool ids as a mask.
        """
        raise NotImplementedError('t04 Embedding.forward: not implemented yet - write it in course/t04_token_embeddings/embedding.py')

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


def one_hot(ids: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot float vectors: ``(...)`` integer ids -> ``(..., num_classes)`` float32.

    ``out[..., k]`` is 1.0 where ``ids[...] == k`` and 0.0 elsewhere. Write it
    yourself (no ``F.one_hot``). The same errors as ``Embedding.forward``: float
    or bool ids -> ``TypeError``; an id outside ``0 .. num_classes-1`` (negative
    ids too) -> ``IndexError`` whose message names the bad id and ``num_classes``.
    """
    raise NotImplementedError('t04 one_hot: not implemented yet - write it in course/t04_token_embeddings/embedding.py')


def embed_via_one_hot(ids: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """The embedding lookup written as a matrix product: ``one_hot(ids, V) @ weight``.

    ``ids``: ``(...)`` integers, ``weight``: ``(V, D)`` -> ``(..., D)``; equal to
    ``Embedding`` with that weight (but it costs ``V`` times more arithmetic).
    """
    raise NotImplementedError('t04 embed_via_one_hot: not implemented yet - write it in course/t04_token_embeddings/embedding.py')

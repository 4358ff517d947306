"""Topic 06 - the full data pipeline: from raw text to the tensor a GPT reads.

Topics 02-05 each built one piece; here they are wired together::

    text --BPE (t02)--> token ids --windows (t03)--> (batch, seq) input ids
         --token embedding (t04)--> (batch, seq, d_model)
         --+ position vectors (t05)--> --dropout--> (batch, seq, d_model)

``InputEmbedding`` is the very first layer of the GPT model of topic 18: its
output is what the first Transformer block receives.
"""

from __future__ import annotations

import torch
from torch import nn

# these resolve to your own topics 03, 04 and 05 (or the reference's when grading falls back: llmkit/resolver.py)
from course.t03_dataloader import create_dataloader
from course.t04_token_embeddings import Embedding
from course.t05_positional_embeddings import (LearnedPositionalEmbedding,
                                              SinusoidalPositionalEncoding)

POSITIONAL_KINDS = ("learned", "sinusoidal")


class InputEmbedding(nn.Module):
    """Token embedding + position vectors + dropout: ``(batch, seq)`` ids -> ``(batch, seq, d_model)``.

    Submodules and parameters (names are part of the contract; topic 26 loads
    GPT-2's ``wte`` / ``wpe`` into them):

    * ``tok_emb``: topic 04's ``Embedding(vocab_size, d_model)``
      -> parameter ``tok_emb.weight`` ``(vocab_size, d_model)``;
    * ``pos_emb``: topic 05's ``LearnedPositionalEmbedding(context_length, d_model)``
      (``positional="learned"``, GPT-2's choice) -> parameter ``pos_emb.table.weight``
      ``(context_length, d_model)``; or ``SinusoidalPositionalEncoding(context_length,
      d_model)`` (``positional="sinusoidal"``) -> no parameter, a buffer ``pe``;
    * ``drop``: ``nn.Dropout(dropout)``.

    Any other ``positional`` -> ``ValueError`` naming it and the two choices.
    """

    def __init__(self, vocab_size: int, context_length: int, d_model: int, dropout: float = 0.0,
                 positional: str = "learned"):
        """Create ``tok_emb``, ``pos_emb`` (of the chosen kind) and ``drop``."""
        super().__init__()
        self.vocab_size = vocab_size
        self.context_length = context_length
        self.d_model = d_model
        ### BEGIN SOLUTION
        if positional == "learned":
            pos_emb = LearnedPositionalEmbedding(context_length, d_model)
        elif positional == "sinusoidal":
            pos_emb = SinusoidalPositionalEncoding(context_length, d_model)
        else:
            raise ValueError(f"unknown positional={positional!r}: choose one of {POSITIONAL_KINDS}")
        self.tok_emb = Embedding(vocab_size, d_model)
        self.pos_emb = pos_emb
        self.drop = nn.Dropout(dropout)
        ### END SOLUTION

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """``drop(tok_emb(ids) + positions)``: ``(batch, seq)`` ids -> ``(batch, seq, d_model)``.

        Positions ``0 .. seq-1`` come from ``pos_emb`` (same for every sequence of
        the batch); ``seq > context_length`` -> ``ValueError`` (from ``pos_emb``).
        Dropout comes last, on the sum: in training mode it zeroes each element
        with probability ``p`` and scales the rest by ``1 / (1 - p)``; in
        ``eval()`` mode it does nothing.
        """
        ### BEGIN SOLUTION
        tokens = self.tok_emb(ids)  # (batch, seq, d_model)
        # pos_emb's forward adds rows 0..seq-1 of its table to every sequence.
        return self.drop(self.pos_emb(tokens))
        ### END SOLUTION


def embed_first_batch(text: str, embedding: InputEmbedding, batch_size: int = 2, max_length: int = 8,
                      stride: int = 8, tokenizer=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run the whole pipeline on ``text`` and return its first batch at every stage.

    Build topic 03's ``create_dataloader(text, batch_size=batch_size,
    max_length=max_length, stride=stride, shuffle=False, drop_last=False,
    tokenizer=tokenizer)`` (``tokenizer=None``: GPT-2's BPE tokenizer from topic 02;
    any object with topic 02's ``encode`` works), take its **first** batch
    ``(input_ids, target_ids)``, both ``(B, max_length)`` with
    ``B = min(batch_size, number of windows)``, and pass ``input_ids`` through
    ``embedding``.

    Returns ``(input_ids, target_ids, embeddings)``, embeddings ``(B, max_length, d_model)``.
    """
    ### BEGIN SOLUTION
    loader = create_dataloader(text, batch_size=batch_size, max_length=max_length, stride=stride,
                               shuffle=False, drop_last=False, tokenizer=tokenizer)
    input_ids, target_ids = next(iter(loader))
    return input_ids, target_ids, embedding(input_ids)
    ### END SOLUTION

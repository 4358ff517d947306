"""Topic 06, written another way: submodules created in another order, explicit position add."""

from torch import nn

import course.t03_dataloader as loaders
from course.t04_token_embeddings import Embedding
from course.t05_positional_embeddings import (LearnedPositionalEmbedding, SinusoidalPositionalEncoding,
                                              add_positions)

_KINDS = {"learned": LearnedPositionalEmbedding, "sinusoidal": SinusoidalPositionalEncoding}


class InputEmbedding(nn.Module):
    def __init__(self, vocab_size, context_length, d_model, dropout=0.0, positional="learned"):
        super().__init__()
        self.vocab_size, self.context_length, self.d_model = vocab_size, context_length, d_model  # given code
        if positional not in _KINDS:
            raise ValueError(f"positional must be 'learned' or 'sinusoidal', not {positional!r}")
        self.drop = nn.Dropout(p=dropout)
        self.pos_emb = _KINDS[positional](context_length, d_model)
        self.tok_emb = Embedding(vocab_size, d_model)

    def forward(self, ids):
        summed = add_positions(self.tok_emb(ids), self.pos_emb.positions(ids.shape[-1]))
        return self.drop(summed)


def embed_first_batch(text, embedding, batch_size=2, max_length=8, stride=8, tokenizer=None):
    loader = loaders.create_dataloader(text, batch_size, max_length, stride, False, False,
                                       tokenizer=tokenizer)
    for inputs, targets in loader:
        return inputs, targets, embedding(inputs)

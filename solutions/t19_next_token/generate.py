"""Topic 19 - next-token prediction: a GPT becomes a text generator.

The model of topic 18 maps ``(batch, seq)`` ids to ``(batch, seq, vocab_size)``
logits: at every position ``t``, one score per vocabulary entry for the token
that comes *after* position ``t``. To continue a text we only need the scores
at the **last** position. Greedy decoding takes the best-scoring id, appends it
and asks again::

    ids (batch, n)
      -> keep the last context_length ids        the model has no positions beyond its window
      -> model                                   (batch, window, vocab_size)
      -> logits[:, -1, :]                        (batch, vocab_size)  scores for token n
      -> argmax                                  (batch, 1)
      -> append, repeat max_new_tokens times     (batch, n + max_new_tokens)

The window matters: topic 18's model raises ``ValueError`` on more than
``context_length`` tokens, because its position table has only that many rows.
So every step feeds the last ``context_length`` ids, and the model forgets
whatever lies further back.

Text enters and leaves through a tokenizer (topic 02's ``BPETokenizer`` or
tiktoken's ``gpt2``): :func:`text_to_ids` adds the batch dimension the model
wants, :func:`ids_to_text` removes it.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch
from torch import nn


def accepts_allowed_special(tokenizer) -> bool:
    """Does ``tokenizer.encode`` take an ``allowed_special`` argument (as tiktoken's and topic 02's do)?"""
    try:
        parameters = inspect.signature(tokenizer.encode).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return "allowed_special" in parameters


def text_to_ids(text: str, tokenizer) -> torch.Tensor:
    """``text`` -> its token ids as a ``(1, n)`` ``torch.long`` tensor (a batch of one).

    Calls ``tokenizer.encode(text, allowed_special="all")`` when the tokenizer
    accepts that argument (see :func:`accepts_allowed_special`), so that
    ``<|endoftext|>`` in the text becomes its one id, and ``tokenizer.encode(text)``
    otherwise. An empty text gives shape ``(1, 0)``.
    """
    ### BEGIN SOLUTION
    if accepts_allowed_special(tokenizer):
        ids = tokenizer.encode(text, allowed_special="all")
    else:
        ids = tokenizer.encode(text)                      # topic 01's tokenizer, say
    # torch.tensor([]) would be float: say long, and add the batch dimension
    return torch.tensor(list(ids), dtype=torch.long).unsqueeze(0)
    ### END SOLUTION


def ids_to_text(ids: torch.Tensor | Sequence[int], tokenizer) -> str:
    """Token ids -> text, through ``tokenizer.decode``.

    ``ids``: a ``(1, n)`` or ``(n,)`` tensor, or a list of ints. ``decode`` gets
    a list of Python ints. A tensor with several rows (``(batch, n)``, batch > 1)
    raises ``ValueError`` naming the batch size: decode one row at a time.
    """
    ### BEGIN SOLUTION
    if isinstance(ids, torch.Tensor):
        if ids.dim() == 2:
            if ids.shape[0] != 1:
                raise ValueError(f"ids_to_text decodes one sequence, got a batch of {ids.shape[0]} rows "
                                 f"(shape {tuple(ids.shape)}): decode each row ids[i] on its own")
            ids = ids[0]
        elif ids.dim() != 1:
            raise ValueError(f"ids_to_text expects a (1, n) or (n,) tensor, got shape {tuple(ids.shape)}")
        ids = ids.tolist()
    return tokenizer.decode([int(i) for i in ids])
    ### END SOLUTION


def next_token_logits(model: nn.Module, ids: torch.Tensor, context_length: int) -> torch.Tensor:
    """The model's scores for the token after ``ids``: ``(batch, n)`` -> ``(batch, vocab_size)``.

    Feeds the model only the last ``context_length`` ids (all of them when
    ``n <= context_length``) and returns its logits at the last position.
    ``ids`` not 2-D, or with no ids (``n == 0``), and ``context_length < 1``
    raise ``ValueError``.
    """
    ### BEGIN SOLUTION
    if context_length < 1:
        # ids[:, -0:] would be *all* ids: a silent bug, so refuse it
        raise ValueError(f"context_length must be at least 1, got {context_length}")
    if ids.dim() != 2 or ids.shape[1] == 0:
        raise ValueError(f"ids must be a (batch, n) tensor with n >= 1, got shape {tuple(ids.shape)}")
    window = ids[:, -context_length:]          # (batch, min(n, context_length))
    with torch.no_grad():                      # generation needs no gradients: save the memory
        logits = model(window)                 # (batch, window, vocab_size)
    return logits[:, -1, :]                    # the scores for the next token
    ### END SOLUTION


def generate_greedy(model: nn.Module, ids: torch.Tensor, max_new_tokens: int, context_length: int) -> torch.Tensor:
    """Greedy decoding: ``(batch, n)`` prompt -> ``(batch, n + max_new_tokens)`` ids.

    Each step calls :func:`next_token_logits` (one model call on the last
    ``context_length`` ids), takes the ``argmax`` (the first index on ties) and
    appends it to every row. The prompt tensor is not modified, the model's
    train/eval mode is left as it is (call ``model.eval()`` first), and no
    randomness is used. ``max_new_tokens < 0`` raises ``ValueError``.
    """
    ### BEGIN SOLUTION
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    for _ in range(max_new_tokens):
        logits = next_token_logits(model, ids, context_length)   # (batch, vocab_size)
        next_id = logits.argmax(dim=-1, keepdim=True)             # (batch, 1), first index on ties
        ids = torch.cat([ids, next_id], dim=1)                    # a new tensor: the prompt stays as it was
    return ids
    ### END SOLUTION

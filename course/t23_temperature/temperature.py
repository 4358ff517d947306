"""Topic 23 - temperature: how sure of itself the sampler is.

Greedy decoding (topic 19) always takes the best-scoring token, so a prompt has
exactly one continuation, and it soon repeats itself. *Sampling* draws the next
token from the model's distribution instead: a token with probability 0.3 comes
next three times in ten. The **temperature** ``T`` reshapes that distribution
before the draw::

    probs = softmax(logits / T)

* ``T = 1``: the model's own distribution;
* ``T < 1``: sharper - the likely tokens gain, the unlikely ones fade; as
  ``T -> 0`` all the mass moves to the argmax (greedy decoding, which is what
  ``T = 0`` means here);
* ``T > 1``: flatter - towards the uniform distribution as ``T -> inf``.

Dividing the logits by ``T`` keeps their order, so the most likely token stays
the most likely; only the gaps between the tokens change.

Randomness comes from a ``torch.Generator`` passed in by the caller, so a seed
reproduces a run exactly, and nothing touches torch's global random state.
"""

from __future__ import annotations

import torch
from torch import nn

from course.t19_next_token import next_token_logits  # your topic 19


def softmax_with_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``softmax(logits / temperature)`` over the last dimension: probabilities, same shape as ``logits``.

    Stable for huge logits (the softmax subtracts the row maximum). ``temperature``
    must be > 0: anything else raises ``ValueError`` naming it (``T = 0`` is
    greedy decoding, which :func:`sample_next_token` handles without a softmax).
    """
    raise NotImplementedError('t23 softmax_with_temperature: not implemented yet - write it in course/t23_temperature/temperature.py')


def sample_next_token(logits: torch.Tensor, temperature: float,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """One next id per row: ``(batch, vocab_size)`` logits -> ``(batch, 1)`` ``torch.long``.

    ``temperature == 0``: the argmax of each row (first index on ties), and the
    generator is not used. ``temperature > 0``: exactly one call
    ``torch.multinomial(probs, 1, generator=generator)`` on the whole batch, with
    ``probs = softmax_with_temperature(logits, temperature)``; ``generator=None``
    draws from torch's global generator. ``temperature < 0`` raises ``ValueError``
    naming it; logits that are not 2-D raise ``ValueError`` naming their shape.
    """
    raise NotImplementedError('t23 sample_next_token: not implemented yet - write it in course/t23_temperature/temperature.py')


def next_token_probs(model: nn.Module, ids: torch.Tensor, context_length: int, temperature: float) -> torch.Tensor:
    """The model's distribution for the token after ``ids`` at ``temperature``: ``(batch, vocab_size)``.

    Topic 19's :func:`next_token_logits` (the last ``context_length`` ids, the last
    position), then :func:`softmax_with_temperature`.
    """
    raise NotImplementedError('t23 next_token_probs: not implemented yet - write it in course/t23_temperature/temperature.py')

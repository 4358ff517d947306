"""Topic 24 - top-k and top-p (nucleus) sampling, and the full ``generate``.

Sampling at temperature ``T`` (topic 23) gives every token some chance. Over a
50,257-token vocabulary the thousands of individually unlikely tokens add up:
a long text is bound to pick some of them, and one bad token can derail the
rest. Both filters here cut off that tail *before* the draw, by setting the
logits of the excluded tokens to ``-inf`` (probability exactly 0 after the
softmax, and the remaining probabilities renormalize by themselves):

* **top-k** keeps the ``k`` largest logits of each row (plus any tied with the
  ``k``-th), whatever their probabilities;
* **top-p** (nucleus) keeps the smallest set of most probable tokens whose
  total probability reaches ``p``: few tokens when the model is sure, many
  when it hesitates.

``generate`` puts topics 19, 23 and 24 together. Each step::

    last context_length ids -> model -> last position's logits     topic 19's next_token_logits
      -> / temperature -> top_k_filter -> top_p_filter             this topic
      -> one draw for the whole batch                               topic 23's sample_next_token
      -> append; stop once every row has produced eos_id

and ``temperature = 0`` means greedy decoding.
"""

from __future__ import annotations

import torch
from torch import nn

from course.t19_next_token import next_token_logits  # your topic 19
from course.t23_temperature import sample_next_token  # your topic 23


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep each row's ``k`` largest logits: ``(..., vocab_size)`` -> a new tensor of the same shape.

    Every logit below the row's ``k``-th largest becomes ``-inf``; logits tied with
    the ``k``-th are kept (so a row may keep more than ``k``). ``k >= vocab_size``
    keeps everything. ``k < 1`` raises ``ValueError`` naming it. The input is not
    modified.
    """
    raise NotImplementedError('t24 top_k_filter: not implemented yet - write it in course/t24_top_k_top_p/sampling.py')


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filtering: ``(..., vocab_size)`` -> a new tensor of the same shape.

    With ``probs = softmax(logits)``, a token is kept when the tokens more
    probable than it (in descending order) have a total probability below ``p``:
    the smallest set of most probable tokens whose total reaches ``p``. Tokens
    tied in probability with the least probable kept token are kept too. The
    most probable token is always kept; ``p = 1`` keeps everything. The other
    logits become ``-inf``; the kept ones are returned unchanged. ``p`` outside
    ``(0, 1]`` raises ``ValueError`` naming it. The input is not modified.
    """
    raise NotImplementedError('t24 top_p_filter: not implemented yet - write it in course/t24_top_k_top_p/sampling.py')


def generate(model: nn.Module, ids: torch.Tensor, max_new_tokens: int, context_length: int,
             temperature: float = 0.0, top_k: int | None = None, top_p: float | None = None,
             eos_id: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Up to ``max_new_tokens`` new ids after a ``(batch, n)`` prompt -> ``(batch, n + m)``, ``m <= max_new_tokens``.

    Each step: topic 19's ``next_token_logits(model, ids, context_length)``; with
    ``temperature > 0``, divide by ``temperature``, apply ``top_k_filter`` (when
    ``top_k`` is given), then ``top_p_filter`` (when ``top_p`` is given), then topic
    23's ``sample_next_token(logits, 1.0, generator)`` - one draw for the whole
    batch; with ``temperature == 0``, the argmax (the filters change nothing then,
    and the generator is not used). With ``eos_id``, a row that has produced
    ``eos_id`` gets ``eos_id`` at every later step, and generation stops as soon
    as every row has produced it. Mode and prompt are left as they were.
    ``max_new_tokens < 0``, ``temperature < 0``, ``top_k < 1`` and ``top_p``
    outside ``(0, 1]`` raise ``ValueError`` naming the value.
    """
    raise NotImplementedError('t24 generate: not implemented yet - write it in course/t24_top_k_top_p/sampling.py')

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
    ### BEGIN SOLUTION
    if k < 1:
        raise ValueError(f"top_k must be at least 1, got {k}")
    if k >= logits.shape[-1]:
        return logits.clone()
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]   # (..., 1): the k-th largest of each row
    # strictly below the k-th: ties with it survive
    return logits.masked_fill(logits < kth, float("-inf"))
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if not 0 < p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {p}")
    if p == 1:
        return logits.clone()   # also keeps tokens whose probability rounds to 0
    probs = torch.softmax(logits, dim=-1)                  # (..., vocab_size)
    ranked = probs.sort(dim=-1, descending=True).values
    above = ranked.cumsum(dim=-1) - ranked                 # total probability of the tokens ranked higher
    kept = above < p                                       # a prefix; the first token always (0 < p)
    # the smallest probability kept; every token at least that probable stays (ties included)
    threshold = ranked.masked_fill(~kept, float("inf")).amin(dim=-1, keepdim=True)
    return logits.masked_fill(probs < threshold, float("-inf"))
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    finished = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
    for _ in range(max_new_tokens):
        logits = next_token_logits(model, ids, context_length)         # (batch, vocab_size)
        if temperature == 0:
            next_id = sample_next_token(logits, 0.0)                    # greedy: no draw
        else:
            logits = logits / temperature
            if top_k is not None:
                logits = top_k_filter(logits, top_k)
            if top_p is not None:
                logits = top_p_filter(logits, top_p)                    # on the tempered, top-k'd distribution
            next_id = sample_next_token(logits, 1.0, generator=generator)
        if eos_id is not None:
            # a finished row only repeats eos_id, but still takes part in the draw (one draw per step)
            next_id = next_id.masked_fill(finished.unsqueeze(1), eos_id)
            finished = finished | (next_id[:, 0] == eos_id)
        ids = torch.cat([ids, next_id], dim=1)                          # (batch, n + steps so far)
        if eos_id is not None and bool(finished.all()):
            break
    return ids
    ### END SOLUTION

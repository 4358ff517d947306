"""Topic 08 - simplified self-attention, without any trainable weights.

Self-attention turns a sequence of input vectors into a sequence of *context
vectors*: each output position is a weighted average of all input vectors,
and the weights say how relevant every input is to that position. In this
first version the relevance of input ``j`` to the query at position ``i`` is
simply the dot product ``x_i . x_j``; softmax turns those scores into
weights that are positive and sum to 1.

You write the pieces once for a single query (scores, softmax, weighted sum),
chain them in a Python loop over all queries, and then replace the loop with
two matrix products. Topic 09 adds trainable query/key/value projections on
top of exactly this computation.
"""

from __future__ import annotations

import torch


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax of ``x`` along ``dim``: ``exp(x) / exp(x).sum(dim)``, numerically stable.

    ``x`` may have any shape; the result has the same shape and dtype, is
    >= 0, and sums to 1 along ``dim``. ``x`` itself is left unchanged.

    Write it from scratch (no ``torch.softmax`` / ``F.softmax`` / ``Tensor.softmax``,
    nor a ``log_softmax``). Subtract the
    maximum along ``dim`` before exponentiating, so that large logits such as
    ``1000`` or ``-1000`` give exact, finite results instead of ``inf / inf``.

    ``-inf`` entries (masked positions, from topic 09 on) get weight exactly 0.
    A slice along ``dim`` whose entries are *all* ``-inf`` has no distribution
    to give: its result is NaN, exactly as with ``torch.softmax``.

    >>> softmax(torch.tensor([1000.0, 1000.0, -float("inf")]))
    tensor([0.5000, 0.5000, 0.0000])
    """
    raise NotImplementedError('t08 softmax: not implemented yet - write it in course/t08_simple_attention/simple_attention.py')


def _check_2d(inputs: torch.Tensor, where: str) -> None:
    if inputs.dim() != 2:
        raise ValueError(f"{where}: inputs must have shape (seq, d), got {tuple(inputs.shape)}")


def attention_scores(query: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Dot product of one ``query`` ``(d,)`` with every row of ``inputs`` ``(seq, d)`` -> ``(seq,)``.

    ``scores[j] = query . inputs[j]``. A ``query`` that is not 1-D, ``inputs``
    that are not 2-D, or different ``d`` -> ``ValueError`` naming the shapes.
    """
    raise NotImplementedError('t08 attention_scores: not implemented yet - write it in course/t08_simple_attention/simple_attention.py')


def context_vector(weights: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Weighted sum of the rows of ``inputs`` ``(seq, d)`` with ``weights`` ``(seq,)`` -> ``(d,)``.

    ``context = sum_j weights[j] * inputs[j]``. ``weights`` not 1-D, ``inputs``
    not 2-D, or a different ``seq`` -> ``ValueError`` naming the shapes.
    """
    raise NotImplementedError('t08 context_vector: not implemented yet - write it in course/t08_simple_attention/simple_attention.py')


def self_attention_loop(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Simplified self-attention, one query at a time.

    ``inputs`` ``(seq, d)`` -> ``(context (seq, d), weights (seq, seq))`` where
    row ``i`` of ``weights`` is ``softmax(attention_scores(inputs[i], inputs))``
    - how much query ``i`` attends to each input ``j`` - and row ``i`` of
    ``context`` is ``context_vector(weights[i], inputs)``.

    Use an explicit Python loop over the queries and the three functions above.
    ``inputs`` that are not 2-D -> ``ValueError``.
    """
    raise NotImplementedError('t08 self_attention_loop: not implemented yet - write it in course/t08_simple_attention/simple_attention.py')


def self_attention_matrix(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Simplified self-attention for all queries at once (same result as the loop).

    ``inputs`` ``(seq, d)`` -> ``(context (seq, d), weights (seq, seq))``:
    scores ``inputs @ inputs.T``, weights = softmax over the *last* axis
    (each query's row sums to 1), context = ``weights @ inputs``.
    ``inputs`` that are not 2-D -> ``ValueError``.
    """
    raise NotImplementedError('t08 self_attention_matrix: not implemented yet - write it in course/t08_simple_attention/simple_attention.py')

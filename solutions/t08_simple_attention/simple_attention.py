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
    ### BEGIN SOLUTION
    # softmax(x) == softmax(x - c) for any constant c along dim. With c = max,
    # the largest exponent is exp(0) = 1: no overflow, and the sum is >= 1.
    shifted = x - x.amax(dim=dim, keepdim=True)
    exps = torch.exp(shifted)  # exp(-inf) = 0: masked entries drop out
    return exps / exps.sum(dim=dim, keepdim=True)
    ### END SOLUTION


def _check_2d(inputs: torch.Tensor, where: str) -> None:
    if inputs.dim() != 2:
        raise ValueError(f"{where}: inputs must have shape (seq, d), got {tuple(inputs.shape)}")


def attention_scores(query: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Dot product of one ``query`` ``(d,)`` with every row of ``inputs`` ``(seq, d)`` -> ``(seq,)``.

    ``scores[j] = query . inputs[j]``. A ``query`` that is not 1-D, ``inputs``
    that are not 2-D, or different ``d`` -> ``ValueError`` naming the shapes.
    """
    ### BEGIN SOLUTION
    _check_2d(inputs, "attention_scores")
    if query.dim() != 1 or query.shape[0] != inputs.shape[1]:
        raise ValueError(f"attention_scores: query must have shape (d,) = ({inputs.shape[1]},) "
                         f"to match inputs {tuple(inputs.shape)}, got {tuple(query.shape)}")
    # (seq, d) @ (d,) -> (seq,): row j of the product is inputs[j] . query
    return inputs @ query
    ### END SOLUTION


def context_vector(weights: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Weighted sum of the rows of ``inputs`` ``(seq, d)`` with ``weights`` ``(seq,)`` -> ``(d,)``.

    ``context = sum_j weights[j] * inputs[j]``. ``weights`` not 1-D, ``inputs``
    not 2-D, or a different ``seq`` -> ``ValueError`` naming the shapes.
    """
    ### BEGIN SOLUTION
    _check_2d(inputs, "context_vector")
    if weights.dim() != 1 or weights.shape[0] != inputs.shape[0]:
        raise ValueError(f"context_vector: weights must have shape (seq,) = ({inputs.shape[0]},) "
                         f"to match inputs {tuple(inputs.shape)}, got {tuple(weights.shape)}")
    # (seq,) @ (seq, d) -> (d,): a convex combination of the input rows
    return weights @ inputs
    ### END SOLUTION


def self_attention_loop(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Simplified self-attention, one query at a time.

    ``inputs`` ``(seq, d)`` -> ``(context (seq, d), weights (seq, seq))`` where
    row ``i`` of ``weights`` is ``softmax(attention_scores(inputs[i], inputs))``
    - how much query ``i`` attends to each input ``j`` - and row ``i`` of
    ``context`` is ``context_vector(weights[i], inputs)``.

    Use an explicit Python loop over the queries and the three functions above.
    ``inputs`` that are not 2-D -> ``ValueError``.
    """
    ### BEGIN SOLUTION
    _check_2d(inputs, "self_attention_loop")
    weight_rows, context_rows = [], []
    for query in inputs:  # iterating a (seq, d) tensor yields its rows
        row = softmax(attention_scores(query, inputs), dim=-1)
        weight_rows.append(row)
        context_rows.append(context_vector(row, inputs))
    # stack along a new first axis, so that row i belongs to query i
    return torch.stack(context_rows), torch.stack(weight_rows)
    ### END SOLUTION


def self_attention_matrix(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Simplified self-attention for all queries at once (same result as the loop).

    ``inputs`` ``(seq, d)`` -> ``(context (seq, d), weights (seq, seq))``:
    scores ``inputs @ inputs.T``, weights = softmax over the *last* axis
    (each query's row sums to 1), context = ``weights @ inputs``.
    ``inputs`` that are not 2-D -> ``ValueError``.
    """
    ### BEGIN SOLUTION
    _check_2d(inputs, "self_attention_matrix")
    scores = inputs @ inputs.T  # scores[i, j] = x_i . x_j
    # Normalise each *row*: query i distributes its attention over all keys j.
    weights = softmax(scores, dim=-1)
    return weights @ inputs, weights
    ### END SOLUTION

"""Topic 07 - from recurrent networks to attention.

Before transformers, sequences were read one step at a time by a *recurrent*
network: a cell that takes the current input and its own previous state and
returns a new state. This topic builds the two classic cells - Elman's RNN cell
and the LSTM cell - a loop that unrolls either one over a sequence, and
Bahdanau's *additive attention*, which lets a decoder look back at every encoder
state instead of squeezing the whole input into one fixed-size vector. That
last idea is the seed of everything in the rest of the course.

Shapes use ``batch`` for independent sequences, ``seq`` for time steps.
The parameter names and layouts match ``torch.nn.RNNCell`` / ``torch.nn.LSTMCell``,
so the same weights give the same outputs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

NONLINEARITIES = ("tanh", "relu")


# ----------------------------------------------------------------------------- given helpers


def check_step_input(x: torch.Tensor, input_size: int, who: str) -> int:
    """Validate one time step's input ``x`` of shape ``(batch, input_size)``; return ``batch``.

    Raises ``ValueError`` naming ``who`` and the shapes when ``x`` does not fit.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who}: x must be a tensor, got {type(x).__name__}")
    if x.dim() != 2 or x.shape[1] != input_size:
        raise ValueError(f"{who}: x must have shape (batch, input_size={input_size}), "
                         f"got {tuple(x.shape)}")
    return x.shape[0]


def check_state(h: torch.Tensor, batch: int, hidden_size: int, who: str) -> None:
    """Raise ``ValueError`` unless the state ``h`` has shape ``(batch, hidden_size)``."""
    if not isinstance(h, torch.Tensor):
        raise TypeError(f"{who} must be a tensor, got {type(h).__name__}")
    if tuple(h.shape) != (batch, hidden_size):
        raise ValueError(f"{who} must have shape (batch={batch}, hidden_size={hidden_size}), "
                         f"got {tuple(h.shape)}")


def check_attention_inputs(query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor | None,
                           query_dim: int, key_dim: int) -> tuple[int, int]:
    """Validate ``AdditiveAttention`` inputs; return ``(batch, seq)``.

    ``query`` must be ``(batch, query_dim)``, ``keys`` ``(batch, seq, key_dim)`` with
    ``seq >= 1``, and ``mask`` ``None`` or a bool tensor ``(batch, seq)``.
    """
    if query.dim() != 2 or query.shape[1] != query_dim:
        raise ValueError(f"AdditiveAttention: query must have shape (batch, query_dim={query_dim}), "
                         f"got {tuple(query.shape)}")
    if keys.dim() != 3 or keys.shape[2] != key_dim or keys.shape[0] != query.shape[0]:
        raise ValueError(f"AdditiveAttention: keys must have shape (batch={query.shape[0]}, seq, "
                         f"key_dim={key_dim}), got {tuple(keys.shape)}")
    batch, seq = keys.shape[0], keys.shape[1]
    if seq == 0:
        raise ValueError("AdditiveAttention: keys has no positions (seq=0): nothing to attend to")
    if mask is not None:
        if mask.dtype != torch.bool:
            raise TypeError(f"AdditiveAttention: mask must be a bool tensor (True = masked out), "
                            f"got dtype {mask.dtype}")
        if tuple(mask.shape) != (batch, seq):
            raise ValueError(f"AdditiveAttention: mask must have shape (batch={batch}, seq={seq}), "
                             f"got {tuple(mask.shape)}")
    return batch, seq


# ----------------------------------------------------------------------------- recurrent cells


class RNNCell(nn.Module):
    """Elman's recurrent cell: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Parameters (names and shapes as in ``torch.nn.RNNCell``; all four are drawn
    from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))):
        weight_ih: ``(hidden_size, input_size)`` - input to hidden
        weight_hh: ``(hidden_size, hidden_size)`` - previous hidden to hidden
        bias_ih:   ``(hidden_size,)``
        bias_hh:   ``(hidden_size,)``

    ``nonlinearity`` is ``"tanh"`` (default) or ``"relu"``.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        """Create the four parameters and initialise them uniformly in +-1/sqrt(hidden_size).

        An unknown ``nonlinearity`` raises ``ValueError`` naming it and the allowed ones
        (the match is case-sensitive: ``"Tanh"`` is unknown).
        """
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.nonlinearity = nonlinearity
        raise NotImplementedError('t07 RNNCell.__init__: not implemented yet - write it in course/t07_rnn_to_attention/recurrent.py')

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """One time step: ``x (batch, input_size)``, ``h (batch, hidden_size)`` -> ``h' (batch, hidden_size)``.

        ``h=None`` means a zero initial state. Wrong shapes raise ``ValueError``
        (use the given ``check_step_input`` / ``check_state``).
        """
        batch = check_step_input(x, self.input_size, "RNNCell")
        raise NotImplementedError('t07 RNNCell.forward: not implemented yet - write it in course/t07_rnn_to_attention/recurrent.py')

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"


class LSTMCell(nn.Module):
    """Long short-term memory cell (Hochreiter & Schmidhuber), as ``torch.nn.LSTMCell``.

    Parameters (names and shapes as in ``torch.nn.LSTMCell``; all drawn from
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))):
        weight_ih: ``(4 * hidden_size, input_size)``
        weight_hh: ``(4 * hidden_size, hidden_size)``
        bias_ih:   ``(4 * hidden_size,)``
        bias_hh:   ``(4 * hidden_size,)``

    The ``4 * hidden_size`` rows are four blocks of ``hidden_size`` rows, in the
    order **input gate i, forget gate f, cell candidate g, output gate o**.
    """

    def __init__(self, input_size: int, hidden_size: int):
        """Create the four parameters and initialise them uniformly in +-1/sqrt(hidden_size)."""
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        raise NotImplementedError('t07 LSTMCell.__init__: not implemented yet - write it in course/t07_rnn_to_attention/recurrent.py')

    def forward(self, x: torch.Tensor,
                state: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One time step: ``x (batch, input_size)``, ``state = (h, c)`` -> ``(h', c')``.

        ``h``, ``c``, ``h'`` and ``c'`` are all ``(batch, hidden_size)``; ``state=None``
        means zeros for both. With ``[i, f, g, o]`` the four row blocks of
        ``x W_ih^T + b_ih + h W_hh^T + b_hh``::

            c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
            h' = sigmoid(o) * tanh(c')

        Wrong shapes raise ``ValueError`` (use the given helpers).
        """
        batch = check_step_input(x, self.input_size, "LSTMCell")
        raise NotImplementedError('t07 LSTMCell.forward: not implemented yet - write it in course/t07_rnn_to_attention/recurrent.py')

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


def run_rnn(cell: nn.Module, xs: torch.Tensor, h0=None):
    """Unroll ``cell`` over time: ``xs (batch, seq, input_size)`` -> ``(outputs, state)``.

    ``cell(x_t, state)`` is called once per time step ``t = 0 .. seq-1``, in
    order, each time with the state the previous call returned (``h0`` for the
    first step; ``None`` lets the cell start from zeros). Works with any cell of
    that form: ``RNNCell`` (state is a tensor ``h``), ``LSTMCell`` (state is a tuple
    ``(h, c)``) and PyTorch's ``nn.RNNCell`` / ``nn.LSTMCell``.

    Returns:
        outputs: ``(batch, seq, hidden_size)`` - the hidden state ``h`` after every
            step (for a tuple state, its first element ``h``);
        state: the state after the last step (a tensor, or the tuple ``(h, c)``).

    ``xs`` that is not 3-D, or has ``seq == 0``, raises ``ValueError``.
    """
    if not isinstance(xs, torch.Tensor) or xs.dim() != 3:
        shape = tuple(xs.shape) if isinstance(xs, torch.Tensor) else type(xs).__name__
        raise ValueError(f"run_rnn: xs must have shape (batch, seq, input_size), got {shape}")
    if xs.shape[1] == 0:
        raise ValueError(f"run_rnn: xs has no time steps (shape {tuple(xs.shape)})")
    raise NotImplementedError('t07 run_rnn: not implemented yet - write it in course/t07_rnn_to_attention/recurrent.py')


# ----------------------------------------------------------------------------- attention


class AdditiveAttention(nn.Module):
    """Bahdanau et al.'s additive attention of one query over a sequence of keys.

    Submodules (their parameters are ``query_proj.weight``, ``key_proj.weight``,
    ``score.weight``; none has a bias):
        query_proj: ``nn.Linear(query_dim, hidden_dim, bias=False)`` - W_q, weight ``(hidden_dim, query_dim)``
        key_proj:   ``nn.Linear(key_dim, hidden_dim, bias=False)``   - W_k, weight ``(hidden_dim, key_dim)``
        score:      ``nn.Linear(hidden_dim, 1, bias=False)``         - v^T, weight ``(1, hidden_dim)``

    The score of key ``k_j`` for query ``q`` is ``e_j = v^T tanh(W_q q + W_k k_j)``;
    the weights are the softmax of the scores over the sequence, and the context
    is ``sum_j weights_j k_j`` (the raw keys, not their projections).
    """

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int):
        """Create ``query_proj``, ``key_proj`` and ``score`` (default ``nn.Linear`` init)."""
        super().__init__()
        self.query_dim = query_dim
        self.key_dim = key_dim
        self.hidden_dim = hidden_dim
        raise NotImplementedError('t07 AdditiveAttention.__init__: not implemented yet - write it in course/t07_rnn_to_attention/recurrent.py')

    def forward(self, query: torch.Tensor, keys: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend: ``query (batch, query_dim)``, ``keys (batch, seq, key_dim)`` -> ``(context, weights)``.

        ``mask`` is ``None`` (attend everywhere) or a bool tensor ``(batch, seq)``
        where ``True`` means "masked out" (this course's convention everywhere;
        PyTorch's ``scaled_dot_product_attention`` uses the opposite). Masked
        positions get weight exactly 0.

        Returns:
            context: ``(batch, key_dim)``, ``sum_j weights[:, j] * keys[:, j]``;
            weights: ``(batch, seq)``, each row >= 0 and summing to 1.

        A mask row that is ``True`` everywhere raises ``ValueError`` naming the row
        (its softmax would be 0/0). Other bad shapes: the given
        ``check_attention_inputs`` raises.
        """
        check_attention_inputs(query, keys, mask, self.query_dim, self.key_dim)
        raise NotImplementedError('t07 AdditiveAttention.forward: not implemented yet - write it in course/t07_rnn_to_attention/recurrent.py')

    def extra_repr(self) -> str:
        return f"query_dim={self.query_dim}, key_dim={self.key_dim}, hidden_dim={self.hidden_dim}"

"""Alternative topic 07: same contract, different internals.

* parameters are created in another order (biases first, then weights) and drawn
  with ``Tensor.uniform_`` at creation time;
* ``RNNCell`` uses ``torch.nn.functional.linear`` and a table of activations;
* ``LSTMCell`` views its weights as ``(4, hidden, in)`` stacks and computes all
  four gates with ``torch.einsum``, then applies each gate's own nonlinearity;
* ``run_rnn`` iterates over ``xs.unbind(1)`` and concatenates unsqueezed states;
* ``AdditiveAttention`` registers ``score`` first, masks with ``torch.where``,
  checks empty rows in a Python loop and forms the context with ``torch.bmm``.

The given helpers (``check_step_input``, ``check_state``, ``check_attention_inputs``)
are part of the contract handed to the learner and are kept as given.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
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


# ----------------------------------------------------------------------------- own helpers


def _uniform_param(*shape: int, limit: float) -> nn.Parameter:
    """A new trainable parameter of ``shape`` drawn from U(-limit, limit)."""
    return nn.Parameter(torch.empty(*shape).uniform_(-limit, limit))


_ACTIVATIONS = {"relu": F.relu, "tanh": torch.tanh}


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

        An unknown ``nonlinearity`` raises ``ValueError`` naming it and the allowed ones.
        """
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.nonlinearity = nonlinearity
        act = _ACTIVATIONS.get(nonlinearity) if isinstance(nonlinearity, str) else None
        if act is None:
            allowed = " or ".join(repr(n) for n in NONLINEARITIES)
            raise ValueError(f"nonlinearity {nonlinearity!r} is not supported; expected {allowed}")
        self._act = act
        limit = hidden_size ** -0.5
        self.bias_hh = _uniform_param(hidden_size, limit=limit)
        self.bias_ih = _uniform_param(hidden_size, limit=limit)
        self.weight_hh = _uniform_param(hidden_size, hidden_size, limit=limit)
        self.weight_ih = _uniform_param(hidden_size, input_size, limit=limit)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """One time step: ``x (batch, input_size)``, ``h (batch, hidden_size)`` -> ``h' (batch, hidden_size)``.

        ``h=None`` means a zero initial state. Wrong shapes raise ``ValueError``
        (use the given ``check_step_input`` / ``check_state``).
        """
        batch = check_step_input(x, self.input_size, "RNNCell")
        from_input = F.linear(x, self.weight_ih, self.bias_ih)
        if h is None:
            # zero state: h W_hh^T vanishes, only its bias remains
            from_state = self.bias_hh.expand(batch, self.hidden_size)
        else:
            check_state(h, batch, self.hidden_size, "RNNCell hidden state h")
            from_state = F.linear(h, self.weight_hh, self.bias_hh)
        return self._act(from_input + from_state)

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
        limit = 1.0 / math.sqrt(hidden_size)
        rows = 4 * hidden_size
        self.bias_ih = _uniform_param(rows, limit=limit)
        self.weight_hh = _uniform_param(rows, hidden_size, limit=limit)
        self.bias_hh = _uniform_param(rows, limit=limit)
        self.weight_ih = _uniform_param(rows, input_size, limit=limit)

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
        H = self.hidden_size
        if state is None:
            hidden = torch.zeros(batch, H, dtype=x.dtype, device=x.device)
            cell = torch.zeros_like(hidden)
        else:
            hidden, cell = state
            check_state(hidden, batch, H, "LSTMCell state h")
            check_state(cell, batch, H, "LSTMCell state c")
        # (4, H, in) stacks: gate k's weights are rows k*H .. (k+1)*H of the flat matrix
        w_in = self.weight_ih.view(4, H, self.input_size)
        w_rec = self.weight_hh.view(4, H, H)
        bias = (self.bias_ih + self.bias_hh).view(4, 1, H)
        pre = (torch.einsum("bn,khn->kbh", x, w_in)
               + torch.einsum("bm,khm->kbh", hidden, w_rec)
               + bias)  # (4, batch, H)
        in_gate = torch.sigmoid(pre[0])
        forget_gate = torch.sigmoid(pre[1])
        candidate = torch.tanh(pre[2])
        out_gate = torch.sigmoid(pre[3])
        new_cell = torch.addcmul(forget_gate * cell, in_gate, candidate)
        new_hidden = out_gate * new_cell.tanh()
        return new_hidden, new_cell

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
    carried = h0
    per_step = []
    for x_t in xs.unbind(dim=1):
        carried = cell(x_t, carried)
        h_t = carried if isinstance(carried, torch.Tensor) else carried[0]
        per_step.append(h_t.unsqueeze(1))
    return torch.cat(per_step, dim=1), carried


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
        self.score = nn.Linear(hidden_dim, 1, bias=False)
        self.key_proj = nn.Linear(key_dim, hidden_dim, bias=False)
        self.query_proj = nn.Linear(query_dim, hidden_dim, bias=False)

    def forward(self, query: torch.Tensor, keys: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend: ``query (batch, query_dim)``, ``keys (batch, seq, key_dim)`` -> ``(context, weights)``.

        ``mask`` is ``None`` (attend everywhere) or a bool tensor ``(batch, seq)``
        where ``True`` means "masked out". Masked positions get weight exactly 0.

        Returns:
            context: ``(batch, key_dim)``, ``sum_j weights[:, j] * keys[:, j]``;
            weights: ``(batch, seq)``, each row >= 0 and summing to 1.

        A mask row that is ``True`` everywhere raises ``ValueError`` naming the row
        (its softmax would be 0/0). Other bad shapes: the given
        ``check_attention_inputs`` raises.
        """
        n_rows, _ = check_attention_inputs(query, keys, mask, self.query_dim, self.key_dim)
        if mask is not None:
            allowed_per_row = (~mask).sum(dim=1).tolist()
            for row in range(n_rows):
                if allowed_per_row[row] == 0:
                    raise ValueError(f"batch row {row} of the mask is all True: "
                                     "no key may be attended to")
        projected_keys = self.key_proj(keys)                     # (batch, seq, hidden)
        projected_query = self.query_proj(query)[:, None, :]     # (batch, 1, hidden)
        energy = torch.tanh(projected_keys + projected_query)    # (batch, seq, hidden)
        v = self.score.weight[0]                                  # (hidden,)
        logits = torch.einsum("bsh,h->bs", energy, v)            # (batch, seq)
        if mask is not None:
            logits = torch.where(mask, torch.full_like(logits, -math.inf), logits)
        attn = logits.softmax(dim=1)
        context = torch.bmm(attn.unsqueeze(1), keys).squeeze(1)  # (batch, key_dim)
        return context, attn

    def extra_repr(self) -> str:
        return f"query_dim={self.query_dim}, key_dim={self.key_dim}, hidden_dim={self.hidden_dim}"

"""Topic 15 - GELU and the feed-forward network.

Between two attention layers, every token's vector goes on its own through a
small two-layer network: widen to ``4 * d_model`` features, apply a smooth
nonlinearity, project back to ``d_model``. Attention mixes information *between*
positions; the feed-forward network transforms it *within* each position, and
holds about two thirds of GPT-2's block parameters.

The nonlinearity is GELU, the Gaussian error linear unit: ``x`` weighted by the
probability that a standard normal variable is below ``x``::

    gelu(x) = x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))            (exact)
            ~ 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))     (tanh approximation)

GPT-2 was trained with the tanh approximation, so loading its weights needs
that one; the two differ by less than 1e-3 everywhere. Unlike ReLU, GELU is
smooth at 0 and lets small negative values through (its minimum is about -0.17
near x = -0.75), so gradients do not die on one side.
"""

from __future__ import annotations

import math

import torch
from torch import nn

APPROXIMATIONS = ("tanh", "none")


def gelu(x: torch.Tensor, approximate: str = "tanh") -> torch.Tensor:
    """GELU of every element of ``x``; same shape and dtype.

    ``x`` may have any shape (a 0-D scalar and an empty tensor too).
    ``approximate="tanh"`` (GPT-2's choice, the default): ``0.5 x (1 + tanh(sqrt(2/pi)
    (x + 0.044715 x^3)))``; ``approximate="none"``: the exact ``0.5 x (1 + erf(x /
    sqrt(2)))``. Any other value -> ``ValueError`` naming it and the two choices.
    Equals ``torch.nn.functional.gelu(x, approximate=...)`` - write it from
    ``torch.tanh`` / ``torch.erf`` without calling ``F.gelu`` (or ``nn.GELU``).
    """
    ### BEGIN SOLUTION
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)
        return 0.5 * x * (1.0 + torch.tanh(inner))
    if approximate == "none":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    raise ValueError(f"gelu: approximate={approximate!r} is not one of {APPROXIMATIONS}")
    ### END SOLUTION


class GELU(nn.Module):
    """:func:`gelu` as a module (no parameters); ``approximate`` is checked at construction."""

    def __init__(self, approximate: str = "tanh"):
        super().__init__()
        if approximate not in APPROXIMATIONS:
            raise ValueError(f"GELU: approximate={approximate!r} is not one of {APPROXIMATIONS}")
        self.approximate = approximate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gelu(x, self.approximate)


class FeedForward(nn.Module):
    """Position-wise feed-forward network: ``d_model -> hidden -> d_model`` with GELU between.

    Submodules (names are part of the contract; topic 26 loads GPT-2's ``mlp.c_fc`` /
    ``mlp.c_proj`` into them):
        fc:   ``nn.Linear(d_model, hidden)`` with bias, ``hidden = 4 * d_model`` by default;
        act:  :class:`GELU` with ``approximate``;
        proj: ``nn.Linear(hidden, d_model)`` with bias.
    No dropout here: the transformer block (topic 17) applies it to the branch's output.
    An unknown ``approximate`` -> ``ValueError`` (``GELU`` raises it).
    """

    def __init__(self, d_model: int, hidden: int | None = None, approximate: str = "tanh"):
        """Create ``fc``, ``act`` and ``proj``; ``hidden=None`` means ``4 * d_model``."""
        super().__init__()
        ### BEGIN SOLUTION
        hidden = 4 * d_model if hidden is None else hidden
        self.fc = nn.Linear(d_model, hidden)
        self.act = GELU(approximate)
        self.proj = nn.Linear(hidden, d_model)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., d_model)`` -> ``(..., d_model)``: ``proj(act(fc(x)))``, each position on its own.

        ``(batch, seq, d_model)``, ``(n, d_model)`` and a single ``(d_model,)`` vector all work.
        """
        ### BEGIN SOLUTION
        return self.proj(self.act(self.fc(x)))
        ### END SOLUTION

"""Alternative topic 15: same contract, different internals.

* the tanh form uses ``torch.pow(x, 3)`` and folds the 1/2 into the bracket;
* the exact form uses ``erfc(-x / sqrt 2)``, which equals ``1 + erf(x / sqrt 2)``;
* ``proj`` is created before ``fc``, and ``forward`` writes the two products itself.
"""

from __future__ import annotations

import math

import torch
from torch import nn

APPROXIMATIONS = ("tanh", "none")
_C = math.sqrt(2.0 / math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def gelu(x, approximate="tanh"):
    if approximate == "none":
        return x * (0.5 * torch.erfc(-x * _INV_SQRT2))
    if approximate != "tanh":
        raise ValueError(f"unknown approximate {approximate!r}: use 'tanh' or 'none'")
    cube = torch.pow(x, 3)
    return x * (0.5 + 0.5 * torch.tanh(_C * x + (_C * 0.044715) * cube))


class GELU(nn.Module):
    def __init__(self, approximate: str = "tanh"):
        super().__init__()
        if approximate not in APPROXIMATIONS:
            raise ValueError(f"GELU: approximate={approximate!r} is not one of {APPROXIMATIONS}")
        self.approximate = approximate

    def forward(self, x):
        return gelu(x, self.approximate)


class FeedForward(nn.Module):
    def __init__(self, d_model, hidden=None, approximate="tanh"):
        super().__init__()
        width = hidden or 4 * d_model
        self.proj = nn.Linear(width, d_model)
        self.act = GELU(approximate)
        self.fc = nn.Linear(d_model, width)

    def forward(self, x):
        h = torch.matmul(x, self.fc.weight.t()) + self.fc.bias
        return torch.matmul(self.act(h), self.proj.weight.t()) + self.proj.bias

"""Topic 16 - shortcut (residual) connections.

Backpropagation multiplies one factor per layer on its way from the loss to the
first layer's weights. When those factors are mostly below 1 - as they are for a
stack of small layers with a saturating nonlinearity - the gradient shrinks
geometrically: the first layers barely learn. This is the *vanishing gradient*
problem, and it is why a 12-, 24- or 48-block GPT-2 would not train without help.

A shortcut adds a layer's input to its output: ``x <- x + f(x)`` instead of
``x <- f(x)``. The derivative of ``x + f(x)`` with respect to ``x`` is
``I + f'(x)``: whatever ``f'`` does, the identity term carries the gradient
through unchanged, so every layer receives a signal of the same order as the
last one. Every GPT-2 block uses two of them (topic 17).

Here you build a small deep network of ``nn.Linear`` layers with GELU, with and
without shortcuts, and measure the mean absolute gradient of each layer's weight.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from course.t15_gelu_feedforward import GELU  # your topic 15 (the reference when grading falls back)


class DeepNet(nn.Module):
    """A stack of ``len(sizes) - 1`` fully connected layers, each followed by GELU.

    Submodules (names are part of the contract):
        layers: ``nn.ModuleList`` of ``nn.Linear(sizes[i], sizes[i + 1])`` (with bias);
        act:    topic 15's ``GELU()`` (tanh approximation).
    Attribute ``use_shortcut`` (set for you). ``sizes`` is a list or a tuple of widths.
    At least one layer: ``len(sizes) < 2`` -> ``ValueError``.
    """

    def __init__(self, sizes: Sequence[int], use_shortcut: bool):
        """Create ``layers`` and ``act``; remember ``use_shortcut``."""
        super().__init__()
        self.use_shortcut = use_shortcut
        ### BEGIN SOLUTION
        if len(sizes) < 2:
            raise ValueError(f"DeepNet needs at least two sizes (one layer), got {list(sizes)}")
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.act = GELU()
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., sizes[0])`` -> ``(..., sizes[-1])``.

        Layer by layer, the last one included: ``out = act(layer(x))``; with
        ``use_shortcut``, and only where ``out`` has the same shape as ``x``, the
        layer's result is ``x + out``, otherwise it is ``out``. Compare the shapes
        yourself: broadcasting lets ``(n, 5) + (n, 1)`` through without an error.
        """
        ### BEGIN SOLUTION
        for layer in self.layers:
            out = self.act(layer(x))
            # a shortcut needs matching shapes; a layer that changes the width has none
            x = x + out if self.use_shortcut and out.shape == x.shape else out
        return x
        ### END SOLUTION


def gradient_report(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Mean absolute gradient of every weight matrix after one backward pass.

    Clears old gradients (``backward`` adds to ``.grad``), computes the mean
    squared error between ``model(x)`` and ``target`` (``F.mse_loss``, averaged
    over all elements), backpropagates once, and returns
    ``{name: grad.abs().mean()}`` as Python floats for every parameter whose name
    ends in ``"weight"``, in ``named_parameters()`` order (biases are left out).
    The model is left with the gradients of this loss, biases included.
    """
    ### BEGIN SOLUTION
    model.zero_grad(set_to_none=True)
    loss = nn.functional.mse_loss(model(x), target)
    loss.backward()
    return {name: p.grad.abs().mean().item() for name, p in model.named_parameters()
            if name.endswith("weight") and p.grad is not None}
    ### END SOLUTION


def compare_shortcuts(sizes: Sequence[int], x: torch.Tensor, target: torch.Tensor,
                      seed: int = 0) -> dict[str, dict[str, float]]:
    """Gradient reports of the same network (same initial weights) without and with shortcuts."""
    reports = {}
    for name, shortcut in (("plain", False), ("shortcut", True)):
        torch.manual_seed(seed)
        reports[name] = gradient_report(DeepNet(sizes, shortcut), x, target)
    return reports

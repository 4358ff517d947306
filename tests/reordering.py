"""Correct implementations that round differently: the reference, with its sums reordered.

A learner who writes ``einsum`` where the reference wrote ``@``, or a loop, or
accumulates in float64, computes the same maths with other float32 rounding.
:func:`reordered` runs any code with every matrix product, ``F.linear`` and
``sum`` of float32 tensors rerouted through one such order, so the kit can check,
for every topic at once, that the hidden checks do not depend on the
reference's summation order (``tests/test_tolerances.py``,
``benchmarks/tolerance_margin.py``).

Orders:

* ``float64``   accumulate in float64, round once (closest to the exact answer)
* ``reversed``  the contraction axis reversed, so a different blocked order
* ``loop``      one term at a time, left to right, in float32 (naive summation)
* ``loop_back`` the same, right to left
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

ORDERS = ("float64", "reversed", "loop", "loop_back")

_MATMULS = {torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.mm, torch.Tensor.mm,
            torch.bmm, torch.Tensor.bmm}
_SUMS = {torch.sum, torch.Tensor.sum}


def _terms_matmul(a: torch.Tensor, b: torch.Tensor, order: str) -> torch.Tensor:
    """``a @ b`` (matmul broadcasting rules) summed over the contraction axis in ``order``."""
    if order == "float64":
        return (a.double() @ b.double()).to(a.dtype)
    if order == "reversed":
        return a.flip(-1) @ (b.flip(-2) if b.dim() > 1 else b.flip(-1))
    left = a.unsqueeze(0) if a.dim() == 1 else a          # (..., n, k)
    right = b.unsqueeze(-1) if b.dim() == 1 else b        # (..., k, m)
    steps = range(left.shape[-1]) if order == "loop" else reversed(range(left.shape[-1]))
    total = None
    for k in steps:
        term = left[..., :, k:k + 1] * right[..., k:k + 1, :]
        total = term if total is None else total + term
    if total is None:  # an empty contraction
        total = left[..., :, :0] @ right[..., :0, :]
    if a.dim() == 1:
        total = total.squeeze(-2)
    if b.dim() == 1:
        total = total.squeeze(-1)
    return total


def _terms_sum(x: torch.Tensor, dim: Any, keepdim: bool, order: str) -> torch.Tensor:
    if order == "float64":
        return x.double().sum(dim=dim, keepdim=keepdim).to(x.dtype)
    dims = [dim] if isinstance(dim, int) else list(dim)
    if len(dims) != 1:
        return x.sum(dim=dim, keepdim=keepdim)
    d = dims[0] % x.dim()
    if order == "reversed":
        return x.flip(d).sum(dim=d, keepdim=keepdim)
    steps = range(x.shape[d]) if order == "loop" else reversed(range(x.shape[d]))
    total = None
    for k in steps:
        term = x.narrow(d, k, 1)
        total = term if total is None else total + term
    if total is None:
        return x.sum(dim=d, keepdim=keepdim)
    return total if keepdim else total.squeeze(d)


class _Reorder(TorchFunctionMode):
    def __init__(self, order: str):
        super().__init__()
        self.order = order

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        floats = [a for a in args if isinstance(a, torch.Tensor)]
        if not floats or not all(t.dtype == torch.float32 for t in floats):
            return func(*args, **kwargs)
        if func in _MATMULS and len(args) == 2 and not kwargs:
            return _terms_matmul(args[0], args[1], self.order)
        if func is F.linear or func is torch._C._nn.linear:
            x, weight = args[0], args[1]
            bias = args[2] if len(args) > 2 else kwargs.get("bias")
            out = _terms_matmul(x, weight.T, self.order)
            return out if bias is None else out + bias
        if func in _SUMS and len(args) == 1 and "dim" in kwargs and kwargs.get("dtype") is None:
            return _terms_sum(args[0], kwargs["dim"], kwargs.get("keepdim", False), self.order)
        if func in _SUMS and len(args) >= 2 and isinstance(args[1], (int, tuple, list)):
            keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
            return _terms_sum(args[0], args[1], keepdim, self.order)
        return func(*args, **kwargs)


@contextmanager
def reordered(order: str) -> Iterator[None]:
    """Inside the block, float32 matrix products, ``F.linear`` and sums accumulate in ``order``."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; one of {ORDERS}")
    with _Reorder(order):
        yield

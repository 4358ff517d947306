"""Tools a probe uses: seeded inputs, weights loaded by name, caught exceptions.

A probe must give the reference and the learner *exactly the same inputs*, so
every random draw goes through an :class:`Rng` built from the run's seed, never
through the global generators (which the learner's code may consume).
"""

from __future__ import annotations

import random
from typing import Any, Callable, Sequence

import torch
from torch import nn

from llmkit.values import Mismatch


class ContractError(Mismatch):
    """The learner's module does not follow the topic's documented contract."""


class Rng:
    """Seeded source of probe inputs: Python values and CPU tensors."""

    def __init__(self, seed: int):
        self.seed = seed
        self.py = random.Random(seed)
        self.gen = torch.Generator().manual_seed(seed)

    # Python values
    def integer(self, low: int, high: int) -> int:
        """Uniform integer in ``[low, high]`` (both ends included)."""
        return self.py.randint(low, high)

    def choice(self, items: Sequence[Any]) -> Any:
        return items[self.py.randrange(len(items))]

    def sample(self, items: Sequence[Any], k: int) -> list[Any]:
        return self.py.sample(list(items), k)

    def coin(self, p: float = 0.5) -> bool:
        return self.py.random() < p

    # tensors
    def randn(self, *shape: int, scale: float = 1.0) -> torch.Tensor:
        return torch.randn(shape, generator=self.gen) * scale

    def rand(self, *shape: int) -> torch.Tensor:
        return torch.rand(shape, generator=self.gen)

    def randint(self, low: int, high: int, shape: tuple[int, ...]) -> torch.Tensor:
        """Integers in ``[low, high)`` (``torch.randint`` convention), dtype long."""
        return torch.randint(low, high, shape, generator=self.gen)

    def params(self, shapes: dict[str, tuple[int, ...]], scale: float = 0.5) -> dict[str, torch.Tensor]:
        """Random values for a module's parameters, by documented name."""
        return {name: self.randn(*shape, scale=scale) for name, shape in shapes.items()}


def load_params(module: Any, params: dict[str, torch.Tensor], what: str) -> nn.Module:
    """Copy ``params`` into ``module`` by parameter name, checking names and shapes.

    This is why random-initialisation order never decides a pass: every check
    overwrites all of a module's parameters with the same given values.
    """
    if not isinstance(module, nn.Module):
        raise ContractError(f"{what}: expected a torch.nn.Module, got {type(module).__name__}")
    have = dict(module.named_parameters())
    if set(have) != set(params):
        missing = sorted(set(params) - set(have))
        extra = sorted(set(have) - set(params))
        parts = []
        if missing:
            parts.append(f"missing parameter(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected parameter(s) {', '.join(extra)}")
        raise ContractError(
            f"{what}: {'; '.join(parts)} - parameters must be named {', '.join(sorted(params))}")
    with torch.no_grad():
        for name, value in params.items():
            if tuple(have[name].shape) != tuple(value.shape):
                raise ContractError(f"{what}: parameter {name!r} has shape {tuple(have[name].shape)}, "
                                    f"expected {tuple(value.shape)}")
            have[name].copy_(value)
    return module


def raises(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str | None:
    """Name of the exception ``fn(*args)`` raises, or ``None``.

    ``NotImplementedError`` is let through: an unwritten hole is "not done",
    never an expected error.
    """
    try:
        fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as exc:  # the type is the output
        return type(exc).__name__
    return None


def trainable_names(module: nn.Module) -> list[str]:
    return sorted(name for name, p in module.named_parameters() if p.requires_grad)


def contract_buffers(module: nn.Module, documented: Sequence[str] = ()) -> dict[str, torch.Tensor]:
    """The buffers a check holds a module to: those documented by name, and every saved one.

    ``documented`` lists leaf names (``"pe"``, ``"mask"``). A learner may keep a
    private helper in a *non-persistent* buffer (a cached ``arange`` of positions,
    say): it never reaches the ``state_dict``, so weight loading cannot see it, and
    checks ignore it. A persistent extra buffer would break loading by name, so
    it is reported.
    """
    saved = set(module.state_dict())
    return {name: b for name, b in module.named_buffers()
            if name in saved or name.rsplit(".", 1)[-1] in documented}

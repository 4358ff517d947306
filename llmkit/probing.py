"""Tools a probe uses: seeded inputs, weights loaded by name, caught exceptions.

A probe must give the reference and the learner *exactly the same inputs*, so
every random draw goes through an :class:`Rng` built from the run's seed, never
through the global generators (which the learner's code may consume).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from llmkit.values import PERTURBATION, Mismatch

_nudge = 0  # set by exact_arithmetic(): 0 = draw inputs as they are


@contextmanager
def exact_arithmetic(nudge: int = 0) -> Iterator[None]:
    """Run probes in float64 on the very inputs a float32 run gets (see ``llmkit.values``).

    Inside the block float tensors default to float64, so modules the probe builds
    have float64 parameters and the reference computes the exact answer. An
    :class:`Rng` still draws every float tensor in float32, as in a normal run, and
    converts it exactly. With ``nudge`` k > 0 each drawn float is also multiplied by
    ``1 + d``, ``|d| <= PERTURBATION``, from a generator of its own (seeded by the
    run's seed and k), so the probe's other draws are unchanged. Not thread-safe:
    the default dtype is global (the grader computes reference values under a lock).
    """
    global _nudge
    previous_dtype, previous_nudge = torch.get_default_dtype(), _nudge
    torch.set_default_dtype(torch.float64)
    _nudge = nudge
    try:
        yield
    finally:
        torch.set_default_dtype(previous_dtype)
        _nudge = previous_nudge


class ContractError(Mismatch):
    """The learner's module does not follow the topic's documented contract."""


class Rng:
    """Seeded source of probe inputs: Python values and CPU tensors."""

    def __init__(self, seed: int):
        self.seed = seed
        self.py = random.Random(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self._nudges = torch.Generator().manual_seed(seed + 1_000_003 * _nudge) if _nudge else None

    def _as_drawn(self, x: torch.Tensor, *, below_one: bool = False) -> torch.Tensor:
        """A float32 draw in the current default dtype, nudged in a perturbed exact run."""
        x = x.to(torch.get_default_dtype())
        if self._nudges is None:
            return x
        u = torch.rand(x.shape, generator=self._nudges, dtype=torch.float64)
        # rand() values stay in [0, 1): nudge them down only
        factor = 1 - PERTURBATION * u if below_one else 1 + PERTURBATION * (2 * u - 1)
        return x * factor

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

    def seed_except(self, default: int) -> int:
        """A seed in ``[0, 10_000]`` that is never ``default``: code that ignores its ``seed`` must show."""
        seed = self.integer(0, 10_000)
        return seed if seed != default else default + 1

    # tensors
    def input(self, x: torch.Tensor) -> torch.Tensor:
        """A float tensor the probe computed (``centre + noise``, say), as a float32 run hands it over.

        In an exact run the probe's own arithmetic happens in float64; rounding the
        result to float32 gives the exact answer the learner's very input. Pass every
        derived float input through here (drawn ones already are).
        """
        return x.float().to(torch.get_default_dtype())

    def randn(self, *shape: int, scale: float = 1.0) -> torch.Tensor:
        return self._as_drawn(torch.randn(shape, generator=self.gen, dtype=torch.float32) * scale)

    def rand(self, *shape: int) -> torch.Tensor:
        return self._as_drawn(torch.rand(shape, generator=self.gen, dtype=torch.float32), below_one=True)

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


def error_case(case: str, fn: Callable[..., Any], *args: Any, names: Sequence[Any] = (),
               accept: Sequence[str] = (), **kwargs: Any) -> dict[str, Any]:
    """What ``fn(*args, **kwargs)`` raised, as a plain *error report* labelled ``case``.

    The comparison (:func:`llmkit.values.same`) holds every error report to one rule:

    * the learner's exception is an instance of the expected type - the type the
      reference raised, or, where the README documents alternatives, one of
      ``accept`` (``accept=("KeyError", "ValueError")``); a subclass passes;
    * its message names each of ``names`` as a number or word of its own
      (the numbers a learner needs to fix the call: the bad id, the limit, ...);
    * where the reference raised nothing, the learner must raise nothing.

    ``NotImplementedError`` is let through: an unwritten hole is "not done",
    never an expected error.
    """
    try:
        fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as exc:  # the type and the message are the output
        kind: type | None = type(exc)
        message = str(exc)
    else:
        kind, message = None, ""
    lineage = [] if kind is None else [k.__name__ for k in kind.__mro__ if issubclass(k, BaseException)]
    return {"__error__": None if kind is None else kind.__name__, "is_a": lineage,
            "message": " ".join(message.split())[:300], "case": case,
            "names": [str(n) for n in names], "accept": list(accept)}


def raises(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """:func:`error_case` labelled with the function's name (no numbers to name)."""
    return error_case(f"{getattr(fn, '__qualname__', type(fn).__name__)}(...)", fn, *args, **kwargs)


class CallWatch(TorchFunctionMode):
    """Notes every call, inside the block, of a library function a README rules out.

    ``CallWatch({F.gelu: "F.gelu (or nn.GELU)"})``: after ``with CallWatch(...) as watch:``,
    ``watch.seen`` lists the labels of the watched functions called, however the learner
    imported them (a module such as ``nn.GELU`` is caught through the function it calls).
    """

    def __init__(self, watched: dict[Callable[..., Any], str]):
        super().__init__()
        self.watched = watched
        self.seen: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.watched:
            self.seen.append(self.watched[func])
        return func(*args, **(kwargs or {}))


@contextmanager
def seeded(rng: Rng) -> Iterator[None]:
    """Inside the block, torch's global generator (random inits, dropout masks) is seeded from
    ``rng``; it is restored afterwards. The reference and the learner draw the same seed."""
    seed = rng.integer(0, 2**31 - 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


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

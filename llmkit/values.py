"""Plain values: what a probe may return, how it is stored, how two are compared.

A probe returns only *plain* values - ``None``, bools, numbers, strings, bytes,
tensors, and lists / dicts of those - never a learner's object. That keeps the
comparison independent of the learner's classes, lets reference outputs be
stored as JSON snapshots, and lets a worker process hand its results back in a
safe format.

:func:`same` is the default comparison. With ``reveal=False`` (hidden checks) its
messages describe *how* the learner's value differs - shape, length, first
mismatching position, largest error - without printing the expected value.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch


class Mismatch(AssertionError):
    """A probe's output, or the learner's module, is not what the check expects."""


# ----------------------------------------------------------------------------- plain values


def to_plain(value: Any, path: str = "result") -> Any:
    """Copy ``value`` into plain data, or raise :class:`Mismatch` naming what is not plain."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu").clone().contiguous()
    if type(value).__module__ == "numpy":  # numpy scalars and arrays
        return value.item() if getattr(value, "ndim", 0) == 0 else torch.from_numpy(value.copy())
    if isinstance(value, (list, tuple)):
        return [to_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise Mismatch(f"{path}: dictionary keys must be strings, got {type(key).__name__}")
        return {k: to_plain(v, f"{path}[{k!r}]") for k, v in value.items()}
    raise Mismatch(f"{path}: returned a {type(value).__name__}, where plain values were expected")


def encode(value: Any) -> Any:
    """Plain value -> JSON-able data (tensors, bytes and :class:`Near` become tagged dicts)."""
    if isinstance(value, Near):
        # the spread is a tolerance, three significant digits are plenty (and keep snapshots small)
        spread = torch.tensor([float(f"{s:.3g}") for s in value.spread.flatten().tolist()],
                              dtype=torch.float64).reshape(value.spread.shape)
        return {"__near__": value.number, "truth": encode(value.truth), "spread": encode(spread)}
    if isinstance(value, torch.Tensor):
        data = value.float() if value.dtype in (torch.float16, torch.bfloat16) else value
        return {"__tensor__": str(data.dtype).removeprefix("torch."),
                "shape": list(data.shape), "data": data.flatten().tolist()}
    if isinstance(value, bytes):
        return {"__bytes__": value.hex()}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


_DTYPES = {"float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool", "complex64", "complex128"}


def decode(data: Any, *, trusted: bool = False) -> Any:
    """Inverse of :func:`encode`.

    Only ``trusted`` data (the kit's own snapshots) may hold expected values
    (:class:`Near`); a worker's results never do.
    """
    if isinstance(data, dict):
        if "__near__" in data:
            if not trusted:
                raise ValueError("an expected value (__near__) in untrusted data")
            return Near(decode(data["truth"]), decode(data["spread"]), bool(data["__near__"]))
        if "__tensor__" in data:
            if data["__tensor__"] not in _DTYPES:  # data may come from an untrusted worker
                raise ValueError(f"unsupported tensor dtype {data['__tensor__']!r}")
            dtype = getattr(torch, data["__tensor__"])
            return torch.tensor(data["data"], dtype=dtype).reshape(data["shape"])
        if "__bytes__" in data:
            return bytes.fromhex(data["__bytes__"])
        return {k: decode(v, trusted=trusted) for k, v in data.items()}
    if isinstance(data, list):
        return [decode(v, trusted=trusted) for v in data]
    return data


# ----------------------------------------------------------------------------- exact answers

# How hidden checks judge a float32 result against the truth, not against the reference's rounding.
# The reference probe runs three more times in float64 on the learner's very inputs: once as is
# (the exact answer), twice with every float input nudged by a random relative amount up to
# PERTURBATION (llmkit.probing.Rng). How far the answer moves is its *spread*: large where the
# maths is ill-conditioned (a saturated softmax, long sums of large terms), tiny elsewhere.
# Rounding in any correct float32 summation order acts like an input nudge of a few units in the
# last place (2**-24 each), far below PERTURBATION = 2**-17 (128 of them), so a correct result lies
# well inside SPREAD_FACTOR spreads; tests/test_tolerances.py measures the margin on reordered
# implementations of every topic. A real bug moves values by O(1) relative and still fails.
PERTURBATION = 2.0 ** -17
SPREAD_FACTOR = 4.0


@dataclass
class Near:
    """An expected float value: its exact answer and its spread (see above).

    ``truth`` is float64; ``spread`` has the same shape and is >= 0 (0 where the
    answer is not finite: such an element must be matched exactly). ``number``:
    the probe returned a Python float, not a tensor.
    """

    truth: torch.Tensor
    spread: torch.Tensor
    number: bool = False

    @property
    def shape(self) -> torch.Size:
        return self.truth.shape

    def __getitem__(self, index: Any) -> Near:
        return Near(self.truth[index], self.spread[index])


def exact(value: Any) -> Any:
    """``value`` with every :class:`Near` inside replaced by its exact answer (a float or float64 tensor)."""
    if isinstance(value, Near):
        return value.truth.item() if value.number else value.truth
    if isinstance(value, list):
        return [exact(v) for v in value]
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    return value


def has_floats(value: Any) -> bool:
    """Does a value hold a float (a Python float, a floating tensor, a :class:`Near`) anywhere?"""
    if isinstance(value, Near):
        return True
    if isinstance(value, torch.Tensor):
        return value.is_floating_point()
    if isinstance(value, list):
        return any(has_floats(v) for v in value)
    if isinstance(value, dict):
        return any(has_floats(v) for v in value.values())
    return isinstance(value, float)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def with_truth(value: Any, truth: Any, perturbed: list[Any]) -> Any:
    """The reference's float32 output ``value`` with every float in it replaced by a :class:`Near`.

    ``truth`` and ``perturbed`` are the same probe's outputs in the float64 runs.
    Where their structure differs from ``value`` (a length that depends on the
    values, say), ``value`` is kept as it is.
    """
    runs = [truth, *perturbed]
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and all(
                isinstance(r, torch.Tensor) and r.is_floating_point() and r.shape == value.shape for r in runs):
            return _near(value, truth, perturbed, number=False)
        return value
    if isinstance(value, float):
        if all(_is_number(r) for r in runs):
            as_tensor = [torch.tensor(float(r), dtype=torch.float64) for r in runs]
            return _near(torch.tensor(value, dtype=torch.float64), as_tensor[0], as_tensor[1:], number=True)
        return value
    if isinstance(value, list):
        if all(isinstance(r, list) and len(r) == len(value) for r in runs):
            return [with_truth(v, t, [p[i] for p in perturbed]) for i, (v, t) in enumerate(zip(value, truth))]
        return value
    if isinstance(value, dict):
        if all(isinstance(r, dict) and set(r) == set(value) for r in runs):
            return {k: with_truth(v, truth[k], [p[k] for p in perturbed]) for k, v in value.items()}
        return value
    return value


def _near(value: torch.Tensor, truth: torch.Tensor, perturbed: list[torch.Tensor], number: bool) -> Near:
    reference, answer = value.double(), truth.double()
    spread = torch.zeros_like(answer)
    for p in perturbed:
        spread = torch.maximum(spread, (p.double() - answer).abs())
    # where the float32 reference is inf or NaN (a masked score, a documented NaN), or the exact run
    # is not finite, the float32 reference itself is the answer and must be met exactly
    finite = torch.isfinite(reference) & torch.isfinite(answer)
    answer = torch.where(finite, answer, reference)
    spread = torch.where(finite & torch.isfinite(spread), spread, torch.zeros_like(spread))
    return Near(answer, spread, number)


# ----------------------------------------------------------------------------- comparison


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(t: torch.Tensor) -> str:
    if t.dtype == torch.bool:
        return "bool"
    return "floating" if t.is_floating_point() or t.is_complex() else "integer"


def _compare_tensors(got, expected, path, reveal, rtol, atol) -> None:
    """``expected`` is a tensor, or a :class:`Near` (a float tensor's exact answer and its spread)."""
    if tuple(got.shape) != tuple(expected.shape):
        raise Mismatch(f"{path}: shape {tuple(got.shape)}, expected {tuple(expected.shape)}")
    want = "floating" if isinstance(expected, Near) else _kind(expected)
    if _kind(got) != want:
        raise Mismatch(f"{path}: dtype {got.dtype} ({_kind(got)}), expected a {want} tensor")
    if got.numel() == 0:
        return
    if want == "floating":
        truth, spread = _truth_and_spread(expected)
        g = got.double()
        allowed = atol + rtol * truth.abs() + SPREAD_FACTOR * spread
        finite = torch.isfinite(truth)
        # a non-finite answer (inf from a mask, NaN documented for an all-masked row) must be matched exactly
        ok = torch.where(finite, (g - truth).abs() <= allowed, (g == truth) | (g.isnan() & truth.isnan()))
        error = (g - truth).abs().nan_to_num(nan=math.inf)
        detail = f"; max abs error {error.max().item():.3g}"
    else:
        ok = got == expected
        detail = ""
    if bool(ok.all()):
        return
    bad = int((~ok).sum())
    first = tuple(int(i) for i in torch.nonzero(~ok)[0])
    at = f"first at index {first}: got {got[first].item():.6g}"
    if reveal:
        at += f", expected {(truth if want == 'floating' else expected)[first].item():.6g}"
    if want == "floating":
        at += f", allowed error there {allowed[first].item():.3g}"
    raise Mismatch(f"{path}: {bad} of {got.numel()} values differ ({at}{detail})")


def _truth_and_spread(expected) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(expected, Near):
        return expected.truth.double(), expected.spread.double()
    truth = expected.double()
    return truth, torch.zeros_like(truth)


# The base tolerance every float comparison allows on top of the spread: 1e-4 relative is ~800
# float32 units in the last place (ulps) - far above the rounding of any correct float32 code on
# well-conditioned inputs (ill-conditioned ones get their spread) - while the hidden checks choose
# inputs on which each planted bug moves some value by far more (tests/mutants); 1e-5 absolute
# covers values that should be 0 (terms cancelling), where "relative" means nothing.
RTOL, ATOL = 1e-4, 1e-5


def _as_float(got: int | float, path: str) -> float:
    """``got`` as a float; an int beyond float range (``10**400``) is a wrong answer, not a crash."""
    try:
        return float(got)
    except OverflowError:
        raise Mismatch(f"{path}: got an integer too large for a float ({int(got).bit_length()} bits)") from None


def same(got: Any, expected: Any, *, reveal: bool = True, path: str = "result",
         rtol: float = RTOL, atol: float = ATOL) -> None:
    """Raise :class:`Mismatch` unless ``got`` equals ``expected``.

    Floats match within ``atol + rtol * |answer|``, plus, where ``expected`` holds
    a :class:`Near`, a multiple of its spread: the error any correct float32
    computation may make.
    """
    if isinstance(expected, Near) and expected.number:
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise Mismatch(f"{path}: got a {type(got).__name__}, expected a number")
        # float64, as the answer is: float32 would turn a number beyond 3.4e38 into inf
        return _compare_tensors(torch.tensor(_as_float(got, path), dtype=torch.float64), expected, path,
                                reveal, rtol, atol)
    if isinstance(expected, (torch.Tensor, Near)):
        if not isinstance(got, torch.Tensor):
            raise Mismatch(f"{path}: got a {type(got).__name__}, expected a tensor")
        return _compare_tensors(got, expected, path, reveal, rtol, atol)
    if isinstance(expected, bool) or expected is None:
        if got is not expected:
            raise Mismatch(f"{path}: got {_short(got)}" + (f", expected {expected!r}" if reveal else ""))
        return
    if isinstance(expected, (int, float)):
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise Mismatch(f"{path}: got a {type(got).__name__}, expected a number")
        if isinstance(expected, int) and isinstance(got, int):
            equal = got == expected
        else:
            got_float = _as_float(got, path)
            equal = math.isclose(got_float, expected, rel_tol=rtol, abs_tol=atol) or (
                math.isnan(got_float) and math.isnan(expected))
        if not equal:
            raise Mismatch(f"{path}: got {got!r}" + (f", expected {expected!r}" if reveal else ""))
        return
    if isinstance(expected, (str, bytes)):
        if type(got) is not type(expected):
            raise Mismatch(f"{path}: got a {type(got).__name__}, expected a {type(expected).__name__}")
        if got != expected:
            pos = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
                       min(len(got), len(expected)))
            msg = f"{path}: got {_short(got)}"
            msg += f", expected {_short(expected)}" if reveal else ""
            raise Mismatch(f"{msg} (first difference at character {pos})")
        return
    if isinstance(expected, list):
        if not isinstance(got, list):
            raise Mismatch(f"{path}: got a {type(got).__name__}, expected a list")
        if len(got) != len(expected):
            first = next((i for i, (a, b) in enumerate(zip(got, expected)) if not _equal(a, b)), None)
            where = f"; first difference at position {first}" if first is not None else ""
            raise Mismatch(f"{path}: length {len(got)}, expected {len(expected)}{where}")
        for i, (g, e) in enumerate(zip(got, expected)):
            same(g, e, reveal=reveal, path=f"{path}[{i}]", rtol=rtol, atol=atol)
        return
    if isinstance(expected, dict) and "__error__" in expected:
        return _compare_errors(got, expected, path)
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise Mismatch(f"{path}: got a {type(got).__name__}, expected a dict")
        if set(got) != set(expected):
            raise Mismatch(f"{path}: keys {sorted(got)}, expected {sorted(expected)}")
        for key in expected:
            same(got[key], expected[key], reveal=reveal, path=f"{path}[{key!r}]", rtol=rtol, atol=atol)
        return
    raise TypeError(f"{path}: cannot compare expected value of type {type(expected).__name__}")


def _mentions(message: str, word: str) -> bool:
    """Is ``word`` in ``message`` on its own? A number must not sit inside another number
    (``12`` is not in ``123``, ``1.25``, ``-12`` or ``n+12``); a name must not sit inside a longer
    name (``d_model`` is in ``GPTConfig.d_model`` but not in ``d_model2``)."""
    if re.fullmatch(r"[-+]?\d+(\.\d+)?", word):
        pattern = rf"(?<![\w.+\-]){re.escape(word)}(?![\w]|\.\d)"
    else:
        pattern = rf"(?<!\w){re.escape(word)}(?!\w)"
    return re.search(pattern, message) is not None


def _compare_errors(got: Any, expected: dict, path: str) -> None:
    """One rule for every error report (``llmkit.probing.error_case``)."""
    if not isinstance(got, dict) or "__error__" not in got:
        raise Mismatch(f"{path}: expected an error report")
    case = expected.get("case") or path
    raised, message = got.get("__error__"), str(got.get("message", ""))
    if expected["__error__"] is None:
        if raised is not None:
            raise Mismatch(f"{case}: raised {raised} ({message}), expected no error")
        return
    wanted = expected.get("accept") or [expected["__error__"]]
    if raised is None:
        raise Mismatch(f"{case}: raised nothing, expected {' or '.join(wanted)}")
    if not any(w in got.get("is_a", []) for w in wanted):
        raise Mismatch(f"{case}: raised {raised} ({message}), expected {' or '.join(wanted)}")
    missing = [w for w in expected.get("names", []) if not _mentions(message, w)]
    if missing:
        raise Mismatch(f"{case}: the {raised} message {message!r} should name {' and '.join(missing)}")


def _equal(a: Any, b: Any) -> bool:
    try:
        same(a, b)
        return True
    except Mismatch:
        return False


def per_item(compare: Callable[..., None]) -> Callable[..., None]:
    """Let a comparison of one case (``compare(got, expected, *, reveal, path=...)``) also take a
    list of cases: same length, each compared on its own, its index in the message's path."""

    default_path = inspect.signature(compare).parameters["path"].default

    def compare_all(got: Any, expected: Any, *, reveal: bool = True, path: str = default_path) -> None:
        if not isinstance(expected, list):
            return compare(got, expected, reveal=reveal, path=path)
        if not isinstance(got, list) or len(got) != len(expected):
            raise Mismatch(f"{path}: expected a list of {len(expected)} results")
        for i, (g, e) in enumerate(zip(got, expected)):
            compare(g, e, reveal=reveal, path=f"{path}[{i}]")

    return compare_all


def close(rtol: float = RTOL, atol: float = ATOL):
    """A comparison like :func:`same` with other tolerances."""

    def compare(got: Any, expected: Any, *, reveal: bool = True) -> None:
        same(got, expected, reveal=reveal, rtol=rtol, atol=atol)

    return compare

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

import math
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
    """Plain value -> JSON-able data (tensors and bytes become tagged dicts)."""
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


def decode(data: Any) -> Any:
    """Inverse of :func:`encode`."""
    if isinstance(data, dict):
        if "__tensor__" in data:
            if data["__tensor__"] not in _DTYPES:  # data may come from an untrusted worker
                raise ValueError(f"unsupported tensor dtype {data['__tensor__']!r}")
            dtype = getattr(torch, data["__tensor__"])
            return torch.tensor(data["data"], dtype=dtype).reshape(data["shape"])
        if "__bytes__" in data:
            return bytes.fromhex(data["__bytes__"])
        return {k: decode(v) for k, v in data.items()}
    if isinstance(data, list):
        return [decode(v) for v in data]
    return data


# ----------------------------------------------------------------------------- comparison


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(t: torch.Tensor) -> str:
    if t.dtype == torch.bool:
        return "bool"
    return "floating" if t.is_floating_point() or t.is_complex() else "integer"


def _compare_tensors(got, expected, path, reveal, rtol, atol) -> None:
    if tuple(got.shape) != tuple(expected.shape):
        raise Mismatch(f"{path}: shape {tuple(got.shape)}, expected {tuple(expected.shape)}")
    if _kind(got) != _kind(expected):
        raise Mismatch(f"{path}: dtype {got.dtype} ({_kind(got)}), expected a {_kind(expected)} tensor")
    if got.numel() == 0:
        return
    if _kind(expected) == "floating":
        g, e = got.double(), expected.double()
        ok = torch.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
        error = (g - e).abs().nan_to_num(nan=math.inf)
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
        at += f", expected {expected[first].item():.6g}"
    raise Mismatch(f"{path}: {bad} of {got.numel()} values differ ({at}{detail})")


def same(got: Any, expected: Any, *, reveal: bool = True, path: str = "result",
         rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Raise :class:`Mismatch` unless ``got`` equals ``expected`` (floats within tolerance)."""
    if isinstance(expected, torch.Tensor):
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
            equal = math.isclose(got, expected, rel_tol=rtol, abs_tol=atol) or (
                math.isnan(got) and math.isnan(expected))
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
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise Mismatch(f"{path}: got a {type(got).__name__}, expected a dict")
        if set(got) != set(expected):
            raise Mismatch(f"{path}: keys {sorted(got)}, expected {sorted(expected)}")
        for key in expected:
            same(got[key], expected[key], reveal=reveal, path=f"{path}[{key!r}]", rtol=rtol, atol=atol)
        return
    raise TypeError(f"{path}: cannot compare expected value of type {type(expected).__name__}")


def _equal(a: Any, b: Any) -> bool:
    try:
        same(a, b)
        return True
    except Mismatch:
        return False


def close(rtol: float = 1e-4, atol: float = 1e-5):
    """A comparison like :func:`same` with other tolerances."""

    def compare(got: Any, expected: Any, *, reveal: bool = True) -> None:
        same(got, expected, reveal=reveal, rtol=rtol, atol=atol)

    return compare

"""Comparisons say how values differ; hidden-mode messages never print expected values."""

import pytest
import torch
from torch import nn

from llmkit.probing import ContractError, Rng, load_params, raises
from llmkit.values import Mismatch, decode, encode, same, to_plain


def _message(got, expected, reveal=True):
    with pytest.raises(Mismatch) as info:
        same(got, expected, reveal=reveal)
    return str(info.value)


def test_tensor_shape_and_first_mismatch():
    assert "shape (2, 3), expected (3, 2)" in _message(torch.zeros(2, 3), torch.zeros(3, 2))
    got, expected = torch.zeros(2, 3), torch.zeros(2, 3)
    expected[1, 2] = 0.123456
    msg = _message(got, expected)
    assert "1 of 6 values differ" in msg and "(1, 2)" in msg and "expected 0.123456" in msg
    assert "0.123456" not in _message(got, expected, reveal=False)


def test_numbers_strings_lists_dicts():
    same([1, "a", 2.0, None, True], [1, "a", 2.0 + 1e-9, None, True])
    assert "length 2, expected 3" in _message([1, 2], [1, 2, 3])
    assert "first difference at character 2" in _message("abX", "abc")
    assert "abc" not in _message("abX", "abc", reveal=False)
    assert "keys" in _message({"a": 1}, {"b": 1})
    assert "got a float, expected a tensor" in _message(1.0, torch.zeros(1))
    _message(1, True)  # a bool is not a number here


def test_plain_round_trip_and_rejects_objects():
    value = to_plain({"t": torch.arange(6).reshape(2, 3), "b": b"\xff", "x": (1, 2.5)})
    same(decode(encode(value)), value)
    with pytest.raises(Mismatch, match="plain values"):
        to_plain([object()])


def test_load_params_checks_names_and_shapes():
    layer = nn.Linear(3, 2)
    rng = Rng(0)
    load_params(layer, rng.params({"weight": (2, 3), "bias": (2,)}), "Linear")
    with pytest.raises(ContractError, match="missing parameter.*W"):
        load_params(layer, rng.params({"W": (2, 3), "bias": (2,)}), "Linear")
    with pytest.raises(ContractError, match="shape"):
        load_params(layer, rng.params({"weight": (3, 2), "bias": (2,)}), "Linear")


def test_raises_names_the_exception_but_lets_not_implemented_through():
    assert raises(int, "x") == "ValueError"
    assert raises(int, "3") is None
    with pytest.raises(NotImplementedError):
        raises(lambda: (_ for _ in ()).throw(NotImplementedError("hole")))


def test_rng_is_deterministic():
    a, b = Rng(5), Rng(5)
    assert torch.equal(a.randn(3), b.randn(3)) and a.integer(0, 100) == b.integer(0, 100)

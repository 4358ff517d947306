"""Comparisons say how values differ; hidden-mode messages never print expected values."""

import pytest
import torch
from torch import nn

from llmkit.probing import ContractError, Rng, error_case, load_params, raises
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
    assert raises(int, "x")["__error__"] == "ValueError"
    assert raises(int, "3")["__error__"] is None
    with pytest.raises(NotImplementedError):
        raises(lambda: (_ for _ in ()).throw(NotImplementedError("hole")))


def _fails(got, expected) -> str:
    with pytest.raises(Mismatch) as info:
        same(got, expected, reveal=False)
    return str(info.value)


def test_one_rule_for_error_reports():
    class TooLong(ValueError):
        pass

    def bad(n):
        raise TooLong(f"sequence of {n} tokens is longer than 12")

    def wrong_type(n):
        raise IndexError(f"{n} > 12")

    expected = error_case("forward on 13 tokens", bad, 13, names=[13, 12])
    same(error_case("x", bad, 13), expected)  # a subclass of the documented type passes
    assert "expected TooLong" in _fails(error_case("x", wrong_type, 13), expected)
    assert "raised nothing" in _fails(error_case("x", int, "3"), expected)
    quiet = error_case("x", lambda n: ValueError(f"{n} tokens"), 13)  # returns, never raises
    assert "raised nothing" in _fails(quiet, expected)
    silent = error_case("x", lambda n: (_ for _ in ()).throw(TooLong("too long")), 13)
    assert "should name 13 and 12" in _fails(silent, expected)
    near_miss = error_case("x", lambda n: (_ for _ in ()).throw(TooLong("123 > 1.2")), 13)
    assert "should name 13 and 12" in _fails(near_miss, expected)
    either = error_case("decode", wrong_type, 13, accept=["KeyError", "IndexError"])
    same(error_case("x", wrong_type, 13), either)
    assert "expected no error" in _fails(error_case("x", bad, 1), error_case("ok", int, "3"))


def test_rng_is_deterministic():
    a, b = Rng(5), Rng(5)
    assert torch.equal(a.randn(3), b.randn(3)) and a.integer(0, 100) == b.integer(0, 100)


def test_near_judges_against_the_exact_answer_with_its_spread():
    from llmkit.values import SPREAD_FACTOR, Near, with_truth

    truth = torch.tensor([1.0, 100.0, float("-inf"), float("nan")], dtype=torch.float64)
    spread = torch.tensor([0.0, 0.01, 0.0, 0.0], dtype=torch.float64)
    expected = Near(truth, spread)
    same(torch.tensor([1.0 + 5e-6, 100.0 + 0.9 * SPREAD_FACTOR * 0.01, float("-inf"), float("nan")]), expected)
    assert "1 of 4 values differ" in _fails(torch.tensor([1.0, 100.1, float("-inf"), float("nan")]), expected)
    assert "1 of 4 values differ" in _fails(torch.tensor([1.0, 100.0, -1e30, float("nan")]), expected)
    assert "expected a floating tensor" in _fails(torch.tensor([1, 100, 0, 0]), expected)
    # the float32 reference, its exact run and two nudged runs -> a Near (floats only; structure kept)
    value = with_truth([torch.tensor([2.0]), 3.5, "s", 4],
                       [torch.tensor([2.0000001], dtype=torch.float64), 3.5, "s", 4],
                       [[torch.tensor([2.001], dtype=torch.float64), 3.5, "s", 4]])
    assert isinstance(value[0], Near) and isinstance(value[1], Near) and value[1].number
    assert value[2:] == ["s", 4] and abs(value[0].spread.item() - 0.0009999) < 1e-6
    same(3.5, value[1])
    assert "got a str" in _fails("3.5", value[1])



def test_a_wrong_number_against_its_exact_answer_is_a_mismatch_that_shows_it():
    from llmkit.values import Near

    def number(x):
        return Near(torch.tensor(x, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64), True)

    # public checks (reveal=True) print the expected number; a Python float answer was indexed like a tensor
    assert "got 2, expected 1," in _message(2.0, number(1.0))
    assert "got 2, allowed" in _message(2.0, number(1.0), reveal=False)
    # a number beyond float32's range (an exp of a large loss) is compared as it is, not as inf
    same(3e39, number(3e39))
    same(-1e300, number(-1e300))
    assert "got 3e+39, expected 1e+39" in _message(3e39, number(1e39))
    # an int beyond any float is a wrong answer with a sentence, not an OverflowError in the grader
    assert "too large for a float" in _message(10**400, number(1.0))
    assert "too large for a float" in _message(-10**400, 2.5)
    assert "too large for a float" in _message(10**5000, 1.5, reveal=False)


def test_expected_values_never_come_from_untrusted_data():
    from llmkit.values import Near

    data = encode({"x": Near(torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64))})
    assert isinstance(decode(data, trusted=True)["x"], Near)
    with pytest.raises(ValueError, match="untrusted"):
        decode(data)

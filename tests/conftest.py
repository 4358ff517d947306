"""Fixtures for the kit's own tests."""

import pytest

from llmkit import resolver


@pytest.fixture(autouse=True)
def tests_leave_the_import_choice_alone():
    """No test (or command it runs) may leave another ``--impl`` choice installed:
    every later test, and the public checks, would silently run on it."""
    before = resolver.current().spec
    yield
    assert resolver.current().spec == before

"""Glue that turns checks into pytest tests, one test per check.

Checks of a topic are run together (one import of the topic, one pass over the
seeds), so results are computed once per topic and looked up per test.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from llmkit import registry
from llmkit.checks import Check, Result


def parametrize(find: Callable[[registry.Topic], list[Check]]):
    """``@parametrize(public_checks)``: one test per check of every available topic."""
    checks = [c for topic in registry.available() for c in find(topic)]
    return pytest.mark.parametrize("check", checks, ids=[c.id for c in checks])


class TopicResults:
    """Results of ``run(topic)``, computed on first use and cached per topic."""

    def __init__(self, run: Callable[[registry.Topic], list[Result]]):
        self.run = run
        self.cache: dict[int, dict[str, Result]] = {}

    def __call__(self, check: Check) -> Result:
        assert check.topic is not None, "checks are collected with their topic"
        number = check.topic.number
        if number not in self.cache:
            self.cache[number] = {r.check.name: r for r in self.run(check.topic)}
        return self.cache[number][check.name]

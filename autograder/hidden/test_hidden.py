"""Hidden checks as pytest tests, in-process (instructors):

    pytest autograder/hidden --impl /path/to/a/course/tree

Every run draws a fresh seed (printed in the header) and compares the chosen
implementation with the reference on it. Unwritten holes fail here.
"""

import pytest

from llmkit import registry
from llmkit.checks import fresh_seed, hidden_checks, run_hidden

SEED = fresh_seed()
_results: dict[int, dict[str, object]] = {}


def _result(check):
    topic = check.topic
    if topic.number not in _results:
        _results[topic.number] = {r.check.name: r for r in run_hidden(topic, seed=SEED)}
    return _results[topic.number][check.name]


CHECKS = [c for topic in registry.available() for c in hidden_checks(topic)]


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_hidden(check):
    result = _result(check)
    if not result.passed:
        pytest.fail(f"{check.doc} [seed {SEED}]: {result.message}", pytrace=False)

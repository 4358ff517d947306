"""Run every public check of every topic in this kit, one pytest test per check.

Unwritten holes are reported as *skipped* (with the function to write), so a
fresh checkout is green; a written hole that gives a wrong answer fails.
"""

import pytest

from llmkit import resolver
from llmkit.checks import public_checks, run_public
from llmkit.pytest_checks import TopicResults, parametrize

SPEC = resolver.current().spec  # the --impl choice, fixed at collection time
result_of = TopicResults(lambda topic: run_public(topic, SPEC))


@parametrize(public_checks)
def test_public(check):
    result = result_of(check)
    if result.status == "todo":
        pytest.skip(result.message)
    if not result.passed:
        pytest.fail(f"{check.doc}: {result.message}", pytrace=False)

"""Hidden checks as pytest tests, in-process (instructors):

    pytest autograder/hidden --impl /path/to/a/course/tree

Every run draws a fresh seed (shown with each failure) and compares the chosen
implementation with the reference on it. Unwritten holes fail here.
"""

import pytest

from llmkit import resolver
from llmkit.checks import fresh_seed, hidden_checks, run_hidden
from llmkit.pytest_checks import TopicResults, parametrize

SEED = fresh_seed()
SPEC = resolver.current().spec  # the --impl choice, fixed at collection time
result_of = TopicResults(lambda topic: run_hidden(topic, SPEC, seed=SEED))


@parametrize(hidden_checks)
def test_hidden(check):
    result = result_of(check)
    if not result.passed:
        pytest.fail(f"{check.doc} [seed {SEED}]: {result.message}", pytrace=False)

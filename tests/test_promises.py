"""Every promise of a README's contract is kept by a hidden check (``llmkit.promises``)."""

import pytest

from llmkit.promises import _clauses, coverage
from tests.helpers import TOPIC_IDS, TOPICS


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_every_readme_promise_has_a_hidden_check(topic):
    report = coverage(topic)
    assert report.promises, "the README has no '## What you implement' contract"
    assert not report.stale, "fragments no longer in the README: " + "; ".join(report.stale)
    unkept = [f"[{p.hole}] {p.text}" if p.hole else p.text for p in report.unkept]
    assert not unkept, f"README promises no hidden check keeps (see `llmkit promises {topic.code}`): {unkept}"


def test_clauses_split_sentences_and_semicolons_but_not_abbreviations():
    assert _clauses("Returns ids, e.g. `[1, 2]`. Raises `ValueError`; never `None`.") == [
        "Returns ids, e.g. `[1, 2]`.", "Raises `ValueError`;", "never `None`."]
    assert _clauses("Scores are `q . k; scaled`. Then more.") == ["Scores are `q . k; scaled`.", "Then more."]

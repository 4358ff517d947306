"""Every check passes on the reference, fails on the stubs, and catches planted bugs."""

import pytest

from llmkit.checks import hidden_checks, run_hidden, run_public
from tests.helpers import (ALTERNATIVES, TOPIC_IDS, TOPICS, copy_reference, mutants,
                           only_topic_from, stub_tree)


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_public_checks_pass_on_reference(topic):
    failed = [f"{r.check.name}: {r.message}" for r in run_public(topic, "solutions") if not r.passed]
    assert not failed


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_hidden_checks_pass_on_reference(topic):
    failed = [f"{r.check.name}: {r.message}" for r in run_hidden(topic, "solutions") if not r.passed]
    assert not failed


@pytest.fixture(scope="module")
def stubs(tmp_path_factory):
    return stub_tree(tmp_path_factory.mktemp("stubs"))


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_every_check_fails_on_untouched_stubs(topic, stubs):
    results = run_public(topic, str(stubs)) + run_hidden(topic, str(stubs))
    passing = [r.check.id for r in results if r.passed]
    assert not passing, f"these checks pass on an empty stub: {passing}"
    assert all(r.message for r in results)


MUTANTS = [(t, m) for t in TOPICS for m in mutants(t)]


@pytest.mark.parametrize("topic,mutant", MUTANTS, ids=[f"{t.package}-{m[3]}" for t, m in MUTANTS])
def test_planted_bug_fails_a_hidden_check(topic, mutant, tmp_path):
    filename, old, new, why = mutant
    folder = copy_reference(topic, tmp_path)
    source = (folder / filename).read_text()
    assert source.count(old) >= 1, f"mutant text not found in the reference: {old!r}"
    (folder / filename).write_text(source.replace(old, new))
    results = run_hidden(topic, only_topic_from(topic, tmp_path))
    assert not all(r.passed for r in results), f"no hidden check catches: {why}"


ALTERNATIVE_TOPICS = [t for t in TOPICS if (ALTERNATIVES / t.package).is_dir()]


@pytest.mark.parametrize("topic", ALTERNATIVE_TOPICS, ids=[t.package for t in ALTERNATIVE_TOPICS])
def test_correct_but_different_implementation_passes(topic):
    results = run_hidden(topic, only_topic_from(topic, ALTERNATIVES)) + run_public(
        topic, only_topic_from(topic, ALTERNATIVES))
    failed = [f"{r.check.id}: {r.message}" for r in results if not r.passed]
    assert not failed


# every topic from tests/alternatives at once: a learner whose earlier topics are all written differently
ALL_ALTERNATIVES = "solutions," + ",".join(f"{t.number}={ALTERNATIVES}" for t in ALTERNATIVE_TOPICS)


@pytest.mark.parametrize("topic", ALTERNATIVE_TOPICS, ids=[t.package for t in ALTERNATIVE_TOPICS])
def test_correct_but_different_earlier_topics_pass_the_later_checks(topic):
    """Later topics import the learner's own earlier ones: their checks must grade the later topic's contract,
    not the reference's habits in earlier topics (module creation order, a persistent mask, a head called
    through its weight - each once failed t22, t27, t29 or t34 of a class member who wrote all differently)."""
    results = run_hidden(topic, ALL_ALTERNATIVES) + run_public(topic, ALL_ALTERNATIVES)
    failed = [f"{r.check.id}: {r.message}" for r in results if not r.passed]
    assert not failed

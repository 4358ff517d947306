"""Helpers for the topic notebooks: the closing check cell calls :func:`check_topic`."""

from __future__ import annotations

from llmkit import registry
from llmkit.checks import run_public


def check_topic(ref: int | str) -> None:
    """Run a topic's public checks on the current implementation and print one line each.

    Raises ``AssertionError`` when any check fails, so nbgrader's autograded
    cell (and "Run All") stops there.
    """
    topic = registry.get(ref)
    results = run_public(topic)
    for r in results:
        mark = "PASS" if r.passed else ("TODO" if r.status == "todo" else "FAIL")
        line = f"[{mark}] {r.check.name}: {r.check.doc}"
        print(line if r.passed else f"{line}\n        {r.message}")
    failed = [r for r in results if not r.passed]
    if failed:
        raise AssertionError(f"t{topic.code}: {len(failed)} of {len(results)} public checks do not pass yet")
    print(f"t{topic.code}: all {len(results)} public checks pass")

"""Helpers for the topic notebooks: the closing check cell calls :func:`check_topic`.

That cell is an nbgrader autograded cell. In the instructor's kit it also holds
a hidden-tests block (``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``)
that runs the hidden checks; ``llmkit release`` (like nbgrader's
``generate_assignment``) removes the block from the students' notebooks.
"""

from __future__ import annotations

from llmkit import registry
from llmkit.checks import run_hidden, run_public
from llmkit.stubgen import marked_lines

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"


def check_cell_source(topic: registry.Topic) -> str:
    """The source of a topic notebook's closing check cell, hidden-tests block included."""
    return (f'from llmkit.notebook import check_topic\ncheck_topic("{topic.code}")\n'
            f'{BEGIN_HIDDEN}\ncheck_topic("{topic.code}", hidden=True)\n{END_HIDDEN}')


def strip_hidden_tests(source: str) -> str:
    """``source`` without its hidden-tests blocks (markers included)."""
    return "\n".join(line for inside, line in marked_lines(source, BEGIN_HIDDEN, END_HIDDEN) if not inside)


def check_topic(ref: int | str, hidden: bool = False) -> None:
    """Run a topic's public checks (``hidden=True``: hidden checks) and print one line each.

    Raises ``AssertionError`` when any check fails, so nbgrader's autograded
    cell (and "Run All") stops there.
    """
    topic = registry.get(ref)
    results = run_hidden(topic) if hidden else run_public(topic)
    kind = "hidden" if hidden else "public"
    for r in results:
        mark = "PASS" if r.passed else ("TODO" if r.status == "todo" else "FAIL")
        line = f"[{mark}] {r.check.name}: {r.check.doc}"
        print(line if r.passed else f"{line}\n        {r.message}")
    failed = [r for r in results if not r.passed]
    if failed:
        raise AssertionError(f"t{topic.code}: {len(failed)} of {len(results)} {kind} checks do not pass yet")
    print(f"t{topic.code}: all {len(results)} {kind} checks pass")

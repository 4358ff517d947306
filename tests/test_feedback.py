"""Each student's Markdown feedback: score per topic, one line per failing check, the advice, no answers."""

from __future__ import annotations

import shutil
from pathlib import Path

from autograder.grade import CheckLine, Config, Grader, TopicGrade
from autograder.report import feedback_markdown, write_submission_json
from autograder.sandbox import Limits
from autograder.submission import Submission
from llmkit import registry
from llmkit.checks import hidden_checks, reference_values
from tests.helpers import ALTERNATIVES

T01 = registry.get(1)
SPACE_BEFORE_PUNCTUATION = ('r"\\1", text)', 'r" \\1", text)')  # decode puts a space before punctuation


def _strings(value) -> list[str]:
    """Every string inside an expected value (lists, tuples, dicts, error reports)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def test_feedback_of_a_graded_submission_never_shows_expected_values(tmp_path):
    folder = tmp_path / "alice" / "course" / T01.package
    shutil.copytree(ALTERNATIVES / T01.package, folder, ignore=shutil.ignore_patterns("__pycache__"))
    module = folder / T01.module
    assert SPACE_BEFORE_PUNCTUATION[0] in module.read_text()
    module.write_text(module.read_text().replace(*SPACE_BEFORE_PUNCTUATION))
    config = Config(tmp_path / "grading", "fallback", 1, [T01], Limits(wall_s=120, cpu_s=120))
    sub, grades = Grader(config).grade([tmp_path / "alice"], ["alice"])["alice"]
    write_submission_json(config.out, sub, grades)
    text = (config.out / "feedback" / "alice.md").read_text()
    grade = grades[1]
    assert 0 < grade.score < T01.points
    assert f"| t01 {T01.title} | {grade.score:g} / 10 |" in text
    failing = [c for c in grade.checks if c.status != "pass"]
    assert failing and all(c.message.splitlines()[0] in text for c in failing)
    # the reference's answers for this very seed appear nowhere
    expected = reference_values(T01, hidden_checks(T01), grade.seed)
    answers = {s for c in failing for s in _strings(expected[c.name]) if len(s.strip()) >= 12}
    assert answers and not [s for s in answers if s in text]


def test_feedback_names_the_topic_to_fix_first_and_each_failing_check_in_one_line():
    sub = Submission("bob", "bob.zip", Path("/nowhere"), course=Path("/nowhere/course"),
                     notes=["skipped course/t08_simple_attention/data.bin: 3,000,000 bytes is over the limit"])
    grades = {
        8: TopicGrade("t08", "Simplified self-attention", 5.0, 10.0, "graded", seed=7,
                      checks=[CheckLine("a", "softmax sums to 1", "fail", "result: 3 of 9 values differ\nline two", 1),
                              CheckLine("b", "matrix form", "pass", "", 1)]),
        9: TopicGrade("t09", "Self-attention with Q, K, V", 10.0, 10.0, "graded", seed=8, variant="fallback",
                      replaced=["t08"], blame=["t08"]),
        10: TopicGrade("t10", "Causal attention", 0.0, 10.0, "fault", reason="timed out after 180 s"),
        11: TopicGrade("t11", "Multi-head wrapper", 0.0, 10.0, "missing", reason="not in the submission"),
    }
    text = feedback_markdown(sub, grades)
    assert "**Total: 15 / 40**" in text
    assert "t09 fails on your t08 but passes on the reference t08: fix t08 first." in text
    assert "`result: 3 of 9 values differ`" in text and "line two" not in text
    assert "timed out after 180 s" in text and "| t11 Multi-head wrapper | 0 / 10 | not submitted |" in text
    assert "data.bin" in text
    assert text.index("## t08") < text.index("## t10")  # course order


def test_the_terminal_table_fits_80_columns_for_the_whole_course():
    """36 topic columns squeezed into one table read as ellipses: more than a screen's worth splits by stage,
    each stage's table with its own sum and the last with the total."""
    from rich.console import Console

    from autograder.report import tables

    topics = registry.TOPICS
    grades = {t.number: TopicGrade(f"t{t.code}", t.title, 10.0 if t.number % 2 else 2.5, 10.0, "graded")
              for t in topics}
    results = {"a-student-name": (Submission("a-student-name", "x", Path(".")), grades)}
    split = tables(results, topics)
    assert len(split) == len({t.stage for t in topics})
    console = Console(width=80, record=True, force_terminal=False)
    for table in split:
        console.print(table)
    text = console.export_text()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    assert "225/360" in text  # 18 topics at 10, 18 at 2.5
    assert len(tables(results, topics[:6])) == 1

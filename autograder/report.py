"""Grading outputs: per-submission JSON, CSV gradebook, Gradescope results, Markdown
feedback, terminal table.

Feedback text comes from the hidden checks' comparisons in "no reveal" mode:
what was checked and *how* the learner's output differed (shape, first
mismatching position, largest error), never the expected values or the
reference code. A topic without full marks also names its seed and the one
command with which an instructor reruns, in-process, exactly what the learner
saw (:func:`replay`).

Every output is built from the same :class:`TopicGrade` records, so the gradebook,
the Gradescope ``results.json`` and the student's Markdown feedback always agree.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autograder.grade import TopicGrade
from autograder.submission import Submission
from llmkit import registry
from llmkit.atomic import write_atomic
from llmkit.board import replay_command


def _ranges(numbers: list[int]) -> list[str]:
    """``[2, 3, 5]`` -> ``["2-3", "5"]`` (the resolver's topic ranges)."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return [f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]


def replay(grade: TopicGrade, course: Path | str | None) -> str | None:
    """The instructor's command that reruns this topic's graded variant in-process.

    Same seed, the submission's ``course`` folder, and - in fallback mode - the
    reference for each replaced prerequisite, so ``llmkit check --hidden``
    reproduces the learner's failing checks and messages. ``None`` for a topic
    with full marks or one that never ran (missing, unreadable).
    """
    if grade.full or grade.status not in ("graded", "fault"):
        return None
    spec = str(course) if course is not None else "COURSE"
    replaced = [int(t.lstrip("t")) for t in grade.replaced]
    spec += "".join(f",{r}=solutions" for r in _ranges(replaced))
    return replay_command(grade.seed, spec, [grade.topic.lstrip("t")])


def topic_feedback(grade: TopicGrade, course: Path | str | None = None) -> str:
    """What a learner reads for one topic; ``course``: the submission's course folder, for the replay line."""
    lines = [f"{grade.topic} {grade.title}: {grade.score:g} / {grade.max_score:g}"]
    if grade.reason:
        lines.append(f"  {grade.reason}")
    if grade.replaced:
        lines.append(f"  graded with the reference {', '.join(grade.replaced)} in place of yours "
                     f"(your version did not pass)")
    if grade.blame:
        lines.append(f"  passes with the reference {', '.join(grade.blame)} but not with your own: "
                     f"the bug is likely in {', '.join(grade.blame)}")
    for c in grade.checks:
        mark = "ok  " if c.status == "pass" else "FAIL"
        lines.append(f"  [{mark}] {c.doc}" + ("" if c.status == "pass" else f"\n         {c.message}"))
    command = replay(grade, course)
    if command:
        lines.append(f"  seed {grade.seed}; instructors replay it with: {command}")
    return "\n".join(lines)


def total(grades: dict[int, TopicGrade]) -> tuple[float, float]:
    return (round(sum(g.score for g in grades.values()), 2), sum(g.max_score for g in grades.values()))


def write_submission_json(out: Path, sub: Submission, grades: dict[int, TopicGrade]) -> Path:
    """``OUT/<id>.json`` (everything, per check, with replay commands) and, from the same grades, the
    student's feedback ``OUT/feedback/<id>.md`` (:func:`write_feedback`): every grading run that records
    a submission also writes what to send its student."""
    write_feedback(out, sub, grades)
    score, max_score = total(grades)
    data = {"id": sub.id, "source": sub.source, "error": sub.error, "notes": sub.notes,
            "score": score, "max_score": max_score,
            "topics": {g.topic: {**asdict(g), "replay": replay(g, sub.course) or ""}
                       for g in sorted(grades.values(), key=lambda g: g.topic)}}
    path = out / f"{sub.id}.json"
    write_atomic(path, json.dumps(data, indent=1))
    return path


def _ordered(grades: dict[int, TopicGrade]) -> list[TopicGrade]:
    """Topic grades in course order (t01, t02, ...)."""
    return sorted(grades.values(), key=lambda g: g.topic)


def first_line(text: str, limit: int = 300) -> str:
    """One line of a message: its first non-empty line, cut at ``limit`` characters."""
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    return line if len(line) <= limit else line[:limit - 3] + "..."


def blame_advice(grade: TopicGrade) -> str:
    """``t09 fails on your t08 but passes on the reference t08: fix t08 first.`` (empty without blame)."""
    if not grade.blame:
        return ""
    names = ", ".join(grade.blame)
    return f"{grade.topic} fails on your {names} but passes on the reference {names}: fix {names} first."


# Gradescope's results.json: https://gradescope-autograders.readthedocs.io/en/latest/specs/
GRADESCOPE_VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")


def gradescope_results(sub: Submission, grades: dict[int, TopicGrade],
                       execution_time: float | None = None) -> dict[str, Any]:
    """Gradescope's ``results.json`` for one submission.

    Only fields of Gradescope's specification: ``score`` (the total), optional
    ``execution_time``, ``output`` (the Markdown feedback, ``output_format`` md),
    ``stdout_visibility`` (hidden: the grader's log is for instructors) and one
    test per topic in course order with ``name``, ``number``, ``score``,
    ``max_score``, ``status`` (passed only with full marks), ``output`` (the
    topic's feedback) and ``visibility``. There is no top-level ``max_score``:
    Gradescope takes the maximum from the assignment's settings.
    """
    score, _ = total(grades)
    tests = [{"name": f"{g.topic} {g.title}", "number": g.topic.lstrip("t"), "score": g.score,
              "max_score": g.max_score, "status": "passed" if g.full else "failed",
              "output": topic_feedback(g, sub.course), "visibility": "visible"}
             for g in _ordered(grades)]
    data: dict[str, Any] = {"score": score}
    if execution_time is not None:
        data["execution_time"] = max(0, round(execution_time))
    data.update({"output": feedback_markdown(sub, grades), "output_format": "md",
                 "stdout_visibility": "hidden", "tests": tests})
    return data


def write_gradescope(out: Path, sub: Submission, grades: dict[int, TopicGrade]) -> Path:
    """``OUT/gradescope/<id>/results.json`` (see :func:`gradescope_results`)."""
    path = out / "gradescope" / sub.id / "results.json"
    write_atomic(path, json.dumps(gradescope_results(sub, grades), indent=1))
    return path


def _md(text: str) -> str:
    """Plain text made safe inside a Markdown paragraph or table cell."""
    return "".join("\\" + ch if ch in "\\`*<|" else ch for ch in text)


def _code(text: str) -> str:
    """``text`` as an inline code span (messages quote code and values: no escaping inside)."""
    return "`" + text.replace("`", "'") + "`" if text else ""


def feedback_markdown(sub: Submission, grades: dict[int, TopicGrade]) -> str:
    """A student's readable feedback for one grading run.

    A table with the score of each topic, then for every topic without full
    marks: why it scored what it did, each failing check with its one-line
    message (no-reveal messages: what differed, never the expected values) and,
    where a prerequisite is the likely cause, the advice to fix that one first.
    """
    score, max_score = total(grades)
    lines = [f"# llmkit feedback: {_md(sub.id)}", "", f"**Total: {score:g} / {max_score:g}**", ""]
    if sub.error:
        lines += [f"Your submission could not be graded: {_code(first_line(sub.error))}", ""]
    if grades:
        lines += ["| topic | score | |", "|---|---:|---|"]
        for g in _ordered(grades):
            if g.full:
                state = "all checks pass" + (f" (on the reference {', '.join(g.replaced)})" if g.blame else "")
            elif g.checks and all(c.status == "todo" for c in g.checks):
                state = "not written yet"
            elif g.checks:
                failed = sum(c.status != "pass" for c in g.checks)
                state = f"{failed} of {len(g.checks)} checks fail" + (" (see the advice)" if g.blame else "")
            elif g.status == "grader_fault":
                state = "not graded: the grader failed (not your code); the next grading run grades it"
            else:
                state = ("not submitted" if g.status == "missing" else
                         "not graded: see above" if sub.error else "not graded: see below")
            lines.append(f"| {g.topic} {_md(g.title)} | {g.score:g} / {g.max_score:g} | {state} |")
        lines.append("")
    advice = [blame_advice(g) for g in _ordered(grades) if g.blame]
    if advice:
        lines += ["## Advice: fix these first", "", *[f"- {_md(a)}" for a in advice], ""]
    for g in _ordered(grades):
        if g.full or (sub.error and g.reason == sub.error):  # said once, above
            continue
        lines += [f"## {g.topic} {_md(g.title)}: {g.score:g} / {g.max_score:g}", ""]
        if g.reason:
            lines += [_code(first_line(g.reason)), ""]
        if g.replaced:
            lines += [f"Graded with the reference {', '.join(g.replaced)} in place of yours "
                      f"(your version did not get full marks), so this score is about {g.topic} alone.", ""]
        for c in g.checks:
            if c.status != "pass":
                lines.append(f"- **{c.status}** {_md(c.doc)}: {_code(first_line(c.message))}")
        if g.checks:
            lines.append("")
        if g.seed:
            lines += [f"(hidden checks ran on seed {g.seed}; quote it if you ask about this grade)", ""]
    notes = [first_line(n) for n in sub.notes[:20]]
    if notes:
        lines += ["## Notes on your files", "", *[f"- {_md(n)}" for n in notes], ""]
    return "\n".join(lines).rstrip() + "\n"


def write_feedback(out: Path, sub: Submission, grades: dict[int, TopicGrade]) -> Path:
    """``OUT/feedback/<id>.md``: the student's feedback of this grading run."""
    path = out / "feedback" / f"{sub.id}.md"
    write_atomic(path, feedback_markdown(sub, grades))
    return path


def write_gradebook(out: Path, results: dict[str, tuple[Submission, dict[int, TopicGrade]]],
                    topics: list[registry.Topic]) -> Path:
    """One row per student, one column per topic, then the total."""
    text = io.StringIO(newline="")  # csv's own "\r\n" row endings, untranslated
    writer = csv.writer(text)
    writer.writerow(["student", *[f"t{t.code}" for t in topics], "total", "max"])
    for sid, (_sub, grades) in sorted(results.items()):
        score, max_score = total(grades)
        # a grader fault is no score at all (blank), never a 0 the student earned
        writer.writerow([sid, *["" if t.number not in grades or grades[t.number].status == "grader_fault"
                                else grades[t.number].score for t in topics], score, max_score])
    return write_atomic(out / "gradebook.csv", text.getvalue())


def tables(results: dict[str, tuple[Submission, dict[int, TopicGrade]]],
           topics: list[registry.Topic]) -> list[Table]:
    """The terminal's view of the grades: one table, or one per stage when there are more topics than an
    80-column terminal shows side by side (36 topics squeezed into one table read as ellipses)."""
    if len(topics) <= MAX_COLUMNS:
        return [_table(results, topics, "llmkit grades by topic", last=True)]
    stages = sorted({t.stage for t in topics})
    return [_table(results, [t for t in topics if t.stage == stage], f"llmkit grades, stage {stage}",
                   last=stage == stages[-1]) for stage in stages]


MAX_COLUMNS = 12  # topic columns of 3-4 characters, a submission name and a total fit 80 columns


def _table(results: dict[str, tuple[Submission, dict[int, TopicGrade]]], topics: list[registry.Topic],
           title: str, *, last: bool) -> Table:
    legend = " (* = bug likely in a prerequisite, ? = grader fault: re-run)" if last else ""
    t = Table(title=title + legend, padding=(0, 0))
    t.add_column("submission", no_wrap=True)
    for topic in topics:
        t.add_column(f" {topic.code}", justify="right", no_wrap=True)  # codes keep narrow terminals readable
    t.add_column(" total" if last else " stage", justify="right", no_wrap=True)
    numbers = {topic.number for topic in topics}
    for sid, (_sub, grades) in sorted(results.items()):
        cells = []
        for topic in topics:
            g = grades.get(topic.number)
            if g is None:
                cells.append("")
            elif g.status == "grader_fault":
                cells.append("[magenta]?[/magenta]")  # not graded: the grader failed; a re-run grades it
            else:
                style = "green" if g.full else ("red" if g.score == 0 else "yellow")
                mark = "*" if g.blame else ""
                cells.append(f"[{style}]{g.score:g}{mark}[/{style}]")
        # the last table's column is the submission's total; the others', that stage's sum
        score, max_score = total(grades if last else {n: g for n, g in grades.items() if n in numbers})
        t.add_row(escape(sid), *cells, f"{score:g}/{max_score:g}")
    return t


def print_reasons(console: Console, results) -> None:
    """One line per topic that did not get full marks."""
    for sid, (sub, grades) in sorted(results.items()):
        for note in sub.notes[:10]:
            console.print(f"[dim]{escape(sid)}: note: {escape(note)}")
        for g in sorted(grades.values(), key=lambda g: g.topic):
            if g.full:
                continue
            first = next((c for c in g.checks if c.status != "pass"), None)
            why = g.reason or (f"{first.name}: {first.message}" if first else "")
            blame = f" (likely cause: {', '.join(g.blame)})" if g.blame else ""
            console.print(f"{escape(sid)} {g.topic}: {escape(why[:300])}{blame}")

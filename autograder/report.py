"""Grading outputs: per-submission JSON, CSV gradebook, Gradescope results, terminal table.

Feedback text comes from the hidden checks' comparisons in "no reveal" mode:
what was checked and *how* the learner's output differed (shape, first
mismatching position, largest error), never the expected values or the
reference code. A topic without full marks also names its seed and the one
command with which an instructor reruns, in-process, exactly what the learner
saw (:func:`replay`).
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autograder.grade import TopicGrade
from autograder.submission import Submission
from llmkit import registry
from llmkit.board import replay_command


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


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
    score, max_score = total(grades)
    data = {"id": sub.id, "source": sub.source, "error": sub.error, "notes": sub.notes,
            "score": score, "max_score": max_score,
            "topics": {g.topic: {**asdict(g), "replay": replay(g, sub.course) or ""}
                       for g in sorted(grades.values(), key=lambda g: g.topic)}}
    path = out / f"{sub.id}.json"
    _write_atomic(path, json.dumps(data, indent=1))
    return path


def write_gradescope(out: Path, sub: Submission, grades: dict[int, TopicGrade]) -> Path:
    """Gradescope's ``results.json``: score, max_score and one test per topic."""
    score, max_score = total(grades)
    tests = [{"name": f"{g.topic} {g.title}", "score": g.score, "max_score": g.max_score,
              "output": topic_feedback(g, sub.course), "visibility": "visible"}
             for g in sorted(grades.values(), key=lambda g: g.topic)]
    notes = "\n".join(sub.notes[:50])
    data = {"score": score, "max_score": max_score, "tests": tests,
            "output": (sub.error or "") + ("\n" + notes if notes else "")}
    path = out / "gradescope" / sub.id / "results.json"
    _write_atomic(path, json.dumps(data, indent=1))
    return path


def write_gradebook(out: Path, results: dict[str, tuple[Submission, dict[int, TopicGrade]]],
                    topics: list[registry.Topic]) -> Path:
    """One row per student, one column per topic, then the total."""
    path = out / "gradebook.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".gradebook.csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", *[f"t{t.code}" for t in topics], "total", "max"])
        for sid, (_sub, grades) in sorted(results.items()):
            score, max_score = total(grades)
            writer.writerow([sid, *[grades[t.number].score if t.number in grades else "" for t in topics],
                             score, max_score])
    os.replace(tmp, path)
    return path


def table(results: dict[str, tuple[Submission, dict[int, TopicGrade]]], topics: list[registry.Topic]) -> Table:
    t = Table(title="llmkit grades by topic (* = bug likely in a prerequisite)",
              padding=(0, 0))
    t.add_column("submission", no_wrap=True)
    for topic in topics:
        t.add_column(f" {topic.code}", justify="right", no_wrap=True)  # codes keep narrow terminals readable
    t.add_column(" total", justify="right", no_wrap=True)
    for sid, (_sub, grades) in sorted(results.items()):
        cells = []
        for topic in topics:
            g = grades.get(topic.number)
            if g is None:
                cells.append("")
            else:
                style = "green" if g.full else ("red" if g.score == 0 else "yellow")
                mark = "*" if g.blame else ""
                cells.append(f"[{style}]{g.score:g}{mark}[/{style}]")
        score, max_score = total(grades)
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

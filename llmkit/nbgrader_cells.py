"""What the two locked cells of an nbgrader assignment notebook call (``llmkit nbgrader``).

In an nbgrader course every topic is an assignment folder named like the topic
(``t09_qkv_attention/``: the notebook, the module the student edits, README),
and a student's assignments sit side by side - in their home after
``nbgrader fetch_assignment``, in ``submitted/STUDENT/`` and
``autograded/STUDENT/`` on the instructor's side. The folder that holds the
notebook's folder therefore looks like a ``course/`` tree, and:

* the **set-up cell** (first code cell) calls :func:`use_assignment_code`, which
  points ``import course.tNN_*`` at that folder: this assignment's code and the
  student's own earlier topics, never the kit's copy. While nbgrader autogrades
  a copy in ``autograded/STUDENT/``, an earlier topic not autograded yet is
  taken from ``submitted/STUDENT/``.
* the **check cell** (last, autograded) calls :func:`score_checks`: the public
  checks for the student; at ``nbgrader autograde`` (its hidden-tests block
  is back) the hidden checks, scored exactly as ``llmkit grade`` scores them -
  points x passed / all check points, and a prerequisite that does not get
  full marks replaced by the reference (fallback mode). The cell's value is
  the score, which nbgrader takes as partial credit.

This runs the student's code in the notebook's kernel, as nbgrader always does:
nothing here is isolated (see the README's nbgrader section).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from llmkit import registry, resolver
from llmkit.checks import Result, fresh_seed, hidden_checks, judge, reference_values, run_probes, run_public


def assignment_roots(folder: Path) -> list[Path]:
    """Folders that may hold the student's topic folders, nearest first.

    The assignment's parent (the student's other assignments), and - while
    nbgrader autogrades ``COURSE/autograded/STUDENT/ASSIGNMENT`` - the student's
    ``COURSE/submitted/STUDENT``.
    """
    roots = [folder.parent]
    if len(folder.parts) >= 3 and folder.parts[-3] == "autograded":
        submitted = folder.parent.parent.parent / "submitted" / folder.parent.name
        if submitted.is_dir():
            roots.append(submitted)
    return roots


def assignment_spec(topic: registry.Topic, folder: Path) -> tuple[str, list[registry.Topic]]:
    """The resolver spec for ``topic``'s notebook in ``folder``, and the earlier topics found nowhere."""
    roots = assignment_roots(folder)
    overrides: dict[int, Path] = {}
    missing = []
    for t in registry.dependency_closure(topic):
        found = next((r for r in roots if (r / t.package / "__init__.py").is_file()), None)
        if found is None:
            missing.append(t)
        elif found != roots[0]:
            overrides[t.number] = found
    spec = str(roots[0]) + "".join(f",{n}={root}" for n, root in sorted(overrides.items()))
    return spec, missing


def use_assignment_code(code: int | str, folder: str | Path | None = None, quiet: bool = False) -> str:
    """Make ``import course.tNN_*`` load this assignment's code and the student's other assignments.

    ``folder``: the notebook's folder (default: the working directory, which
    Jupyter and nbgrader set to it). Returns the resolver spec it installed.
    """
    topic = registry.get(code)
    here = Path(folder or os.getcwd()).resolve()
    if here.name != topic.package:
        raise RuntimeError(f"this notebook's folder is {here.name!r}, not {topic.package!r}: keep the assignment "
                           f"folder's name, so that topic {topic.code}'s code can be found")
    spec, missing = assignment_spec(topic, here)
    resolver.install(spec)
    if not quiet:
        print(f"llmkit: `import course.tNN_...` loads your code from {here.parent}")
    if missing:
        names = ", ".join(t.package for t in missing)
        print(f"llmkit: topic {topic.code} builds on {names}, not found next to this assignment: fetch "
              f"{'it' if len(missing) == 1 else 'them'} too (the import fails until then)")
    return spec


@contextlib.contextmanager
def _stderr_into_stdout() -> Iterator[None]:
    """Send everything written to stderr (and warnings) to stdout while checks run.

    nbgrader gives a graded cell no credit when it printed anything on stderr;
    a learner's warning or print to stderr must not cost their whole score.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        saved = os.dup(2)
        os.dup2(1, 2)
    except OSError:  # no real file descriptors (an unusual frontend): the Python-level redirect still works
        saved = None
    try:
        with contextlib.redirect_stderr(sys.stdout), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.stdout.flush()
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)


def points(topic: registry.Topic, results: list[Result]) -> float:
    """The public checks' score: the topic's points x passed check points / all check points."""
    total = sum(r.check.points for r in results) or 1
    earned = sum(r.check.points for r in results if r.passed)
    return round(topic.points * earned / total, 2)


def hidden_run(topic: registry.Topic, spec: str, seed: int) -> tuple[float, list[Result]]:
    """The hidden checks of ``topic`` on ``spec``, scored by the grader's own rule (instructor kit only).

    ``autograder.grade.score`` is the one scoring rule of every grading path: its
    error-handling checks count only in proportion to the behaviour checks passed.
    """
    from autograder.grade import _error_only, score

    checks = hidden_checks(topic)
    expected = reference_values(topic, checks, seed)
    got = run_probes(topic, checks, seed, spec)
    results = [judge(c, got[c.name], expected[c.name], reveal=False) for c in checks]
    value, _note = score(topic.points, results, {c.name for c in checks if _error_only(expected[c.name])})
    return value, results


@dataclass
class HiddenGrade:
    topic: registry.Topic
    score: float
    results: list[Result]
    replaced: list[registry.Topic] = field(default_factory=list)  # prerequisites taken from the reference
    blame: list[registry.Topic] = field(default_factory=list)  # ...that the failure is likely due to


def hidden_grade(topic: registry.Topic, spec: str) -> HiddenGrade:
    """Grade ``topic`` on ``spec`` as ``llmkit grade`` does (fallback mode), in this process.

    Its prerequisites are graded first, in course order; each prerequisite
    without full marks is replaced by the reference for the topics built on
    it. As in the grader, when the own variant fails and the fallback passes,
    the replaced prerequisites get the blame.
    """
    full: dict[int, bool] = {}
    grade = None
    for t in [*registry.dependency_closure(topic), topic]:
        failed = [p for p in registry.dependency_closure(t) if not full.get(p.number, True)]
        seed = fresh_seed()
        own_score, own = hidden_run(t, spec, seed)
        grade = HiddenGrade(t, own_score, own)
        if failed:
            fallback_score, fallback = hidden_run(t, spec + "".join(f",{p.number}=solutions" for p in failed), seed)
            grade = HiddenGrade(t, fallback_score, fallback, replaced=failed)
            if not all(r.passed for r in own) and all(r.passed for r in fallback):
                grade.blame = failed
        full[t.number] = grade.score >= t.points
    assert grade is not None
    return grade


def _print_results(results: list[Result]) -> None:
    for r in results:
        mark = "PASS" if r.passed else ("TODO" if r.status == "todo" else "FAIL")
        first = next((line.strip() for line in r.message.splitlines() if line.strip()), "")
        print(f"[{mark}] {r.check.doc}" + ("" if r.passed else f"\n        {first[:300]}"))


def score_checks(code: int | str, hidden: bool = False) -> float:
    """Run a topic's checks on the assignment's code, print one line each, return the score.

    ``hidden=False`` (the student's copy): the public checks. ``hidden=True``
    (at ``nbgrader autograde``): the hidden checks, graded like ``llmkit grade``.
    The returned number is the cell's value: nbgrader's partial credit.
    """
    topic = registry.get(code)
    if Path.cwd().name == topic.package:  # in the assignment folder: its code, even if the set-up cell did not run
        use_assignment_code(code, Path.cwd(), quiet=True)
    spec = resolver.current().spec
    with _stderr_into_stdout():
        if hidden:
            grade = hidden_grade(topic, spec)
            results, score = grade.results, grade.score
        else:
            results = run_public(topic)
            score = points(topic, results)
    _print_results(results)
    if hidden and grade.replaced:
        names = ", ".join(f"t{p.code}" for p in grade.replaced)
        print(f"graded with the reference {names} in place of yours (your version did not get full marks)")
    if hidden and grade.blame:
        names = ", ".join(f"t{p.code}" for p in grade.blame)
        print(f"t{topic.code} fails on your {names} but passes on the reference {names}: fix {names} first.")
    kind = "hidden" if hidden else "public"
    passed = sum(r.passed for r in results)
    print(f"t{topic.code}: {passed} of {len(results)} {kind} checks pass: {score:g} of {topic.points} points")
    return score

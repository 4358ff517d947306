"""The nbgrader round trip, with nbgrader's own commands, and the same scores as ``llmkit grade``.

``llmkit nbgrader`` writes a course with topics 08 and 09 (t09 builds on t08);
``nbgrader generate_assignment`` makes the students' copies; a small class
fills them in (a correct student, a partly correct one, and one whose t08 is
untouched and whose t09 crashes at import) and the folders go to
``submitted/``; ``nbgrader autograde`` runs the notebooks, ``nbgrader export``
writes ``grades.csv`` - and every score equals what ``llmkit grade`` gives the
same folders.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.grade import Config, Grader
from autograder.sandbox import Limits
from llmkit import registry, resolver
from llmkit.nbgrader_cells import assignment_spec, use_assignment_code
from llmkit.nbgrader_course import write_course
from llmkit.notebook import BEGIN_HIDDEN
from llmkit.release import _secret_lines

T08, T09 = registry.get(8), registry.get(9)
SOLUTIONS = resolver.named_root("solutions")
W_QUERY_FOR_KEYS = ("keys = x @ self.W_key", "keys = x @ self.W_query")  # 2 of t09's 10 hidden checks fail, any seed
CRASH = ("from .self_attention", "raise RuntimeError('boom at import')\nfrom .self_attention")
# student: {topic package: None (untouched stubs) | (file, old, new) planted in the reference | "reference"}
CLASS = {
    "alice": {T08.package: "reference", T09.package: "reference"},
    "bob": {T08.package: "reference", T09.package: ("self_attention.py", *W_QUERY_FOR_KEYS)},
    "carol": {T08.package: None, T09.package: ("__init__.py", *CRASH)},
}


def _nbgrader(course: Path, *args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    env.pop(resolver.ENV_VAR, None)
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done.stdout + done.stderr


def _fill_in(course: Path, student: str) -> Path:
    """The student's copies of the released assignments, filled in, as ``nbgrader collect`` leaves them."""
    folder = course / "submitted" / student
    for package, work in CLASS[student].items():
        target = folder / package
        shutil.copytree(course / "release" / package, target)
        if work is None:
            continue
        for path in (SOLUTIONS / package).glob("*.py"):
            shutil.copy2(path, target / path.name)
        if work != "reference":
            name, old, new = work
            text = (target / name).read_text()
            assert old in text
            (target / name).write_text(text.replace(old, new))
    return folder


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    assert write_course(course, [T08, T09]) == [T08.package, T09.package]
    _nbgrader(course, "generate_assignment", "t*")
    submitted = {student: _fill_in(course, student) for student in CLASS}
    log = _nbgrader(course, "autograde", "t*")
    _nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as f:
        nbgrader_scores = {(row["student_id"], row["assignment"]): float(row["score"]) for row in csv.DictReader(f)}
    return course, submitted, nbgrader_scores, log


@pytest.fixture(scope="module")
def llmkit_scores(round_trip, tmp_path_factory):
    """The same submitted folders through ``llmkit grade`` (sandboxed workers), topics 08-09, fallback mode."""
    submitted = round_trip[1]
    config = Config(tmp_path_factory.mktemp("grading"), "fallback", 2, [T08, T09], Limits(wall_s=120, cpu_s=120))
    graded = Grader(config).grade(list(submitted.values()), list(submitted))
    return {(student, registry.get(g.topic).package): g.score
            for student, (_sub, grades) in graded.items() for g in grades.values()}


def test_released_assignments_hold_stubs_and_no_hidden_checks(round_trip):
    course = round_trip[0]
    secret = _secret_lines(SOLUTIONS)
    for topic in (T08, T09):
        released = course / "release" / topic.package
        assert {p.name for p in released.iterdir()} == {"notebook.ipynb", "README.md", "__init__.py", topic.module}
        text = "".join(p.read_text() for p in released.iterdir())
        assert BEGIN_HIDDEN not in text and "hidden = True" not in text
        assert not [line for line in secret if line in text]
        assert "not implemented yet" in (released / topic.module).read_text()
        cells = nbformat.read(released / "notebook.ipynb", as_version=4).cells
        setup = next(c for c in cells if c.cell_type == "code")
        assert f'use_assignment_code("{topic.code}")' in setup.source and setup.metadata["nbgrader"]["locked"]
        assert cells[-1].metadata["nbgrader"]["points"] == topic.points


def test_nbgrader_scores_equal_llmkit_grade(round_trip, llmkit_scores):
    _, _, nbgrader_scores, log = round_trip
    assert nbgrader_scores == llmkit_scores, log[-4000:]
    assert nbgrader_scores == {
        ("alice", T08.package): 10.0, ("alice", T09.package): 10.0,
        ("bob", T08.package): 10.0, ("bob", T09.package): 7.5,  # error-handling checks discounted (grade.score)
        ("carol", T08.package): 0.0, ("carol", T09.package): 0.0}


def test_autograded_notebook_ran_the_students_own_code(round_trip):
    course = round_trip[0]
    cell = nbformat.read(course / "autograded" / "bob" / T09.package / "notebook.ipynb", as_version=4).cells[-1]
    printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert "[FAIL] SelfAttentionV1 equals the reference" in printed and "8 of 10 hidden checks pass" in printed
    assert [o.data["text/plain"] for o in cell.outputs if o.output_type == "execute_result"] == ["7.5"]
    crashed = nbformat.read(course / "autograded" / "carol" / T09.package / "notebook.ipynb", as_version=4).cells[-1]
    assert "boom at import" in "".join(o.get("text", "") for o in crashed.outputs if o.output_type == "stream")


# ----------------------------------------------------------------------------- without nbgrader


def test_assignment_code_is_found_next_to_the_notebook_and_in_submitted(tmp_path):
    for where in ("autograded/bob", "submitted/bob"):
        (tmp_path / where / T09.package).mkdir(parents=True)
        (tmp_path / where / T09.package / "__init__.py").write_text("")
    (tmp_path / "submitted" / "bob" / T08.package).mkdir()
    (tmp_path / "submitted" / "bob" / T08.package / "__init__.py").write_text("")
    # autograding t09 before t08: the student's t08 comes from submitted/
    spec, missing = assignment_spec(T09, tmp_path / "autograded" / "bob" / T09.package)
    assert spec == f"{tmp_path}/autograded/bob,8={tmp_path}/submitted/bob" and missing == []
    # a student who never fetched t08
    (tmp_path / "home" / T09.package).mkdir(parents=True)
    spec, missing = assignment_spec(T09, tmp_path / "home" / T09.package)
    assert spec == str(tmp_path / "home") and missing == [T08]


def test_use_assignment_code_refuses_a_renamed_folder(tmp_path):
    (tmp_path / "my_attention").mkdir()
    with pytest.raises(RuntimeError, match="keep the assignment folder's name"):
        use_assignment_code("09", tmp_path / "my_attention")


def test_check_cell_scores_the_public_checks_and_keeps_stderr_empty(tmp_path, monkeypatch, capfd):
    """The student's check cell, in process: its value is the score, and a learner's stderr noise
    (which nbgrader would punish with a zero) goes to stdout."""
    from llmkit.nbgrader_cells import score_checks

    t01 = registry.get(1)
    folder = tmp_path / "home" / t01.package
    shutil.copytree(SOLUTIONS / t01.package, folder, ignore=shutil.ignore_patterns("__pycache__"))
    init = folder / "__init__.py"
    init.write_text(init.read_text() + "\nimport sys, warnings\nprint('noise', file=sys.stderr)\n"
                    "warnings.warn('careful')\n")
    monkeypatch.chdir(folder)
    with resolver.session(resolver.current()):  # the cell installs the assignment's code; undone here
        assert score_checks("01") == t01.points
        (folder / t01.module).write_text("raise NotImplementedError('t01 pretokenize: not implemented yet')\n")
        assert score_checks("01") == 0.0
    captured = capfd.readouterr()
    assert captured.err == "" and "noise" in captured.out and "[PASS]" in captured.out

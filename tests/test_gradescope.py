"""The Gradescope round trip: bundle -> Gradescope's folder layout -> run_autograder -> results.json.

The bundle is unpacked the way Gradescope does it (the zip's contents in
``source/``, ``run_autograder`` copied next to it, the student's files in
``submission/``) and ``run_autograder`` runs for a small class on topics 08-09
(t09 builds on t08): a correct, a partly correct (a t08 bug that also breaks
t09 on the learner's own t08), a crashing, a malformed and an empty submission. Every
``results.json`` is checked against the fields of Gradescope's specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.grade import CheckLine, TopicGrade
from autograder.gradescope import build_bundle, submission_source
from autograder.report import gradescope_results
from autograder.submission import Submission
from llmkit import registry
from tests.helpers import copy_reference

T08, T09 = registry.get(8), registry.get(9)
SOFTMAX_AXIS_0 = ("return exps / exps.sum(dim=dim, keepdim=True)", "return exps / exps.sum(dim=0, keepdim=True)")

TOP_LEVEL = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
             "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
PER_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
            "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "simple_format", "html", "md", "ansi"}


def assert_gradescope_results(data: dict) -> None:
    """``data`` uses only fields of Gradescope's results.json, with the documented types and values."""
    assert isinstance(data, dict) and set(data) <= TOP_LEVEL, set(data) - TOP_LEVEL
    assert isinstance(data["score"], (int, float)) and data["score"] >= 0
    assert isinstance(data.get("execution_time", 0), int)
    assert isinstance(data.get("output", ""), str)
    for key in ("output_format", "test_output_format", "test_name_format"):
        assert data.get(key, "text") in FORMATS
    for key in ("visibility", "stdout_visibility"):
        assert data.get(key, "visible") in VISIBILITY
    assert isinstance(data["tests"], list)
    for test in data["tests"]:
        assert set(test) <= PER_TEST, set(test) - PER_TEST
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITY
        assert test["status"] == ("passed" if test["score"] >= test["max_score"] else "failed")
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=0.01)


def _course(root: Path, t08_bug: tuple[str, str] | None = None, t09_init: str = "") -> Path:
    course = root / "course"
    for topic in (T08, T09):
        copy_reference(topic, course)
    if t08_bug:
        module = course / T08.package / T08.module
        assert t08_bug[0] in module.read_text()
        module.write_text(module.read_text().replace(*t08_bug))
    if t09_init:
        init = course / T09.package / "__init__.py"
        init.write_text(init.read_text() + "\n" + t09_init + "\n")
    return root


CLASS = {
    "correct": {},
    "partial": {"t08_bug": SOFTMAX_AXIS_0},
    "crashing": {"t09_init": "raise RuntimeError('boom at import')"},
    "malformed": None,  # a .zip that is no zip
    "empty": "",  # nothing uploaded
}


@pytest.fixture(scope="module")
def gradescope_runs(tmp_path_factory):
    """Run the bundle's run_autograder on each submission of the class; {name: (results.json, seconds)}."""
    import time

    tmp = tmp_path_factory.mktemp("gradescope")
    bundle = tmp / "autograder.zip"
    build_bundle(bundle, [T08, T09])
    source = tmp / "source"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(source)
    for name in ("setup.sh", "run_autograder"):
        os.chmod(source / name, 0o755)
    runs = {}
    for name, spec in CLASS.items():
        root = tmp / name / "autograder"  # what Gradescope's container holds under /autograder
        (root / "submission").mkdir(parents=True)
        (root / "results").mkdir()
        shutil.copytree(source, root / "source", symlinks=True)
        shutil.copy2(source / "run_autograder", root / "run_autograder")
        if spec is None:
            (root / "submission" / "submission.zip").write_text("this is not a zip file")
        elif spec != "":
            _course(root / "submission", **spec)
        env = {**os.environ, "AUTOGRADER_ROOT": str(root), "LLMKIT_PYTHON": sys.executable,
               "OMP_NUM_THREADS": "1"}
        env.pop("LLMKIT_IMPL", None)
        start = time.perf_counter()
        done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True,
                              text=True, timeout=600)
        log = done.stdout + done.stderr
        assert (root / "results" / "results.json").is_file(), log[-3000:]
        runs[name] = (json.loads((root / "results" / "results.json").read_text()), time.perf_counter() - start,
                      log)
    return runs


def test_bundle_has_gradescope_layout(tmp_path):
    names = build_bundle(tmp_path / "autograder.zip", [T08, T09])
    # Gradescope unpacks the zip into /autograder/source, so the kit sits at the zip's root
    assert {"setup.sh", "run_autograder", "pyproject.toml", "llmkit/cli.py", "autograder/gradescope.py"} <= set(names)
    assert any(n.startswith("autograder/hidden/") for n in names) and any(n.startswith("solutions/") for n in names)
    assert not any("__pycache__" in n for n in names)
    with zipfile.ZipFile(tmp_path / "autograder.zip") as zf:
        script = zf.read("run_autograder").decode()
        assert zf.getinfo("run_autograder").external_attr >> 16 & 0o111
        assert "pip install --quiet -e /autograder/source" in zf.read("setup.sh").decode()
    assert "results/results.json" in script and "--topic 08 --topic 09" in script


@pytest.mark.parametrize("name", list(CLASS))
def test_run_autograder_writes_valid_results(gradescope_runs, name):
    data, _, log = gradescope_runs[name]
    assert_gradescope_results(data)
    assert [t["name"] for t in data["tests"]] == [f"t08 {T08.title}", f"t09 {T09.title}"], log[-3000:]
    assert [t["max_score"] for t in data["tests"]] == [T08.points, T09.points]
    assert "max_score" not in data


def test_scores_of_the_class(gradescope_runs):
    scores = {name: [t["score"] for t in data["tests"]] for name, (data, _, _) in gradescope_runs.items()}
    assert scores["correct"] == [10.0, 10.0]
    assert 0 < scores["partial"][0] < 10 and scores["partial"][1] == 10.0  # t09 graded on the reference t08
    assert scores["crashing"] == [10.0, 0.0]
    assert scores["malformed"] == scores["empty"] == [0.0, 0.0]


def test_feedback_explains_each_zero_and_the_likely_cause(gradescope_runs):
    partial = gradescope_runs["partial"][0]
    assert "t09 fails on your t08 but passes on the reference t08: fix t08 first." in partial["output"]
    assert partial["output_format"] == "md" and partial["stdout_visibility"] == "hidden"
    crashing = {t["name"][:3]: t["output"] for t in gradescope_runs["crashing"][0]["tests"]}
    assert "boom at import" in crashing["t09"]
    malformed = gradescope_runs["malformed"][0]
    assert "not a readable zip" in malformed["output"]
    assert all("not a readable zip" in t["output"] for t in malformed["tests"])
    assert "no course/ folder" in gradescope_runs["empty"][0]["output"]


def test_results_json_from_grades_follows_the_spec():
    """No grading run: a hand-made set of grades, every status, through the same writer."""
    sub = Submission("alice", "alice.zip", Path("/nowhere"), course=Path("/nowhere/course"))
    grades = {
        1: TopicGrade("t01", "Tokenizer from scratch", 10.0, 10.0, "graded", seed=1,
                      checks=[CheckLine("a", "does a", "pass", "", 1)]),
        3: TopicGrade("t03", "Input-target pairs & DataLoader", 5.0, 10.0, "graded", seed=2, blame=["t02"],
                      checks=[CheckLine("b", "does b", "fail", "got 3 items\nsecond line", 1),
                              CheckLine("c", "does c", "pass", "", 1)]),
        2: TopicGrade("t02", "Byte Pair Encoding", 0.0, 10.0, "fault", reason="timed out after 180 s"),
        4: TopicGrade("t04", "Token embeddings", 0.0, 10.0, "missing", reason="not in the submission"),
    }
    data = gradescope_results(sub, grades, execution_time=12.4)
    assert_gradescope_results(data)
    assert [t["number"] for t in data["tests"]] == ["01", "02", "03", "04"]  # course order
    assert data["execution_time"] == 12 and data["score"] == 15.0
    assert "second line" not in data["output"]  # one line per failing check


def test_a_zip_inside_the_submission_folder_is_graded_as_a_zip(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "alice.zip").write_bytes(b"PK")
    assert submission_source(folder) == folder / "alice.zip"
    _course(folder)
    assert submission_source(folder) == folder


def test_run_autograder_leaves_results_even_when_python_fails(tmp_path):
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    build_bundle(tmp_path / "autograder.zip", [T08])
    with zipfile.ZipFile(tmp_path / "autograder.zip") as zf:
        (root / "run_autograder").write_bytes(zf.read("run_autograder"))
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "LLMKIT_PYTHON": "/bin/false"}
    subprocess.run(["bash", str(root / "run_autograder")], env=env, capture_output=True, check=False)
    data = json.loads((root / "results" / "results.json").read_text())
    assert_gradescope_results(data)
    assert data["score"] == 0 and "not your code" in data["output"]

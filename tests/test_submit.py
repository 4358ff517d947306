"""``llmkit submit``: the learner's topic folders - sources and notebooks only - in a zip the grader accepts."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from autograder import submission
from autograder.grade import Config, Grader
from autograder.sandbox import Limits
from llmkit import registry, submit
from llmkit.cli import app
from tests.helpers import copy_reference

T01 = registry.get(1)


def _learner_kit(root: Path) -> Path:
    """A learner's kit folder: t01 written (the reference), t02 untouched, and the clutter of real work."""
    course = root / "course"
    copy_reference(T01, course)
    shutil.copy2(registry.COURSE_DIR / T01.package / "README.md", course / T01.package / "README.md")
    shutil.copy2(registry.COURSE_DIR / T01.package / "notebook.ipynb", course / T01.package / "notebook.ipynb")
    shutil.copytree(registry.COURSE_DIR / "t02_bpe", course / "t02_bpe",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (course / "__init__.py").write_text("")
    (course / T01.package / "__pycache__").mkdir()
    (course / T01.package / "__pycache__" / "tokenizer.cpython-311.pyc").write_bytes(b"\0" * 100)
    (course / T01.package / ".ipynb_checkpoints").mkdir()
    (course / T01.package / ".ipynb_checkpoints" / "notebook-checkpoint.ipynb").write_text("{}")
    (course / "t02_bpe" / "merges.json").write_text(json.dumps(list(range(50_000))))
    (course / "t02_bpe" / "plot.png").write_bytes(b"\x89PNG" + b"\0" * 5000)
    # a notebook with a big embedded plot: over the grader's per-file limit
    heavy = json.loads((course / "t02_bpe" / "notebook.ipynb").read_text())
    heavy["cells"].append({"cell_type": "code", "metadata": {}, "source": "plot()", "execution_count": 3,
                           "outputs": [{"output_type": "display_data", "metadata": {},
                                        "data": {"image/png": "A" * (3 * 2**20)}}]})
    (course / "t02_bpe" / "notebook.ipynb").write_text(json.dumps(heavy))
    (root / "runs").mkdir()
    (root / "runs" / "checkpoint.pt").write_bytes(b"\0" * 1000)
    return root


def test_submit_packs_sources_and_notebooks_only(tmp_path):
    course = _learner_kit(tmp_path / "alice") / "course"
    packed = submit.pack(course, tmp_path / "submission.zip")
    with zipfile.ZipFile(packed.target) as zf:
        names = set(zf.namelist())
        t02_notebook = json.loads(zf.read("course/t02_bpe/notebook.ipynb"))
    assert names == {f"course/{T01.package}/{n}" for n in ("__init__.py", "tokenizer.py", "notebook.ipynb")} | {
        f"course/t02_bpe/{p.name}" for p in (registry.COURSE_DIR / "t02_bpe").glob("*.py")} | {
        "course/t02_bpe/notebook.ipynb"}
    assert sorted(name for name, _ in packed.left_out) == ["course/t02_bpe/merges.json", "course/t02_bpe/plot.png"]
    assert packed.cleared == ["course/t02_bpe/notebook.ipynb"]
    assert all(not c.get("outputs") for c in t02_notebook["cells"])
    lines = "\n".join(submit.summary(packed))
    assert "left out 2 files" in lines and "merges.json" in lines and "outputs cleared" in lines
    assert f"({submit.human(packed.size)})" in lines


def test_submission_zip_is_what_the_grader_accepts(tmp_path):
    assert submit.MAX_FILE_BYTES == submission.MAX_FILE_BYTES
    course = _learner_kit(tmp_path / "alice") / "course"
    zip_path = submit.pack(course, tmp_path / "alice.zip").target
    unpacked = submission.unpack(zip_path, tmp_path / "work", "alice")
    assert not unpacked.error and not unpacked.notes and unpacked.course is not None
    assert (unpacked.course / T01.package / "tokenizer.py").is_file()
    config = Config(tmp_path / "grading", "fallback", 1, [T01], Limits(wall_s=120, cpu_s=120))
    graded = Grader(config).grade([zip_path], ["alice"])
    assert graded["alice"][1][1].score == T01.points


def test_llmkit_submit_command(tmp_path, monkeypatch):
    root = _learner_kit(tmp_path / "bob")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["submit"])
    assert result.exit_code == 0, result.output
    assert (root / "submission.zip").is_file()
    assert "wrote submission.zip" in result.output and "left out 2 files" in result.output
    result = CliRunner().invoke(app, ["submit", "--course", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "not a folder" in result.output

"""The student release has what learners need and no trace of solutions or hidden checks."""

import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from llmkit import registry
from llmkit.release import KIT_ROOT, build, leaks, student_readme


def test_release_is_complete_and_clean(tmp_path):
    out = tmp_path / "release"
    build(out)
    assert leaks(out) == []
    for topic in registry.available():
        folder = out / "course" / topic.package
        assert (folder / topic.module).is_file() and (folder / "README.md").is_file()
        assert (out / "checks" / "snapshots" / f"{topic.package}.json").is_file()
    assert not (out / "solutions").exists() and not (out / "autograder").exists()


def test_leak_scan_finds_planted_reference_code(tmp_path):
    out = tmp_path / "release"
    build(out)
    topic = registry.available()[0]
    reference = (registry.COURSE_DIR.parent / "solutions" / topic.package / topic.module).read_text()
    (out / "course" / topic.package / topic.module).write_text(reference)
    assert any("reference code" in p for p in leaks(out))


def test_release_public_checks_run_and_skip_unwritten_holes(tmp_path):
    out = tmp_path / "release"
    build(out)
    result = subprocess.run([sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", "checks"],
                            cwd=out, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "not implemented yet" in result.stdout


# ----------------------------------------------------------------------------- the student README

INSTRUCTOR_ONLY = ("solutions", "autograder", "hidden", "llmkit grade", "--impl", "tests/", "gradescope-bundle",
                   "llmkit release", "nbgrader", "llmkit stubs", "llmkit snapshots", "instructor's kit",
                   "instructor kit", "<!--")


def _setup_commands(readme: str) -> list[str]:
    """The bash commands of the README's set-up section, in order."""
    section = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_student_readme_comes_from_the_instructor_readme():
    kit_readme = (KIT_ROOT / "README.md").read_text(encoding="utf-8")
    readme = student_readme(kit_readme)
    lowered = readme.lower()
    assert not [word for word in INSTRUCTOR_ONLY if word.lower() in lowered]
    # nothing is written twice: every line comes from the one source
    assert set(readme.splitlines()) <= set(kit_readme.splitlines())
    assert "## For students" in readme and "### Handing in" in readme
    assert _setup_commands(readme) == [
        "python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 && pip install -e . && llmkit run",
        "python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 && pip install -e . && pytest"]
    # every llmkit command the students read about exists in their release's CLI
    from llmkit.cli import app

    commands = {c.name or c.callback.__name__ for c in app.registered_commands} | {"gpt2"}
    code = "\n".join(re.findall(r"```(?:bash)?\n(.+?)```", readme, flags=re.S))
    mentioned = set(re.findall(r"\bllmkit ([a-z0-9-]+)", code))
    assert mentioned and mentioned <= commands - {"grade", "release", "gradescope-bundle", "nbgrader", "stubs",
                                                  "snapshots", "promises"}


@pytest.mark.parametrize("broken,why", [
    ("a\n<!-- instructor -->\nb\n", "never closed"),
    ("a\n<!-- /instructor -->\n", "closes no block"),
    ("<!-- student\n<!-- instructor -->\n-->\n", "inside the student block"),
])
def test_misplaced_readme_markers_are_one_clear_error(broken, why):
    with pytest.raises(ValueError, match=why):
        student_readme(broken)


def _offline_venv_tools(tmp: Path) -> tuple[Path, Path]:
    """A ``python3`` like this one, and a folder of the packages already installed here minus llmkit itself.

    The README's commands then run offline: the fresh environment finds torch and
    the other dependencies through a ``.pth`` file instead of downloading them.
    """
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(Path(getattr(sys, "_base_executable", sys.executable)).resolve())
    deps = tmp / "deps"
    deps.mkdir()
    site_packages = Path(sysconfig.get_paths()["purelib"])
    for entry in site_packages.iterdir():
        if "llmkit" not in entry.name and not entry.name.endswith(".pth"):
            (deps / entry.name).symlink_to(entry)
    return bin_dir, deps


def _offline(command: str, deps: Path) -> str:
    """A README set-up command, with its downloads swapped for the packages already installed here."""
    venv = f"python3 -m venv --without-pip .venv && echo {deps} > .venv/lib/python{sys.version_info.major}." \
           f"{sys.version_info.minor}/site-packages/offline_deps.pth"
    scripts = (" && for s in pip pytest; do printf '#!%s/.venv/bin/python\\nimport sys, runpy\\nsys.argv[0] = \"%s\"\\n"
               "runpy.run_module(\"%s\", run_name=\"__main__\")\\n' \"$PWD\" $s $s > .venv/bin/$s; "
               "chmod +x .venv/bin/$s; done")
    replaced = (command.replace("python3 -m venv .venv", venv + scripts)
                .replace("pip install torch==2.13.0 && ", "")
                .replace("pip install -e .", "pip install --quiet --no-deps --no-build-isolation --no-index -e ."))
    assert "torch" not in replaced and "--no-index" in replaced, replaced
    return replaced


def test_release_installs_in_a_fresh_venv_and_its_readme_commands_run(tmp_path):
    """Build the release, then run its README's two set-up commands in it, as a student would (offline)."""
    out = tmp_path / "llmkit-student"
    build(out)
    bin_dir, deps = _offline_venv_tools(tmp_path)
    run_job, run_tests = _setup_commands((out / "README.md").read_text(encoding="utf-8"))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg",
           "LANG": "C.UTF-8"}
    first = subprocess.run(["bash", "-c", _offline(run_job, deps)], cwd=out, env=env, capture_output=True,
                           text=True, timeout=300)
    text = first.stdout + first.stderr
    # a fresh release: the main job stops at once and names the first function to write
    assert "not implemented yet" in text and "llmkit check" in text and "Traceback" not in text, text[-3000:]
    # the main job ran the release's own code (and stubs), not this kit's
    probe = subprocess.run([str(out / ".venv" / "bin" / "python"), "-c",
                            "import llmkit, course; print(llmkit.__file__, course.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert probe.stdout.split() == [str(out / "llmkit" / "__init__.py"), str(out / "course" / "__init__.py")], probe
    second = subprocess.run(["bash", "-c", _offline(run_tests, deps)], cwd=out, env=env, capture_output=True,
                            text=True, timeout=300)
    assert second.returncode == 0, (second.stdout + second.stderr)[-3000:]
    assert "skipped" in second.stdout and "failed" not in second.stdout


def test_release_zip_holds_the_release_folder(tmp_path):
    from llmkit.release import zip_release

    out = tmp_path / "llmkit-student"
    build(out)
    archive = zip_release(out)
    assert archive == tmp_path / "llmkit-student.zip"
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
    assert {"llmkit-student/README.md", "llmkit-student/pyproject.toml", "llmkit-student/llmkit/submit.py",
            "llmkit-student/llmkit/nbgrader_cells.py"} <= names
    assert not any(n.endswith(("release.py", "nbgrader_course.py")) or "/solutions/" in n for n in names)


def test_leak_scan_flags_a_short_reference_line_as_code_not_inside_prose(tmp_path):
    from llmkit.release import LONG_LINE, _secret_lines

    out = tmp_path / "release"
    build(out)
    short = sorted(line for line in _secret_lines(KIT_ROOT / "solutions") if len(line) < LONG_LINE)[0]
    notes = out / "course" / "notes.md"
    notes.write_text(f"The docstring says: ``{short}`` - that is the contract.\n")
    assert not [p for p in leaks(out) if p.startswith("course/notes.md")]
    notes.write_text(f"```python\n    {short}\n```\n")
    assert [p for p in leaks(out) if p.startswith("course/notes.md contains reference code")]

"""``llmkit release OUT``: build the student release of the kit.

The release holds what a learner needs - the stubs, READMEs and notebooks in
``course/``, the public checks with their snapshots, the ``llmkit`` runtime -
and nothing of ``solutions/``, ``autograder/`` (hidden checks, grader) or the
kit's own ``tests/``. Notebook cells tagged ``solution`` (or nbgrader solution
cells) are emptied and hidden-tests blocks removed. :func:`leaks` scans a
release for anything that should not be there; a test runs it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from llmkit import registry, stubgen
from llmkit.checks import hidden_checks, public_checks
from llmkit.notebook import BEGIN_HIDDEN, strip_hidden_tests
from llmkit.resolver import named_root

KIT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_FILES = ["README.md", "conftest.py", ".gitignore"]
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def _clear_solution_cells(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        meta = cell.get("metadata", {})
        if "solution" in meta.get("tags", []) or meta.get("nbgrader", {}).get("solution"):
            cell.source = "# YOUR CODE HERE\nraise NotImplementedError()" if cell.cell_type == "code" else ""
        if cell.cell_type == "code":
            cell.source = strip_hidden_tests(cell.source)
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, path)


def _pyproject() -> str:
    """The kit's pyproject, without the instructor-only packages."""
    text = (KIT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    text = text.replace('include = ["llmkit*", "course*", "solutions*", "checks*", "autograder*"]',
                        'include = ["llmkit*", "course*", "checks*"]')
    return text.replace('testpaths = ["tests", "checks"]', 'testpaths = ["checks"]')


def build(out: Path) -> list[Path]:
    """Write the release to ``out`` (which must not exist yet)."""
    if out.exists():
        raise FileExistsError(f"{out} already exists: choose a new folder")
    out.mkdir(parents=True)
    shutil.copytree(KIT_ROOT / "llmkit", out / "llmkit", ignore=SKIP)
    (out / "llmkit" / "release.py").unlink()  # instructor tooling, refers to the hidden checks
    shutil.copytree(KIT_ROOT / "checks", out / "checks", ignore=SKIP)
    course = named_root("course")
    (out / "course").mkdir()
    shutil.copy2(course / "__init__.py", out / "course" / "__init__.py")
    topics = registry.available()
    for topic in topics:
        shutil.copytree(course / topic.package, out / "course" / topic.package, ignore=SKIP)
        stubgen.write_stubs([topic], out / "course")  # the stubs, whatever course/ holds now
        for notebook in (out / "course" / topic.package).glob("*.ipynb"):
            _clear_solution_cells(notebook)
    for name in SHIPPED_FILES:
        if (KIT_ROOT / name).exists():
            shutil.copy2(KIT_ROOT / name, out / name)
    (out / "pyproject.toml").write_text(_pyproject(), encoding="utf-8")
    return sorted(p for p in out.rglob("*") if p.is_file())


def _secret_lines(solutions: Path) -> set[str]:
    """Distinctive lines of reference code: long lines inside solution blocks.

    A line that the reference also has *outside* its solution blocks (an error
    message repeated in given code, say) ships in the stubs anyway, so it is no secret.
    """
    hidden: set[str] = set()
    given: set[str] = set()
    for path in solutions.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for inside, line in stubgen.marked_lines(source, stubgen.BEGIN, stubgen.END):
            if len(line.strip()) >= 25:
                (hidden if inside else given).add(line.strip())
    return hidden - given


def leaks(out: Path) -> list[str]:
    """Traces of reference code or hidden checks in a release (empty when clean)."""
    problems = [f"{p} should not be shipped" for p in ("solutions", "autograder", "tests") if (out / p).exists()]
    secret_lines = _secret_lines(named_root("solutions"))
    hidden_names = {c.name for t in registry.available() for c in hidden_checks(t)}
    hidden_names -= {c.name for t in registry.available() for c in public_checks(t)}
    for path in out.rglob("*"):
        if not path.is_file() or path.suffix not in (".py", ".ipynb", ".md", ".json", ".toml"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb" and BEGIN_HIDDEN in text:
            problems.append(f"{path.relative_to(out)} still holds a hidden-tests block")
        for line in secret_lines:
            if line in text:
                problems.append(f"{path.relative_to(out)} contains reference code: {line[:60]!r}")
                break
        for name in hidden_names:
            if re.search(rf"\b{re.escape(name)}\b", text):
                problems.append(f"{path.relative_to(out)} mentions hidden check {name!r}")
                break
    return problems

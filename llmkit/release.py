"""``llmkit release OUT``: build the student release of the kit.

The release holds what a learner needs - the stubs, READMEs and notebooks in
``course/``, the public checks with their snapshots, the ``llmkit`` runtime -
and nothing of ``solutions/``, ``autograder/`` (hidden checks, grader) or the
kit's own ``tests/``. Notebook cells tagged ``solution`` (or nbgrader solution
cells) are emptied and hidden-tests blocks removed. :func:`leaks` scans a
release for anything that should not be there; a test runs it.

The release's README is generated from the kit's own (:func:`student_readme`),
so the two cannot drift: one file, with instructor-only blocks left out and
student-only blocks (invisible comments in the instructor's README) shown.
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
SHIPPED_FILES = ["conftest.py", ".gitignore"]

# README.md's markers, each alone on its line (see the comment at the top of README.md)
INSTRUCTOR_BEGIN, INSTRUCTOR_END = "<!-- instructor -->", "<!-- /instructor -->"
STUDENT_BEGIN, COMMENT_END = "<!-- student", "-->"
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def student_readme(text: str) -> str:
    """The student release's README from the instructor's: instructor blocks out, student blocks in.

    One-line comments (notes for the README's editors) are left out too.

    A marker out of place (a block never closed, a block inside a block, an
    end marker that closes nothing) is a ``ValueError`` naming the line.
    """
    kept: list[str] = []
    block = None  # None, "instructor" or "student"
    for number, line in enumerate(text.splitlines(), 1):
        mark = line.strip()
        if mark in (INSTRUCTOR_BEGIN, STUDENT_BEGIN) and block is not None:
            raise ValueError(f"README.md line {number}: {mark!r} inside the {block} block opened before it")
        if block is None:
            if mark in (INSTRUCTOR_END, COMMENT_END):
                raise ValueError(f"README.md line {number}: {mark!r} closes no block")
            if mark == INSTRUCTOR_BEGIN:
                block = "instructor"
            elif mark == STUDENT_BEGIN:
                block = "student"
            elif not (mark.startswith("<!--") and mark.endswith("-->")):  # a one-line note for the README's editors
                kept.append(line)
        elif block == "instructor":
            block = None if mark == INSTRUCTOR_END else block
        elif mark == COMMENT_END:
            block = None
        else:
            kept.append(line)
    if block is not None:
        raise ValueError(f"README.md: the {block} block is never closed")
    readme = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip() + "\n"
    return readme


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
    for tool in ("release.py", "nbgrader_course.py"):  # instructor tooling: refers to the reference, hidden checks
        (out / "llmkit" / tool).unlink()
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
    with open(out / ".gitignore", "a", encoding="utf-8") as ignore:
        ignore.write("submission.zip\n")  # what `llmkit submit` writes: handed in, never committed
    readme = student_readme((KIT_ROOT / "README.md").read_text(encoding="utf-8"))
    (out / "README.md").write_text(readme, encoding="utf-8")
    (out / "pyproject.toml").write_text(_pyproject(), encoding="utf-8")
    return sorted(p for p in out.rglob("*") if p.is_file())


# Lines of reference code that are PyTorch / Python idioms, not answers: the kit's runtime, the checks
# and the notebooks write them too (save and restore a model's mode, loop over parameters, make a folder).
COMMON_LINES = frozenset({
    "was_training = model.training",
    "model.train(was_training)",
    "return model.to(device).eval()",
    "for p in self.parameters():",
    "for group in self.param_groups:",
    "if max_length is not None:",
    "self.drop = nn.Dropout(dropout)",
    "row = int(bad.nonzero()[0])",
    "path.parent.mkdir(parents=True, exist_ok=True)",
    "set_trainable(model, False)",
    "set_trainable(model.final_norm, True)",
    "for p in group[\"params\"]:",
    "model.zero_grad(set_to_none=True)",
    'for name in ("W_query", "W_key", "W_value"):',
})
LONG_LINE = 50  # a secret line this long is distinctive anywhere; a shorter one counts only as a whole line


def _secret_lines(solutions: Path) -> set[str]:
    """Distinctive lines of reference code: long lines inside solution blocks.

    A line that the reference also has *outside* its solution blocks (an error
    message repeated in given code, say) ships in the stubs anyway, so it is no
    secret; nor is a common idiom (:data:`COMMON_LINES`).
    """
    hidden: set[str] = set()
    given: set[str] = set()
    for path in solutions.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for inside, line in stubgen.marked_lines(source, stubgen.BEGIN, stubgen.END):
            if len(line.strip()) >= 25:
                (hidden if inside else given).add(line.strip())
    return hidden - given - COMMON_LINES


def _code_lines(path: Path, text: str) -> set[str]:
    """The stripped lines of a file as code: a notebook's cell sources, else the file's own lines."""
    if path.suffix == ".ipynb":
        try:
            text = "\n".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)
        except Exception:  # noqa: BLE001 - an unreadable notebook is scanned as plain text
            pass
    return {line.strip() for line in text.splitlines()}


def leaks(out: Path) -> list[str]:
    """Traces of reference code or hidden checks in a release (empty when clean)."""
    problems = [f"{p} should not be shipped" for p in ("solutions", "autograder", "tests") if (out / p).exists()]
    secret_lines = _secret_lines(named_root("solutions"))
    long_lines = [line for line in secret_lines if len(line) >= LONG_LINE]
    short_lines = secret_lines.difference(long_lines)
    hidden_names = {c.name for t in registry.available() for c in hidden_checks(t)}
    hidden_names -= {c.name for t in registry.available() for c in public_checks(t)}
    # one pattern for every name: a search per file, not one per file and name (that took half a minute)
    names = "|".join(re.escape(n) for n in sorted(hidden_names, key=len, reverse=True))
    names_pattern = re.compile(rf"\b({names})\b") if hidden_names else None
    for path in out.rglob("*"):
        if not path.is_file() or path.suffix not in (".py", ".ipynb", ".md", ".json", ".toml"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb" and BEGIN_HIDDEN in text:
            problems.append(f"{path.relative_to(out)} still holds a hidden-tests block")
        # a long reference line anywhere (pasted into prose, a string, a notebook's JSON); a short one as a whole
        # line of code - inside a longer line (a docstring's ``tokens_seen += inputs.numel()``, a probe's
        # ``t.load_weights(model, state)``) it is the contract or a call, not the answer
        shown = next((line for line in long_lines if line in text), None)
        shown = shown or next(iter(short_lines & _code_lines(path, text)), None)
        if shown:
            problems.append(f"{path.relative_to(out)} contains reference code: {shown[:60]!r}")
        found = names_pattern.search(text) if names_pattern else None
        if found:
            problems.append(f"{path.relative_to(out)} mentions hidden check {found[1]!r}")
    return problems


def zip_release(out: Path) -> Path:
    """``OUT.zip`` next to the release folder, holding ``OUT/...`` (for publishing as a download)."""
    archive = shutil.make_archive(str(out), "zip", root_dir=out.parent, base_dir=out.name)
    return Path(archive)

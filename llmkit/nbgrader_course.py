"""``llmkit nbgrader COURSE_DIR``: the course as an nbgrader course, one assignment per topic.

Writes ``COURSE_DIR/nbgrader_config.py`` and ``COURSE_DIR/source/tNN_slug/``
for every chosen topic: the topic's notebook, its stub modules (never the
reference), ``__init__.py`` and README. The assignment is named like the
topic's package, so a student's assignments side by side form a ``course/``
tree that later topics import from (``llmkit.nbgrader_cells``).

The notebook is the topic's own, with two locked cells:

* a set-up cell before the first code cell, which points ``import course.tNN_*``
  at the assignment folder and the student's other assignments;
* the closing check cell (autograded, the topic's points) rewritten to return a
  score - the public checks' for the student, and, in its hidden-tests block
  that ``nbgrader generate_assignment`` removes and ``nbgrader autograde``
  puts back, the hidden checks' graded like ``llmkit grade``.

The config tells ``nbgrader autograde`` not to overwrite the modules the
student edits with the stubs from ``source/`` (its default for every file that
is not a notebook).

This module is instructor tooling: ``llmkit release`` leaves it out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from llmkit import registry, stubgen
from llmkit.notebook import BEGIN_HIDDEN, END_HIDDEN
from llmkit.resolver import named_root

NOTEBOOK = "notebook.ipynb"

SETUP_CELL = """# Locked: `import course.tNN_...` loads the code in this assignment folder and your
# other llmkit assignments next to it (the folders nbgrader fetched), not the kit's copy.
from llmkit.nbgrader_cells import use_assignment_code
use_assignment_code("{code}")"""

CHECK_CELL = f"""# Locked, autograded: the public checks on your code; its value is your score (out of {{points}}).
# When your work is graded, the hidden checks run here instead, on fresh random inputs.
from llmkit.nbgrader_cells import score_checks
hidden = False
{BEGIN_HIDDEN}
hidden = True
{END_HIDDEN}
score_checks("{{code}}", hidden=hidden)"""

CONFIG = '''"""nbgrader's configuration of the llmkit course, written by `llmkit nbgrader`. Run nbgrader here."""

c = get_config()  # noqa: F821 - nbgrader provides it

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "runs"]

# Students edit these modules: `nbgrader autograde` must grade their versions, not copy the stubs
# from source/ over them (its default for every file that is not a notebook).
c.Autograde.exclude_overwriting = {exclude!r}

# The check cell grades a topic and, as `llmkit grade` does, its prerequisites first: give it time.
c.Execute.timeout = 900
'''


def _setup_cell(topic: registry.Topic) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(SETUP_CELL.format(code=topic.code))
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": f"t{topic.code}_setup", "locked": True,
                                 "schema_version": 3, "solution": False}
    cell.metadata["deletable"] = False
    cell.metadata["editable"] = False
    return cell


def assignment_notebook(topic: registry.Topic) -> nbformat.NotebookNode:
    """The topic's notebook as an nbgrader assignment: the set-up cell in, the check cell scored."""
    notebook = nbformat.read(registry.COURSE_DIR / topic.package / NOTEBOOK, as_version=4)
    last = notebook.cells[-1]
    grading = last.get("metadata", {}).get("nbgrader", {})
    if last.cell_type != "code" or not grading.get("grade"):
        raise ValueError(f"{topic.package}/{NOTEBOOK} does not end with its autograded check cell")
    last.source = CHECK_CELL.format(code=topic.code, points=grading["points"])
    first_code = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells.insert(first_code, _setup_cell(topic))
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def edited_files(topic: registry.Topic) -> list[str]:
    """The files of a topic that the student edits (and autograde must keep): its Python modules."""
    return sorted(stubgen.render_topic(topic))


def write_assignment(source: Path, topic: registry.Topic) -> Path:
    """``source/tNN_slug/``: notebook, stubs, README."""
    folder = source / topic.package
    folder.mkdir(parents=True)
    for name, text in stubgen.render_topic(topic).items():
        (folder / name).write_text(text, encoding="utf-8")
    readme = registry.COURSE_DIR / topic.package / "README.md"
    if readme.is_file():
        shutil.copy2(readme, folder / "README.md")
    nbformat.write(assignment_notebook(topic), folder / NOTEBOOK)
    return folder


def write_course(course_dir: Path, topics: list[registry.Topic], course_id: str = "llmkit") -> list[str]:
    """Write the nbgrader course; return the assignment names (one per topic, in course order)."""
    named_root("solutions")  # the stubs come from the reference: the instructor kit only
    source = course_dir / "source"
    clashes = [t.package for t in topics if (source / t.package).exists()]
    if clashes:
        raise FileExistsError(f"{source} already has {', '.join(clashes)}: choose a new folder")
    if (course_dir / "nbgrader_config.py").exists() and not source.is_dir():
        raise FileExistsError(f"{course_dir}/nbgrader_config.py exists already: choose a new folder")
    for topic in topics:
        write_assignment(source, topic)
    exclude = {t.package: edited_files(t) for t in sorted(
        {*topics, *(t for t in registry.available() if (source / t.package).is_dir())}, key=lambda t: t.number)}
    (course_dir / "nbgrader_config.py").write_text(CONFIG.format(course_id=course_id, exclude=exclude),
                                                   encoding="utf-8")
    return [t.package for t in topics]

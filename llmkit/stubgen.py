"""Generate the learner's stubs in ``course/`` from the reference in ``solutions/``.

The reference marks each hole nbgrader-style::

    def pretokenize(text: str) -> list[str]:
        \"\"\"Split ``text`` into words and punctuation.\"\"\"
        ### BEGIN SOLUTION
        return [piece for piece in ...]
        ### END SOLUTION

and the stub keeps everything else - signature, docstring, imports, given
helpers - replacing the marked region with one ``raise NotImplementedError``
that names the topic, the function and the file. Because stubs are generated,
they can never drift from the reference; ``llmkit stubs --check`` (and a test)
fail when ``course/`` is stale.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from llmkit import registry
from llmkit.resolver import named_root

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"


@dataclass
class Hole:
    qualname: str  # e.g. "SimpleTokenizer.encode"
    line: int  # 1-based line of the BEGIN marker


def _enclosing_names(tree: ast.AST) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function in ``tree``."""
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    spans.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, name + ".")

    visit(tree, "")
    return spans


def marked_lines(source: str, begin: str, end: str) -> Iterator[tuple[bool, str]]:
    """``(inside, line)`` for every line of ``source`` except the marker lines themselves.

    ``inside`` says whether the line sits between a ``begin`` and an ``end`` marker
    (a line whose stripped text equals the marker).
    """
    inside = False
    for line in source.splitlines():
        if line.strip() in (begin, end):
            inside = line.strip() == begin
        else:
            yield inside, line


def find_holes(source: str, filename: str = "<source>") -> list[Hole]:
    """Every marked region in ``source``, named by its innermost enclosing function."""
    spans = _enclosing_names(ast.parse(source, filename))
    holes = []
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() == BEGIN:
            inside = [s for s in spans if s[0] <= number <= s[1]]
            if not inside:
                raise ValueError(f"{filename}:{number}: solution block outside any function")
            innermost = max(inside, key=lambda s: s[0])
            holes.append(Hole(innermost[2], number))
    return holes


def make_stub(source: str, topic: registry.Topic, filename: str) -> str:
    """Replace each marked region of ``source`` with a ``NotImplementedError``."""
    holes = iter(find_holes(source, filename))
    out: list[str] = []
    inside = False
    for line in source.splitlines(keepends=True):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"{filename}: nested {BEGIN}")
            inside = True
            hole = next(holes)
            indent = line[: len(line) - len(line.lstrip())]
            where = f"course/{topic.package}/{filename}"
            message = f"t{topic.code} {hole.qualname}: not implemented yet - write it in {where}"
            out.append(f"{indent}raise NotImplementedError({message!r})\n")
        elif marker == END:
            if not inside:
                raise ValueError(f"{filename}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{filename}: {BEGIN} without {END}")
    return "".join(out)


def render_topic(topic: registry.Topic, solutions: Path | None = None) -> dict[str, str]:
    """Stub text for every ``.py`` file of one topic, keyed by file name."""
    folder = (solutions or named_root("solutions")) / topic.package
    return {
        path.name: make_stub(path.read_text(encoding="utf-8"), topic, path.name)
        for path in sorted(folder.glob("*.py"))
    }


def topic_holes(topic: registry.Topic, solutions: Path | None = None) -> list[str]:
    """Qualified names of the holes marked in a topic's reference."""
    folder = (solutions or named_root("solutions")) / topic.package
    names: list[str] = []
    for path in sorted(folder.glob("*.py")):
        names += [h.qualname for h in find_holes(path.read_text(encoding="utf-8"), path.name)]
    return names


def stale_files(topics: list[registry.Topic], course: Path) -> list[str]:
    """Files of ``course/`` that differ from freshly generated stubs."""
    stale = []
    for topic in topics:
        stubs = render_topic(topic)
        for name, text in stubs.items():
            path = course / topic.package / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        extra = {p.name for p in (course / topic.package).glob("*.py")} - set(stubs)
        stale += [str(course / topic.package / n) for n in sorted(extra)]
    return stale


def write_stubs(topics: list[registry.Topic], course: Path) -> list[str]:
    """(Re)write the stubs of ``topics`` under ``course``; return the files changed."""
    changed = []
    for topic in topics:
        (course / topic.package).mkdir(parents=True, exist_ok=True)
        for name, text in render_topic(topic).items():
            path = course / topic.package / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                changed.append(str(path))
    return changed


_NOT_IMPLEMENTED = re.compile(r"^t(\d\d) (\S+): not implemented yet")


def parse_not_implemented(message: str) -> tuple[str, str] | None:
    """``("01", "SimpleTokenizer.encode")`` for a stub's message, else ``None``."""
    match = _NOT_IMPLEMENTED.match(message)
    return (match[1], match[2]) if match else None

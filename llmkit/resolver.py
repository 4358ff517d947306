"""Decide, per topic and at run time, whose code answers ``import course.tNN_...``.

Every topic - stub, reference and later topics alike - imports earlier topics the
same way: ``from course.t02_bpe import BPETokenizer``. An import hook placed at
the front of ``sys.meta_path`` maps each ``course.tNN_*`` package to a folder:

* ``course``     the learner's own files (the default),
* ``solutions``  the reference implementation,
* any directory  a tree of topic folders, e.g. a submission's ``course/``.

The choice is a small spec string, read from ``LLMKIT_IMPL`` or given to
:func:`install` / :func:`session`::

    solutions                   every topic from the reference
    course,1-3=solutions        learner's code, but topics 1-3 from the reference
    /tmp/alice/course,2=solutions

This one mechanism runs the same checks on the reference or the learner's code,
grades a topic on the learner's own earlier topics, and swaps in the reference
for a failed prerequisite (fallback grading).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

ENV_VAR = "LLMKIT_IMPL"
_TOPIC_PACKAGE = re.compile(r"course\.(t(\d\d)_[a-z0-9_]+)")


def named_root(name: str) -> Path:
    """The folder holding the topic packages of ``course`` or ``solutions``."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"package {name!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def _root(source: str) -> Path:
    if source in ("course", "solutions"):
        return named_root(source)
    path = Path(source).expanduser().resolve()
    if not path.is_dir():
        raise ValueError(f"{ENV_VAR}: {source!r} is neither 'course', 'solutions' nor a directory")
    return path


def _topic_numbers(text: str) -> list[int]:
    lo, dash, hi = text.partition("-")
    try:
        first = int(lo.strip().lstrip("t"))
        last = int(hi.strip().lstrip("t")) if dash else first
    except ValueError:
        raise ValueError(f"{ENV_VAR}: {text!r} is not a topic number or range like 3 or 1-4") from None
    return list(range(first, last + 1))


class Choice:
    """A parsed spec: a default root plus per-topic overrides."""

    def __init__(self, spec: str = "course"):
        self.spec = spec
        self.default: Path = _root("course")
        self.overrides: dict[int, Path] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            topics, eq, source = item.rpartition("=")
            if eq:
                for n in _topic_numbers(topics):
                    self.overrides[n] = _root(source.strip())
            else:
                self.default = _root(item)

    def root_for(self, number: int) -> Path:
        return self.overrides.get(number, self.default)

    def __repr__(self) -> str:
        return f"Choice({self.spec!r})"


class _TopicFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder that serves ``course.tNN_*`` from the chosen root."""

    def __init__(self, choice: Choice):
        self.choice = choice

    def find_spec(self, fullname, path=None, target=None):
        match = _TOPIC_PACKAGE.fullmatch(fullname)
        if match is None:
            return None  # submodules resolve through the package's own __path__
        package, number = match[1], int(match[2])
        folder = self.choice.root_for(number) / package
        init = folder / "__init__.py"
        if not init.is_file():
            raise ModuleNotFoundError(
                f"topic t{number:02d} not found: {folder} has no __init__.py", name=fullname
            )
        return importlib.util.spec_from_file_location(
            fullname, init, submodule_search_locations=[str(folder)]
        )


_finder: _TopicFinder | None = None


def current() -> Choice:
    return _finder.choice if _finder else Choice("course")


def install(spec: str | Choice = "course") -> Choice:
    """Route ``course.tNN`` imports by ``spec`` from now on (idempotent)."""
    global _finder
    choice = spec if isinstance(spec, Choice) else Choice(spec)
    if _finder is None:
        _finder = _TopicFinder(choice)
        sys.meta_path.insert(0, _finder)
    else:
        _finder.choice = choice
    return choice


def install_from_env() -> Choice:
    """Install the hook from ``LLMKIT_IMPL``, unless a choice is already in force."""
    if _finder is not None:
        return _finder.choice
    return install(os.environ.get(ENV_VAR, "course") or "course")


def _forget_topics() -> dict[str, ModuleType]:
    """Drop every imported ``course.tNN*`` module; return what was dropped."""
    dropped = {
        name: sys.modules.pop(name)
        for name in list(sys.modules)
        if _TOPIC_PACKAGE.fullmatch(".".join(name.split(".")[:2]))
    }
    parent = sys.modules.get("course")
    for name in dropped:
        if name.count(".") == 1 and parent is not None and hasattr(parent, name.split(".")[1]):
            delattr(parent, name.split(".")[1])
    importlib.invalidate_caches()
    return dropped


@contextmanager
def session(spec: str | Choice):
    """Import topics under ``spec`` inside the block; restore the previous state after.

    Modules imported inside the block are private to it, so one process can
    probe the reference and the learner's code one after the other.
    """
    previous_choice = current()
    saved = _forget_topics()
    choice = install(spec)
    try:
        yield choice
    finally:
        _forget_topics()
        install(previous_choice)
        sys.modules.update(saved)
        parent = sys.modules.get("course")
        for name, module in saved.items():
            if name.count(".") == 1 and parent is not None:
                setattr(parent, name.split(".")[1], module)


def load(topic) -> Any:
    """Import a topic's package under the current choice (``topic`` is a registry Topic)."""
    return importlib.import_module(topic.import_name)

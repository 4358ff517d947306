"""What a topic's grade depends on, besides the submission: a fingerprint to re-grade only what changed.

A stored topic result stays valid while the submission, the mode and the kit's
side of the grading are unchanged. The kit's side of topic ``t`` is

* the code its checks run: the topic's hidden and public check files and every
  kit module they import, directly or not (``llmkit.values``, shared probes,
  another topic's check helpers...);
* its reference (the expected answers, and the fallback for later topics);
* the fingerprints of its prerequisites: their grades decide whether ``t`` is
  graded on the learner's prerequisite or on the reference one.

So fixing a check of t09 changes the fingerprints of t09 and of every topic
built on it, and of nothing else: a grader that stores the fingerprint with each
result and re-grades on a mismatch re-runs exactly the affected topics.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

from llmkit import registry

KIT_ROOT = Path(__file__).resolve().parent.parent
KIT_PACKAGES = ("llmkit", "checks", "autograder")


def _module_file(name: str, root: Path) -> Path | None:
    """The kit file of a dotted module name (``checks.t18_gpt_model``), or ``None`` outside the kit."""
    if name.split(".")[0] not in KIT_PACKAGES:
        return None
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # submodules imported by name
    return names


@cache
def check_files(topic: registry.Topic, root: Path = KIT_ROOT) -> tuple[Path, ...]:
    """The topic's check files and every kit module they import, directly or not."""
    start = [root / "autograder" / "hidden" / f"{topic.package}.py", root / "checks" / f"{topic.package}.py"]
    seen: set[Path] = set()
    todo = [p for p in start if p.is_file()]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += [f for name in _imports(path) if (f := _module_file(name, root)) is not None and f not in seen]
    return tuple(sorted(seen))


@cache
def fingerprint(topic: registry.Topic, root: Path = KIT_ROOT) -> str:
    """A short hash of everything on the kit's side that decides ``topic``'s grade."""
    h = hashlib.sha256()
    reference = sorted((root / "solutions" / topic.package).glob("*.py"))
    for path in (*check_files(topic, root), *reference):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for number in topic.prereqs:
        h.update(fingerprint(registry.get(number), root).encode())
    return h.hexdigest()[:16]

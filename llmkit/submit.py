"""``llmkit submit``: pack a learner's work into one zip to hand in.

The zip holds ``course/tNN_*/``: every topic folder's Python sources and
notebooks - what the learner wrote and explored - and nothing else: no
``__pycache__`` or notebook checkpoints, no data, checkpoints, plots or other
files (the README of each topic is the kit's own). ``llmkit grade`` and the
Gradescope autograder accept it as it is.

The grader refuses single files over 2 MB (``autograder.submission``); a
notebook over that size (usually because of embedded plots) goes in with its
outputs cleared, and the report says so.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 2 * 1024 * 1024  # the grader's per-file limit (autograder/submission.py; a kit test compares)
KEPT_SUFFIXES = (".py", ".ipynb")
SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
TOPIC_DIR = re.compile(r"t\d\d_[a-z0-9_]+")


class SubmitError(Exception):
    """Nothing to pack (one sentence saying why)."""


@dataclass
class Packed:
    target: Path
    files: list[str] = field(default_factory=list)  # names inside the zip
    left_out: list[tuple[str, int]] = field(default_factory=list)  # (path, bytes)
    given: int = 0  # the topics' README.md files: the kit's own, never handed in
    cleared: list[str] = field(default_factory=list)  # notebooks whose outputs were cleared to fit

    @property
    def size(self) -> int:
        return self.target.stat().st_size


def find_course(start: Path | None = None) -> Path:
    """The learner's ``course/`` folder: ``./course``, or the one the installed kit uses."""
    here = (start or Path.cwd()).resolve()
    for folder in (here / "course", here):
        if folder.is_dir() and any(TOPIC_DIR.fullmatch(p.name) for p in folder.iterdir() if p.is_dir()):
            return folder
    from llmkit.resolver import named_root

    try:
        return named_root("course")
    except ModuleNotFoundError:
        raise SubmitError(f"no course/ folder with topic folders (t01_...) in {here}: run this in your kit's "
                          f"folder, or pass --course") from None


def _cleared_notebook(path: Path) -> bytes:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return json.dumps(notebook, indent=1, ensure_ascii=False).encode("utf-8")


def pack(course: Path, target: Path) -> Packed:
    """Write ``target`` (a zip of ``course/tNN_*/`` sources and notebooks); say what went in and what did not."""
    topics = sorted(p for p in course.iterdir() if p.is_dir() and TOPIC_DIR.fullmatch(p.name))
    if not topics:
        raise SubmitError(f"{course} has no topic folders (t01_..., t02_...)")
    packed = Packed(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for topic in topics:
            for path in sorted(topic.rglob("*")):
                rel = path.relative_to(course)
                if not path.is_file() or any(part in SKIPPED_DIRS for part in rel.parts):
                    continue
                name = f"course/{rel.as_posix()}"
                size = path.stat().st_size
                if rel.parts[1:] == ("README.md",):
                    packed.given += 1
                    continue
                if path.is_symlink() or path.suffix not in KEPT_SUFFIXES:
                    packed.left_out.append((name, size))
                    continue
                data = path.read_bytes()
                if path.suffix == ".ipynb" and size > MAX_FILE_BYTES:
                    data = _cleared_notebook(path)
                    packed.cleared.append(name)
                if len(data) > MAX_FILE_BYTES:
                    packed.left_out.append((name, size))
                    continue
                zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                            compress_type=zipfile.ZIP_DEFLATED)
                packed.files.append(name)
    tmp.replace(target)
    return packed


def human(size: int) -> str:
    """``1536`` -> ``1.5 KB``."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def summary(packed: Packed, shown: int = 10) -> list[str]:
    """What ``llmkit submit`` prints: what went in, what was left out and why, the zip's size."""
    topics = sorted({name.split("/")[1] for name in packed.files})
    lines = [f"wrote {packed.target} ({human(packed.size)}): {len(packed.files)} files from {len(topics)} "
             f"topic folders"]
    for name in packed.cleared:
        lines.append(f"  {name}: over {human(MAX_FILE_BYTES)}, packed with its outputs cleared")
    if packed.left_out:
        total = sum(size for _, size in packed.left_out)
        count = len(packed.left_out)
        lines.append(f"left out {count} file{'s' if count != 1 else ''} ({human(total)}): only .py sources and "
                     f"notebooks are handed in")
        big_first = sorted(packed.left_out, key=lambda item: -item[1])
        lines += [f"  {name} ({human(size)})" for name, size in big_first[:shown]]
        if len(packed.left_out) > shown:
            lines.append(f"  ... and {len(packed.left_out) - shown} more")
    return lines

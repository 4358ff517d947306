"""Unpack a submission - a folder, a git checkout or a ``.zip`` - into the work area.

Nothing from a submission is trusted: entries with absolute paths or ``..``,
symbolic links, special files, oversized files and archives with too many
entries are skipped (each with a note) and nothing is ever written outside
``work/<submission id>/``. Only regular files are copied, never followed links.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_FILE_BYTES = 2 * 1024 * 1024  # one source file
MAX_TOTAL_BYTES = 64 * 1024 * 1024  # the whole submission, unpacked
MAX_FILES = 5000
MAX_NAME_BYTES = 255  # one path component (NAME_MAX of common Linux file systems)
MAX_PATH_BYTES = 1024  # a whole relative path: far below PATH_MAX (4096) once under the work folder
SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".venv", "venv", "node_modules"}
_TOPIC_DIR = re.compile(r"t\d\d_[a-z0-9_]+")


class SubmissionError(Exception):
    """The submission cannot be graded at all (one sentence saying why)."""


@dataclass
class Submission:
    id: str  # safe name used for output files, e.g. "alice"
    source: str  # what the instructor passed
    root: Path  # unpacked copy inside the work area
    course: Path | None = None  # the folder holding tNN_* topic folders
    notes: list[str] = field(default_factory=list)  # skipped entries and other warnings
    digest: str = ""  # content hash of the course tree (resume only when unchanged)
    error: str = ""  # set when the submission cannot be graded at all


def submission_id(source: Path, taken: set[str]) -> str:
    """A file-system-safe, unique id derived from the submission's name."""
    name = source.name[:-4] if source.name.lower().endswith(".zip") else source.name
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "submission"
    sid, n = base, 2
    while sid in taken:
        sid, n = f"{base}-{n}", n + 1
    taken.add(sid)
    return sid


class _Budget:
    """Running totals that stop an unpack before it grows past the limits."""

    def __init__(self, notes: list[str]):
        self.files = 0
        self.bytes = 0
        self.notes = notes

    def admit(self, name: str, size: int) -> bool:
        if size > MAX_FILE_BYTES:
            self.notes.append(f"skipped {name}: {size:,} bytes is over the {MAX_FILE_BYTES:,}-byte file limit")
            return False
        if self.files + 1 > MAX_FILES or self.bytes + size > MAX_TOTAL_BYTES:
            raise SubmissionError(f"the submission is too large (over {MAX_FILES} files or "
                                  f"{MAX_TOTAL_BYTES // 2**20} MB unpacked)")
        self.files += 1
        self.bytes += size
        return True


def _shown(name: object, limit: int = 80) -> str:
    """A learner-chosen name as it may appear in a note: printable, quoted, length-capped."""
    text = repr(str(name))
    return text if len(text) <= limit else text[:limit - 4] + "...'"


def _too_long(rel: PurePosixPath) -> str | None:
    """Why ``rel`` cannot be written on the grader's file system, or ``None``."""
    if any(len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for part in rel.parts):
        return f"a name in it is longer than {MAX_NAME_BYTES} bytes"
    if len(str(rel).encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        return f"the path is longer than {MAX_PATH_BYTES} bytes"
    return None


def _write_entry(target: Path, rel: PurePosixPath, src, notes: list[str], limit_note: str) -> None:
    """Write one regular file of a submission below ``target``; any failure becomes a note."""
    if (why := _too_long(rel)) is not None:
        notes.append(f"skipped {_shown(rel)}: {why}")
        return
    dest = target.joinpath(*rel.parts)
    try:
        for parent in reversed(dest.parents):
            if target in parent.parents and (parent.is_symlink() or parent.exists() and not parent.is_dir()):
                notes.append(f"skipped {_shown(rel)}: {_shown(parent.relative_to(target))} is a file, not a folder")
                return
        if dest.is_symlink() or dest.is_dir():
            notes.append(f"skipped {_shown(rel)}: a folder of that name is already in the submission")
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not _copy_limited(src, dest, MAX_FILE_BYTES):
            notes.append(f"skipped {_shown(rel)}: {limit_note}")
    except (OSError, ValueError) as exc:
        notes.append(f"skipped {_shown(rel)}: cannot be written ({type(exc).__name__})")


def _safe_relative(name: str) -> PurePosixPath | None:
    """The entry's path if it stays inside the archive root, else ``None``."""
    name = name.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in path.parts:
        return None
    parts = [p for p in path.parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def _copy_limited(src, dest: Path, limit: int) -> bool:
    """Stream ``src`` into ``dest``; stop (and delete) when more than ``limit`` bytes arrive."""
    written = 0
    with open(dest, "wb") as out:
        while chunk := src.read(65536):
            written += len(chunk)
            if written > limit:
                break
            out.write(chunk)
    if written > limit:
        dest.unlink()
        return False
    return True


def _unzip(archive: Path, target: Path, notes: list[str]) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{_shown(archive.name)} is not a readable zip file ({type(exc).__name__})") from None
    budget = _Budget(notes)
    with zf:
        entries = zf.infolist()
        if len(entries) > MAX_FILES:
            raise SubmissionError(f"{_shown(archive.name)} has {len(entries):,} entries (limit {MAX_FILES})")
        for info in entries:
            rel = _safe_relative(info.filename)
            mode = info.external_attr >> 16
            if rel is None:
                notes.append(f"skipped {_shown(info.filename)}: path leads outside the submission")
                continue
            if info.is_dir():
                continue
            if stat.S_ISLNK(mode):
                notes.append(f"skipped {_shown(rel)}: symbolic links are not accepted")
                continue
            if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                notes.append(f"skipped {_shown(rel)}: not a regular file")
                continue
            if any(part in SKIP_DIRS for part in rel.parts) or not budget.admit(_shown(rel), info.file_size):
                continue
            try:
                with zf.open(info) as src:
                    _write_entry(target, rel, src, notes, "larger than its header says (over the file limit)")
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError, EOFError) as exc:
                notes.append(f"skipped {_shown(rel)}: cannot be extracted ({type(exc).__name__})")


def _copy_tree(folder: Path, target: Path, notes: list[str]) -> None:
    budget = _Budget(notes)
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        for d in list(dirnames):
            if d in SKIP_DIRS:
                dirnames.remove(d)
            elif (here / d).is_symlink():
                notes.append(f"skipped {_shown((here / d).relative_to(folder))}: symbolic links are not accepted")
                dirnames.remove(d)
        for name in filenames:
            path = here / name
            rel = PurePosixPath(path.relative_to(folder).as_posix())
            try:
                info = path.lstat()
                if stat.S_ISLNK(info.st_mode):
                    notes.append(f"skipped {_shown(rel)}: symbolic links are not accepted")
                    continue
                if not stat.S_ISREG(info.st_mode) or not budget.admit(_shown(rel), info.st_size):
                    continue
                with open(path, "rb") as src:
                    _write_entry(target, rel, src, notes, "grew past the file limit while copying")
            except OSError as exc:
                notes.append(f"skipped {_shown(rel)}: cannot be read ({type(exc).__name__})")


def find_course(root: Path) -> Path | None:
    """The folder of topic folders: ``course/``, the root itself, or either one level down."""
    def has_topics(folder: Path) -> bool:
        try:
            return folder.is_dir() and any(_TOPIC_DIR.fullmatch(p.name) and p.is_dir() for p in folder.iterdir())
        except OSError:
            return False

    candidates = [root / "course", root]
    try:
        subdirs = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    except OSError:
        subdirs = []
    if len(subdirs) == 1:
        candidates += [subdirs[0] / "course", subdirs[0]]
    return next((c for c in candidates if has_topics(c)), None)


def digest(course: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(course.rglob("*")):
        if path.is_file() and not path.is_symlink():
            h.update(str(path.relative_to(course)).encode("utf-8", "surrogateescape") + b"\0"
                     + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def unpack(source: Path, work: Path, sid: str) -> Submission:
    """Copy ``source`` into ``work/sid/src`` and locate its course tree; never raises.

    Whatever is wrong with the source - a broken archive, names the file system
    refuses, a file where a folder should be - ends as a note or as this
    submission's ``error``, never as an exception that would stop the class.
    """
    sub = Submission(sid, str(source), work / sid / "src")
    try:
        if sub.root.exists():
            shutil.rmtree(sub.root)
        sub.root.mkdir(parents=True)
        if source.is_dir():
            _copy_tree(source, sub.root, sub.notes)
        elif source.is_file() and source.suffix.lower() == ".zip":
            _unzip(source, sub.root, sub.notes)
        elif source.exists():
            raise SubmissionError(f"{_shown(source.name)}: expected a folder or a .zip file")
        else:
            raise SubmissionError(f"{_shown(source, 200)}: no such file or folder")
        sub.course = find_course(sub.root)
        if sub.course is None:
            raise SubmissionError("no course/ folder with topic folders (t01_..., t02_...) found")
        sub.digest = digest(sub.course)
    except SubmissionError as exc:
        sub.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - one submission must never stop the others
        sub.course, sub.digest = None, ""
        sub.error = f"the submission could not be unpacked ({type(exc).__name__}: {_shown(exc, 200)})"
    return sub


def unreadable_source(folder: Path) -> str | None:
    """Why a topic folder's Python files cannot be imported as text, or ``None``."""
    for path in sorted(folder.glob("*.py")):
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            byte = exc.object[exc.start]
            return f"{folder.name}/{path.name} is not UTF-8 text (byte {byte:#04x} at offset {exc.start})"
    return None

"""Write a file so that a crash or a reader never sees half of it."""

import os
from pathlib import Path


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``: a temporary file beside it, then one ``os.replace``.

    A crash mid-write leaves the old file or the new one, never a torn one; the
    temporary name carries the process id so two writers never share it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path

"""Run one worker process under limits, as isolated as this machine allows.

Three levels, chosen by :func:`detect` (``--sandbox`` overrides):

``namespaces``  (root with ``unshare``) new network, mount and PID namespaces:
                no network, the kit's ``solutions/``, ``autograder/``, ``tests/``
                and the grading output are covered by empty unreadable mounts,
                a private ``/proc``, and the worker runs as its own unprivileged
                uid (so process-count limits bite and workers cannot read each
                other's folders). Killing the worker kills every process it
                started, even ones that called ``setsid``.
``userns``      (no root, but user namespaces allowed) the same namespaces,
                without the uid switch and process-count limit.
``none``        a plain child process: limits and a scrubbed environment only.
                Learner code could read the reference and use the network: use
                it only for trusted code; the grader warns.

Every level: scrubbed environment, private working folder, address-space,
CPU-time, file-size and open-file limits, a wall-clock timeout, and stdout /
stderr captured to size-limited files.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

WORKER_UID_BASE = 61000  # unprivileged uids for workers (namespaces level)


@dataclass(frozen=True)
class Limits:
    """Per-worker limits. Each is a grading decision: generous for correct code, tight for runaways.

    * ``wall_s`` / ``cpu_s``: a topic's hidden checks take under 1 s on the reference
      (``benchmarks/check_times.py``) plus ~2 s to start Python and import torch; 180 s
      is over 50x that, so a slow but correct learner (loops instead of tensor ops) still
      passes on a busy machine, while an infinite loop costs one topic three minutes.
    * ``memory_mb``: torch alone maps ~1 GiB of address space; the largest probe builds
      models of a few MB. 3 GiB leaves room for a wasteful implementation and stops a
      learner who allocates GPT-2 small (~0.5 GB per copy) in a loop before the machine swaps.
    * ``output_mb``: stdout/stderr are only kept for their last lines; 16 MB stops a print loop
      from filling the disk.
    * ``processes``: torch starts one thread per core plus a few helpers; 256 (threads count
      too) stops a fork bomb. Only enforced with a worker uid (``namespaces`` level).
    """

    wall_s: float = 180.0
    cpu_s: int = 180
    memory_mb: int = 3072
    output_mb: int = 16
    processes: int = 256


@dataclass
class WorkerRun:
    returncode: int
    timed_out: bool
    stdout_tail: str
    stderr_tail: str


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@cache
def detect(requested: str = "auto") -> str:
    """The sandbox level to use: ``namespaces``, ``userns`` or ``none``."""
    if requested != "auto":
        return requested
    if not shutil.which("unshare"):
        return "none"
    if os.geteuid() == 0 and shutil.which("setpriv") and _works(
            ["unshare", "--net", "--mount", "--pid", "--fork", "true"]):
        return "namespaces"
    if _works(["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "true"]):
        return "userns"
    return "none"


_MOUNT_AND_EXEC = (
    # Inside the new namespaces: cover each hidden folder with an empty, mode-000
    # tmpfs, then exec the worker command (everything after "--").
    'while [ "$1" != "--" ]; do mount -t tmpfs -o size=16k,mode=000 llmkit-hidden "$1" || exit 97; '
    'shift; done; shift; exec "$@"'
)


def command(level: str, python_args: list[str], hide: list[Path], uid: int | None) -> list[str]:
    """The full argv that starts ``python -I -S python_args...`` at ``level``."""
    python = [sys.executable, "-I", "-S", *python_args]
    if level == "none":
        return python
    namespaces = ["unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]
    if level == "userns":
        namespaces.insert(1, "--user")
        namespaces.insert(2, "--map-root-user")
    # Drop every capability, so the worker cannot unmount what hides the reference.
    drop = ["setpriv", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]
    if level == "namespaces" and uid is not None:
        drop += [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    inner = [*drop, *python]
    return [*namespaces, "--", "/bin/sh", "-c", _MOUNT_AND_EXEC, "sh", *map(str, hide), "--", *inner]


def _limit(limits: Limits, level: str):
    def apply() -> None:
        mb = 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if level == "namespaces":  # counted per uid, and each worker has its own
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))

    return apply


def _tail(f, chars: int = 2000) -> str:
    """The end of a capture file, read through the grader's own handle.

    Never reopened by name: the worker owns its folder and could have replaced
    the file with a link to something the grader can read but it may not.
    """
    try:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - chars))
        return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def scrubbed_env(home: Path) -> dict[str, str]:
    """A minimal environment: nothing of the instructor's leaks into the worker."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }


def run(level: str, python_args: list[str], folder: Path, limits: Limits,
        hide: list[Path], uid: int | None) -> WorkerRun:
    """Start the worker in ``folder`` and wait for it, killing it at the wall-clock limit."""
    if level == "namespaces" and uid is not None:
        os.chown(folder, uid, uid)
        for path in folder.rglob("*"):
            os.chown(path, uid, uid, follow_symlinks=False)
    stdout, stderr = folder / "stdout.txt", folder / "stderr.txt"
    with open(stdout, "w+b") as out, open(stderr, "w+b") as err:
        proc = subprocess.Popen(command(level, python_args, hide, uid), cwd=folder, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, env=scrubbed_env(folder),
                                preexec_fn=_limit(limits, level), start_new_session=True)
        timed_out = False
        try:
            proc.wait(timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # The whole process group; in namespaces, killing unshare kills every process it started.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        return WorkerRun(proc.returncode, timed_out, _tail(out), _tail(err))

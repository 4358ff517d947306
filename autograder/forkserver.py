"""One sandboxed Python per submission that imports torch once and forks a fresh child per topic run.

The grader's side of ``worker.py --serve``. Starting Python and importing torch
costs about a second; a class of 36-topic submissions would pay it for every
topic. A :class:`ForkServer` pays it once per submission: it is a ``bwrap``
sandbox (``sandbox.bwrap_command``) whose Python imports torch, the kit
runtime and what the probes needed on the reference, and then waits. Each
:meth:`ForkServer.run` hands it, over a Unix socket, a small JSON request and
five file descriptors:

* ``files``   a memory file holding a tar of the run's staged files (the learner's
  topic folders, the reference of replaced prerequisites, this topic's hidden
  probes); only the run's own probe process reads it, so the fork server never
  holds another run's reference in memory for a later child to inherit;
* ``result``, ``stdout``, ``stderr``: memory files the grader created and reads
  back through its own descriptors after the run (no path, so no link games);
* ``status``: a pipe on which the fork server (the runs' trusted monitor) writes
  one line - did learner code start, how did the probe process end, did it time out.

Learner code can reach none of the grader's descriptors, the socket or the
status pipe: the probe process closes every descriptor but its captures and
its result file before it drops privileges.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import socket
import subprocess
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import sandbox

#: Seconds a run may take beyond the worker's own wall-clock limit (unpacking, forking,
#: reporting) before the grader gives up on the fork server as broken.
MONITOR_GRACE_S = 60.0
START_TIMEOUT_S = 120.0


class ServerFault(Exception):
    """The fork server did not start or stopped answering: a fault of the grader, not of learner code."""


@dataclass
class RunOutcome:
    run: sandbox.WorkerRun
    result: str | None  # the worker's result JSON, or None when it wrote none
    result_error: str = ""  # why the result could not be read (too large, not UTF-8)


def _memfd(name: str) -> int:
    return os.memfd_create(name, os.MFD_CLOEXEC)


def _tail(fd: int, chars: int = 2000) -> str:
    try:
        size = os.fstat(fd).st_size
        start = max(0, size - chars)
        return os.pread(fd, size - start, start).decode("utf-8", errors="replace")
    except OSError:
        return ""


def tar_files(entries: list[tuple[Path, str]]) -> bytes:
    """A tar of regular files: ``(source file, name inside the run's private folder)``, readable by any uid."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for source, name in entries:
            info = tar.gettarinfo(str(source), arcname=name)
            if not info.isreg():
                continue
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o644
            with open(source, "rb") as f:
                tar.addfile(info, f)
    return buffer.getvalue()


class ForkServer:
    """A sandboxed fork server for one submission (see the module docstring)."""

    def __init__(self, view: sandbox.View, kit: Path, name: str = "llmkit", preload: list[str] | None = None):
        self.name = name
        self._sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._log = _memfd(f"{name}-server-log")
        config = json.dumps({"site_dirs": view.site_dirs, "under_tmp": view.under_tmp, "preload": preload or []})
        argv = sandbox.bwrap_command(view, kit, ["--serve", str(child.fileno()), config], sandbox.Limits())
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                         env=sandbox.scrubbed_env("/tmp"), pass_fds=(child.fileno(),),
                                         start_new_session=True)
        finally:
            child.close()
        self._send_lock = threading.Lock()
        self._ready_lock = threading.Lock()
        self._ready = False
        self.info: dict = {}  # what the server said when ready (threads: must be 1 for safe forks)
        self.dead = ""

    # -- life cycle -------------------------------------------------------------

    def _log_line(self) -> str:
        lines = [line.strip() for line in _tail(self._log, 4000).splitlines() if line.strip()]
        return lines[-1][:300] if lines else ""

    def _fail(self, why: str) -> ServerFault:
        detail = self._log_line()
        self.close()
        self.dead = why + (f" ({detail})" if detail else "")
        return ServerFault(self.dead)

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Block until the sandboxed Python has imported torch (once; thread-safe)."""
        with self._ready_lock:
            if self._ready:
                return
            if self.dead:
                raise ServerFault(self.dead)
            deadline = time.monotonic() + timeout
            data = b""
            while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
                left = deadline - time.monotonic()
                readable = select.select([self._sock], [], [], max(0.0, left))[0] if left > 0 else []
                if not readable:
                    raise self._fail(f"the sandbox did not start within {timeout:.0f} s")
                chunk = self._sock.recv(65536)
                if not chunk:
                    raise self._fail("the sandbox stopped while starting Python and torch")
                data += chunk
            self.info = json.loads(data[4:4 + int.from_bytes(data[:4], "big")])
            self._ready = True

    def close(self) -> None:
        """Kill the sandbox: bwrap's PID namespace, with every process in it, goes with it."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not fail
            pass
        self._sock.close()
        if not self.dead:
            self.dead = "the sandbox was closed"
        try:
            os.close(self._log)
        except OSError:
            pass
        self._log = -1

    # -- one run ----------------------------------------------------------------

    def run(self, request: dict, files: bytes, limits: sandbox.Limits, max_result: int) -> RunOutcome:
        """Probe one topic in a fresh child; raises :class:`ServerFault` when the server is broken."""
        self.wait_ready()
        request = {**request, "work_bytes": len(files) + 2**20,
                   "limits": {"wall_s": limits.wall_s, "cpu_s": limits.cpu_s, "memory_mb": limits.memory_mb,
                              "output_mb": limits.output_mb, "processes": limits.processes,
                              "tmp_mb": limits.tmp_mb}}
        body = json.dumps(request).encode()
        files_fd, result_fd, out_fd, err_fd = (_memfd(f"{self.name}-{n}") for n in ("files", "result", "out", "err"))
        status_r, status_w = os.pipe()
        try:
            os.write(files_fd, files)
            os.lseek(files_fd, 0, os.SEEK_SET)
            try:
                with self._send_lock:
                    socket.send_fds(self._sock, [len(body).to_bytes(4, "big")],
                                    [files_fd, result_fd, out_fd, err_fd, status_w])
                    self._sock.sendall(body)
            except OSError as exc:
                raise self._fail(f"the sandbox stopped accepting work ({exc.strerror or exc})") from None
            finally:
                os.close(status_w)
                status_w = -1
                os.close(files_fd)
                files_fd = -1
            report = self._status(status_r, limits.wall_s + MONITOR_GRACE_S)
            run = sandbox.WorkerRun(report["code"] if report["code"] is not None else -1, bool(report["timed_out"]),
                                    _tail(out_fd), _tail(err_fd), bool(report["started"]))
            result, error = None, ""
            if not run.timed_out:
                size = os.fstat(result_fd).st_size
                if size > max_result:
                    error = "results too large"
                elif size:
                    try:
                        result = os.pread(result_fd, size, 0).decode("utf-8")
                    except UnicodeDecodeError:
                        error = "results are not UTF-8"
            return RunOutcome(run, result, error)
        finally:
            for fd in (files_fd, status_w, status_r, result_fd, out_fd, err_fd):
                if fd >= 0:
                    os.close(fd)

    def _status(self, fd: int, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise self._fail(f"a topic run did not report within {timeout:.0f} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self._fail("the sandbox stopped during a topic run")
            data += chunk
        report = json.loads(data)
        if report.get("error"):
            raise ServerFault(f"the sandbox could not prepare the topic run: {report['error'][:300]}")
        return report

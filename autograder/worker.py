"""The worker: runs one topic's hidden-check *probes* on a learner's code.

It never compares anything - the grader does, in its own process, against
reference outputs the worker never sees. For each check it returns the probe's
status and its plain output, JSON-encoded.

Two ways to start it (both inside the sandbox, ``python -I -S worker.py ...``):

``worker.py --serve FD CONFIG``  (``bwrap`` level) a *fork server* for one
    submission: imports torch, the kit runtime (staged read-only at ``/kit``) and
    whatever else the probes needed on the reference, once; then waits on the
    socket ``FD`` for topic runs. For each run it forks (once: torch makes a fork
    costly) the *probe process* as PID 1 of a new PID namespace. That process
    enters new mount, IPC and network namespaces, unpacks the run's staged files
    (the learner's topic folders, the reference of replaced prerequisites, this
    topic's hidden probes) into a private read-only ``/llmkit-run``, mounts a
    private size-limited ``/tmp`` and ``/dev/shm`` and its own ``/proc``, drops to
    the run's unprivileged uid and every capability, says "ready" (the grader's
    own code is done), and only then imports learner code. The fork server is the
    runs' monitor: it notes "ready", kills a run at its wall-clock limit, reaps it
    and reports on the run's status pipe. When a run ends the kernel kills
    everything left in its PID namespace, and its mounts vanish with it. The fork
    server never runs learner code and never reads a run's files: they arrive as
    a file descriptor only that run's process reads, so no later run inherits
    another run's reference in its memory.
``worker.py request.json``  (weaker levels) one topic run in a prepared folder.
"""

import ctypes
import json
import os
import sys

# ----------------------------------------------------------------------------- probing (both modes)


def probe(spec: str, topic_number: int, seed: int, ready) -> dict:
    """Run a topic's hidden probes on ``spec``; call ``ready()`` just before learner code runs."""
    from llmkit import registry, resolver
    from llmkit.checks import hidden_checks, run_probes
    from llmkit.values import encode

    resolver.install(spec)
    topic = registry.get(topic_number)
    checks = hidden_checks(topic)
    ready()
    outcomes = run_probes(topic, checks, seed)
    return {name: {"status": o.status, "value": encode(o.value), "message": o.message[:2000],
                   "seconds": o.seconds} for name, o in outcomes.items()}


def main(request_path: str) -> int:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    # -S skipped site-packages processing (and with it any editable-install hook
    # that could import the reference); add the interpreter's packages explicitly.
    sys.path[:0] = [request["kit"]]
    sys.path += request["site_packages"]

    import torch

    torch.set_num_threads(1)
    ready_fd = int(os.environ.get("LLMKIT_READY_FD", "-1"))

    def ready() -> None:
        if ready_fd >= 0:
            os.write(ready_fd, b"R")
            os.close(ready_fd)

    payload = probe(request["spec"], request["topic"], request["seed"], ready)
    tmp = request["result"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(payload, f)
    os.replace(tmp, request["result"])
    return 0


# ----------------------------------------------------------------------------- the fork server (bwrap)

RUN_DIR = "/llmkit-run"  # a run's private staged files (sandbox.RUN_DIR)
FRESH_TMP = "/llmkit-tmp"  # where a run's /tmp is built before it moves into place (sandbox.FRESH_TMP)
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
#: Exit code of a probe process that stopped in the grader's own code (a grader fault).
SETUP_FAILED = 90
_RESULT_FD = -1


def result_fd() -> int:
    """Where this probe process's results go (a memory file the grader reads after it ends)."""
    return _RESULT_FD


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


class _Libc:
    def __init__(self):
        self.ctypes = ctypes
        self.lib = ctypes.CDLL(None, use_errno=True)

    def _check(self, result: int, what: str) -> None:
        if result != 0:
            err = self.ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    def unshare(self, flags: int) -> None:
        self._check(self.lib.unshare(flags), "unshare")

    def setns(self, fd: int, kind: int) -> None:
        self._check(self.lib.setns(fd, kind), "setns")

    def mount(self, source, target: str, fstype, flags: int, data=None) -> None:
        def enc(s):
            return None if s is None else s.encode()

        self._check(self.lib.mount(enc(source), enc(target), enc(fstype), self.ctypes.c_ulong(flags),
                                   enc(data)), f"mount {target}")

    def prctl(self, option: int, arg: int, arg2: int = 0) -> int:
        c = self.ctypes.c_ulong
        return self.lib.prctl(option, c(arg), c(arg2), c(0), c(0))

    def drop_capabilities(self) -> None:
        """Empty every capability set of this process (a no-op after a switch away from uid 0)."""
        header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()  # _LINUX_CAPABILITY_VERSION_3
        self._check(self.lib.capset(ctypes.byref(header), data), "capset")


def _send(sock, obj: dict) -> None:
    data = json.dumps(obj).encode()
    sock.sendall(len(data).to_bytes(4, "big") + data)


def _unpack(fd: int, target: str) -> None:
    """Unpack the run's staged files (a tar the grader wrote) into ``target``."""
    import tarfile

    with os.fdopen(fd, "rb") as f, tarfile.open(fileobj=f, mode="r:") as tar:
        tar.extractall(target, filter="data")


def _effective_capabilities() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return -1


def _fresh_tmp(libc: _Libc, options: str, under_tmp: list) -> None:
    """A new, empty /tmp for this run, keeping whatever of the interpreter's view lies under /tmp."""
    libc.mount("llmkit-tmp", FRESH_TMP, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for item in under_tmp:
        kind, path = item[0], item[1]
        inside = FRESH_TMP + path[len("/tmp"):]
        os.makedirs(os.path.dirname(inside), mode=0o755, exist_ok=True)
        if kind == "link":
            os.symlink(item[2], inside)
            continue
        if os.path.isdir(path):
            os.mkdir(inside, 0o755)
        else:
            open(inside, "x").close()
        libc.mount(path, inside, None, MS_BIND | MS_REC)
        libc.mount(None, inside, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    libc.mount(FRESH_TMP, "/tmp", None, MS_MOVE)


def _prepare_view(request: dict, fds: dict, libc: _Libc, settings: dict) -> None:
    """This run's own namespaces: its staged files at RUN_DIR, a fresh /tmp and /dev/shm, its /proc."""
    libc.unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET)
    libc.mount(None, "/", None, MS_REC | MS_PRIVATE)
    limits = request["limits"]
    libc.mount("llmkit-run", RUN_DIR, "tmpfs", MS_NOSUID | MS_NODEV,
               f"size={request['work_bytes']},nr_inodes={request.get('work_files', 10000) + 100},mode=0755")
    _unpack(fds["files"], RUN_DIR)
    libc.mount(None, RUN_DIR, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    # like any /tmp, but this run's alone; inodes are capped too (they cost kernel memory, not size)
    tmp = f"size={limits['tmp_mb']}m,nr_inodes=65536,mode=1777"
    _fresh_tmp(libc, tmp, settings.get("under_tmp", []))
    if os.path.isdir("/dev/shm"):
        libc.mount("llmkit-shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, tmp)
    # this process is PID 1 of a namespace of its own: its /proc goes on top of the fork server's
    # (a user namespace may mount a proc only while another one is fully visible; the one below
    # cannot be uncovered without privileges this process is about to give up)
    libc.mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def _lock_down(request: dict, fds: dict, ready_w: int, libc: _Libc) -> None:
    """Limits, then the run's uid and no capability at all; only the captures and the result stay open."""
    import resource

    keep = {0, 1, 2, fds["result"], ready_w}
    for fd in os.listdir("/proc/self/fd"):
        if int(fd) not in keep:
            try:
                os.close(int(fd))
            except OSError:
                pass
    limits = request["limits"]
    mb = 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"] + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["output_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    uid = request.get("uid")
    if uid is not None:  # counted per uid, and each concurrent run has its own
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
    for cap in range(64):  # the bounding set: no exec can ever bring a capability back
        libc.prctl(PR_CAPBSET_DROP, cap)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    libc.drop_capabilities()
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1)
    if _effective_capabilities() != 0 or (uid is not None and os.getuid() != uid):
        raise RuntimeError("could not drop privileges")
    os.chdir("/tmp")
    os.environ.update({"HOME": "/tmp", "TMPDIR": "/tmp"})


def _probe_process(request: dict, fds: dict, ready_w: int, libc: _Libc, settings: dict) -> None:
    """PID 1 of the run's own namespaces: set up, lock down, say ready, probe. Never returns."""
    global _RESULT_FD
    code = SETUP_FAILED
    try:
        os.dup2(fds["stdout"], 1)  # from here on, what goes wrong shows in this run's captures
        os.dup2(fds["stderr"], 2)
        _prepare_view(request, fds, libc, settings)
        _lock_down(request, fds, ready_w, libc)
        _RESULT_FD = fds["result"]
        import autograder.hidden

        autograder.hidden.__path__[:] = [RUN_DIR + "/hidden"]  # this topic's hidden probes only

        def ready() -> None:
            os.write(ready_w, b"R")
            os.close(ready_w)

        code = 1
        payload = probe(request["spec"], request["topic"], request["seed"], ready)
        data = json.dumps(payload).encode()
        os.ftruncate(_RESULT_FD, 0)
        os.pwrite(_RESULT_FD, data, 0)
        code = 0
    except BaseException:  # noqa: BLE001 - whatever happened, this process must end here
        import traceback

        try:
            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        try:
            sys.stdout.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(code)


class _Run:
    """A running topic run, as the fork server (its monitor) sees it."""

    def __init__(self, pid: int, ready_r: int, status: int, deadline: float):
        self.pid, self.ready_r, self.status, self.deadline = pid, ready_r, status, deadline
        self.pidfd = os.pidfd_open(pid)
        self.started = self.timed_out = False

    def finish(self, error: str = "") -> None:
        import signal

        if not self.timed_out:
            try:
                os.kill(self.pid, signal.SIGKILL)  # PID 1 of its namespace: everything in it goes too
            except ProcessLookupError:
                pass
        _, wait_status = os.waitpid(self.pid, 0)
        if self.ready_r >= 0:
            os.set_blocking(self.ready_r, False)
            try:
                self.started = self.started or os.read(self.ready_r, 1) == b"R"
            except OSError:
                pass
        report = {"started": self.started, "code": os.waitstatus_to_exitcode(wait_status),
                  "timed_out": self.timed_out, "error": error}
        try:
            os.write(self.status, (json.dumps(report) + "\n").encode())
        except OSError:
            pass
        for fd in (self.pidfd, self.ready_r, self.status):
            if fd >= 0:
                os.close(fd)


def _start(request: dict, fds: dict, libc: _Libc, settings: dict, own_pid_ns: int, sock) -> _Run:
    """Fork the run's probe process as PID 1 of a new PID namespace (one fork: torch is big to copy)."""
    import time

    ready_r, ready_w = os.pipe()
    deadline = time.monotonic() + request["limits"]["wall_s"]
    libc.unshare(CLONE_NEWPID)  # the next child starts a new PID namespace...
    try:
        pid = os.fork()
        if pid == 0:
            sock.close()
            os.close(ready_r)
            os.close(fds["status"])
            _probe_process(request, fds, ready_w, libc, settings)
    finally:  # (the child never gets here: it ends in os._exit)
        libc.setns(own_pid_ns, CLONE_NEWPID)  # ...and only that one
    os.close(ready_w)
    for name in ("files", "result", "stdout", "stderr"):
        os.close(fds[name])
    return _Run(pid, ready_r, fds["status"], deadline)


def _receive(sock):
    """One request and its descriptors, or ``None`` when the grader has closed the socket."""
    import socket

    header = 4
    try:
        data, fds, _flags, _addr = socket.recv_fds(sock, header, 8)
        while data and len(data) < header:
            more = sock.recv(header - len(data))
            if not more:
                return None
            data += more
    except OSError:
        return None
    if not data:
        return None
    size = int.from_bytes(data, "big")
    body = b""
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            return None
        body += chunk
    return json.loads(body), fds


def _preload(names: list[str]) -> None:
    """Import what the probes needed on the reference (kit runtime, public check helpers, third-party
    modules, torch's lazily imported parts such as ``torch._dynamo``), once for every run to inherit.

    Only kit and library code: topic packages are never among the names. A module that cannot be
    imported here (outside the view, or needing a topic) is left to the run that needs it.
    """
    import importlib

    for name in names:
        if name.split(".")[0] in ("course", "solutions", "autograder", "tests"):
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - a failed preload only costs the run its own import
            pass


def serve(sock_fd: int, config: str) -> int:
    """The fork server: import once, then start a probe process per topic run and watch over it.

    It is the runs' monitor too: it notes when a run says "ready", kills a run at its
    wall-clock limit, reaps it and reports on the run's status pipe - all from one
    thread, so forking stays safe.
    """
    import gc
    import select
    import signal
    import socket
    import time

    settings = json.loads(config)
    sys.path[:0] = ["/kit"]
    sys.path += settings["site_dirs"]
    sock = socket.socket(fileno=sock_fd)

    import torch

    torch.set_num_threads(1)
    import llmkit.checks  # noqa: F401 - the kit runtime every run uses
    import llmkit.probing  # noqa: F401
    import llmkit.values  # noqa: F401

    _preload(settings.get("preload", []))
    libc = _Libc()
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    gc.freeze()  # children inherit every object; a frozen heap is not walked (and copied) by their GC
    _send(sock, {"ready": True, "threads": len(os.listdir("/proc/self/task"))})
    runs: dict[int, _Run] = {}  # by pidfd
    while True:
        now = time.monotonic()
        for run in [r for r in runs.values() if r.deadline <= now and not r.timed_out]:
            run.timed_out = True
            os.kill(run.pid, signal.SIGKILL)
        waits = [r.deadline - now for r in runs.values() if not r.timed_out]
        watched = [sock.fileno(), *runs, *(r.ready_r for r in runs.values() if r.ready_r >= 0)]
        readable, _, _ = select.select(watched, [], [], max(0.0, min(waits)) if waits else None)
        for fd in readable:
            if fd == sock.fileno():
                received = _receive(sock)
                if received is None:
                    for run in runs.values():
                        run.finish("the grader went away")
                    return 0
                request, fds = received
                named = dict(zip(("files", "result", "stdout", "stderr", "status"), fds))
                try:
                    run = _start(request, named, libc, settings, own_pid_ns, sock)
                except OSError as exc:
                    os.write(named["status"], (json.dumps({"started": False, "code": None, "timed_out": False,
                                                           "error": str(exc)}) + "\n").encode())
                    for fd_ in fds:
                        try:
                            os.close(fd_)
                        except OSError:
                            pass
                    continue
                runs[run.pidfd] = run
            elif fd in runs:
                runs.pop(fd).finish()
            else:
                said = next((r for r in runs.values() if r.ready_r == fd), None)
                if said is not None:
                    said.started = os.read(fd, 1) == b"R" or said.started
                    os.close(fd)
                    said.ready_r = -1


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--serve":
        sys.exit(serve(int(sys.argv[2]), sys.argv[3]))
    sys.exit(main(sys.argv[1]))

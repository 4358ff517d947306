"""The worker's view of the machine: an allow-list sandbox, and the weaker levels it falls back to.

Four levels, chosen by :func:`detect` (``--sandbox`` overrides):

``bwrap``       (bubblewrap installed) the worker starts in an *empty* root that
                holds, read-only, exactly what it needs - the interpreter (the real
                executable behind a venv's link), the standard library, the
                site-packages folders, the system libraries the interpreter has
                loaded - plus the staged kit runtime and a size-limited private
                ``/tmp``; its own PID, IPC, network (loopback only), UTS and cgroup
                namespaces. The kit's ``solutions/``, ``autograder/``, ``tests/``,
                ``.git``, the output folder and every other file of the host are
                simply absent, wherever and however the kit is installed. One such
                sandbox serves one submission (``forkserver.py``): it imports torch
                once and forks a fresh child per topic, which enters mount, PID,
                IPC and network namespaces of its own, sees only its own staged
                topic files, and drops to an unprivileged uid before learner code
                runs. See :func:`python_view` for what is bound and why.
``namespaces``  (root with ``unshare``, no bwrap) new network, mount, PID and IPC
                namespaces: the kit's ``solutions/``, ``autograder/``, ``tests/``,
                ``.git`` and the grading output are covered by empty unreadable
                mounts (a *deny*-list: the rest of the host stays visible), private
                ``/tmp``, ``/var/tmp`` and ``/dev/shm``, and the worker runs as its
                own unprivileged uid. It cannot run an interpreter installed under a
                private (``0700``) folder; the canary says so.
``userns``      (no root, user namespaces allowed) the same namespaces, without
                the uid switch and process-count limit.
``none``        a plain child process: limits and a scrubbed environment only.
                Learner code could read the reference and use the network: use
                it only for trusted code; the grader warns.

Every level: scrubbed environment, address-space, CPU-time, file-size and
open-file limits, a wall-clock timeout, stdout / stderr captured to size-limited
files, and the whole PID namespace killed when a worker ends (not only a
process group: a ``setsid`` does not escape).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import site
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

LEVELS = ("bwrap", "namespaces", "userns", "none")
RUN_DIR = "/llmkit-run"  # inside the bwrap sandbox: a topic run's private staged files (worker.RUN_DIR)
FRESH_TMP = "/llmkit-tmp"  # inside the bwrap sandbox: where a topic run's /tmp is built (worker.FRESH_TMP)
WORKER_UID_BASE = 61000  # unprivileged uids for workers (bwrap as root, namespaces level)
#: Top-level packages of the kit's own distribution. In a non-editable install they sit in
#: site-packages: the view masks them (the worker gets its own staged copy of the runtime).
KIT_PACKAGES = ("llmkit", "course", "solutions", "checks", "autograder", "tests")
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap; "
                "Arch: pacman -S bubblewrap)")


@dataclass(frozen=True)
class Limits:
    """Per-worker limits. Each is a grading decision: generous for correct code, tight for runaways.

    * ``wall_s`` / ``cpu_s``: a topic's hidden checks take under 1 s on the reference
      (``benchmarks/check_times.py``); 180 s is over 100x that, so a slow but correct
      learner (loops instead of tensor ops) still passes on a busy machine, while an
      infinite loop costs one topic three minutes.
    * ``memory_mb``: torch alone maps ~1 GiB of address space; the largest probe builds
      models of a few MB. 3 GiB leaves room for a wasteful implementation and stops a
      learner who allocates GPT-2 small (~0.5 GB per copy) in a loop before the machine swaps.
    * ``output_mb``: stdout/stderr are only kept for their last lines; 16 MB stops a print loop
      from filling the disk (or, in the bwrap level, memory: captures are memory files).
    * ``processes``: torch starts one thread per core plus a few helpers; 256 (threads count
      too) stops a fork bomb. Enforced where the worker has a uid of its own (bwrap or
      namespaces level, run as root).
    * ``tmp_mb``: the private ``/tmp`` (and ``/dev/shm``) of one topic run, in memory; checks
      write nothing there, a learner's scratch files have room, a fill-the-disk loop stops.
    """

    wall_s: float = 180.0
    cpu_s: int = 180
    memory_mb: int = 3072
    output_mb: int = 16
    processes: int = 256
    tmp_mb: int = 64


@dataclass
class WorkerRun:
    returncode: int
    timed_out: bool
    stdout_tail: str
    stderr_tail: str
    started: bool = True  # learner code was reached (False: the worker died in the grader's own code)


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def bwrap_works() -> bool:
    """bubblewrap is installed and can build a namespace sandbox here."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return False
    probe = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent",
             "--ro-bind", "/", "/", "--", sys.executable, "-I", "-S", "-c", "pass"]
    if os.geteuid() != 0:
        probe.insert(1, "--unshare-user")
    return _works(probe)


@cache
def detect(requested: str = "auto") -> str:
    """The sandbox level to use: ``bwrap``, ``namespaces``, ``userns`` or ``none``."""
    if requested != "auto":
        return requested
    if bwrap_works():
        return "bwrap"
    if not shutil.which("unshare"):
        return "none"
    if os.geteuid() == 0 and shutil.which("setpriv") and _works(
            ["unshare", "--net", "--mount", "--pid", "--ipc", "--fork", "true"]):
        return "namespaces"
    if _works(["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "true"]):
        return "userns"
    return "none"


def weaker_level_warning(level: str, requested: str = "auto") -> str | None:
    """One sentence for the instructor when the grader runs below the ``bwrap`` level."""
    if level == "bwrap":
        return None
    what = {
        "namespaces": "namespaces with a deny-list (learner code sees the host's files except the kit's "
                      "own folders, and cannot run an interpreter installed under a private folder)",
        "userns": "user namespaces with a deny-list (learner code runs as your uid, sees the host's files "
                  "except the kit's own folders, and has no process-count limit)",
        "none": "no sandbox at all (learner code runs as a plain process and could read the reference "
                "or use the network: grade trusted code only)",
    }[level]
    if requested != "auto":
        return f"the weaker '{level}' level was asked for: {what}"
    why = "cannot create its sandbox here" if shutil.which("bwrap") else "is not installed"
    return f"bubblewrap {why}, so the grader uses the weaker '{level}' level: {what}; {INSTALL_HINT}"


# ----------------------------------------------------------------------------- the bwrap view


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _elf_interpreter(executable: Path) -> str | None:
    """The dynamic loader an ELF executable names (``PT_INTERP``), e.g. ``/lib64/ld-linux-x86-64.so.2``."""
    import struct

    try:
        data = executable.read_bytes()[:65536]
        if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit ELF only
            return None
        endian = "<" if data[5] == 1 else ">"
        phoff, = struct.unpack_from(endian + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x36)
        for i in range(phnum):
            kind, _flags, offset, _vaddr, _paddr, size = struct.unpack_from(endian + "IIQQQQ", data,
                                                                            phoff + i * phentsize)
            if kind == 3:  # PT_INTERP
                return data[offset:offset + size].rstrip(b"\0").decode()
    except (OSError, struct.error, UnicodeDecodeError, IndexError):
        return None
    return None


def _mapped_files() -> set[Path]:
    """Every file this process has mapped: the interpreter, its shared libraries, extension modules."""
    found = set()
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split(maxsplit=5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    path = Path(parts[5].strip())
                    if not path.name.endswith(" (deleted)") and path.is_file():
                        found.add(path)
    except OSError:
        pass
    return found


def _looks_like_python_lib(folder: Path) -> bool:
    """A folder that holds Python packages (a stdlib or site folder), or the kit's own ones."""
    try:
        names = {p.name for p in folder.iterdir() if p.is_dir()}
    except OSError:
        return True
    return any(n.startswith("python") or n in ("site-packages", "dist-packages") or n in KIT_PACKAGES
               for n in names)


def _follow(path: Path, links: dict[Path, str], depth: int = 0) -> Path:
    """Resolve ``path`` one component at a time, noting every link met in ``links``; the real path."""
    current = Path("/")
    parts = path.parts[1:]
    for i, part in enumerate(parts):
        step = current / part
        if step.is_symlink() and depth < 16:
            target = os.readlink(step)
            links[step] = target
            rest = Path(*parts[i + 1:]) if i + 1 < len(parts) else None
            base = Path(target) if os.path.isabs(target) else current / target
            return _follow(Path(os.path.normpath(base / rest if rest else base)), links, depth + 1)
        current = step
    return current


@dataclass
class View:
    """bwrap arguments for a read-only allow-list root, and what the worker needs to find in it."""

    args: list[str]
    python: str  # the real interpreter executable, at its own path inside the view
    site_dirs: list[str]  # import path entries the worker appends after the stdlib
    # what of the view lies under /tmp (a kit installed there): each topic run's fresh /tmp keeps
    # it, as ("bind", path) for a bound file or folder and ("link", path, target) for a link
    under_tmp: list[tuple[str, ...]] = field(default_factory=list)

    def describe(self) -> str:
        binds = [self.args[i + 2] for i, a in enumerate(self.args) if a == "--ro-bind"]
        masks = [self.args[i + 1] for i, a in enumerate(self.args) if a == "--tmpfs"]
        return "read-only: " + ", ".join(binds) + "; masked: " + (", ".join(masks) or "nothing")


def python_view(forbidden: list[Path]) -> View:
    """The allow-list of host paths the worker's interpreter needs, as bwrap arguments.

    * the **interpreter**: ``sys.executable`` resolved through every link (a venv's
      ``python`` may point into a pyenv tree under a private home), and its
      dynamic loader;
    * the **standard library** (the folder of ``os.py``, which holds ``lib-dynload``)
      with any ``site-packages`` / ``dist-packages`` inside it masked, unless that
      folder is itself one of the interpreter's site folders;
    * the **site folders** (every ``site-packages`` / ``dist-packages`` on ``sys.path``):
      torch, numpy, tiktoken and whatever else a learner may import. Inside each,
      the kit's own packages (:data:`KIT_PACKAGES`, present after a non-editable
      install) are masked by empty mode-000 folders. An editable install leaves
      only a finder file there (it maps names to the repository, which is not in
      the view, and ``-S`` never runs it). Other ``sys.path`` entries (the
      current folder, ``PYTHONPATH``, paths added by ``.pth`` files) are not bound:
      they may be the kit's repository or a home folder;
    * the **shared libraries** the interpreter has loaded (``/proc/self/maps`` once
      torch is imported): a library folder is bound whole when it holds no Python
      packages (``/usr/lib/x86_64-linux-gnu``), else only the mapped files and the
      links naming them (``libpython3.11.so.1.0`` next to a pyenv stdlib);
      ``/etc/ld.so.cache``, and the merged-``/usr`` links (``/lib``, ``/lib64``).

    ``forbidden``: folders that must never be inside a bind (the kit's reference,
    hidden checks, tests, ``.git``, the output folder, the submissions): a
    candidate folder that contains one of them is left out.
    """
    import torch  # noqa: F401 - its libraries must be mapped before the maps are read

    forbidden = [f.resolve() for f in forbidden]

    def allowed(folder: Path) -> bool:
        return not any(_is_within(f, folder) for f in forbidden)

    executable = Path(sys.executable).resolve()
    stdlib = Path(os.__file__).resolve().parent
    site_dirs: list[Path] = []
    for entry in [*sys.path, *site.getsitepackages()]:
        path = Path(entry) if entry else None
        if path is None or path.name not in ("site-packages", "dist-packages") or not path.is_dir():
            continue
        path = path.resolve()
        if path not in site_dirs and allowed(path) and path != stdlib:
            site_dirs.append(path)

    binds: list[tuple[Path, Path]] = []  # (source, destination)
    masks: list[Path] = []
    links: dict[Path, str] = {}

    if allowed(stdlib):
        binds.append((stdlib, stdlib))
        for child in sorted(stdlib.iterdir()):
            if child.name in ("site-packages", "dist-packages") and child.resolve() not in site_dirs:
                masks.append(child)
    for folder in site_dirs:
        binds.append((folder, folder))
        for name in KIT_PACKAGES:
            if (folder / name).is_dir():
                masks.append(folder / name)

    def bound(path: Path) -> bool:
        return any(_is_within(path, dest) for _, dest in binds)

    # merged-/usr links, so that paths the loader and ld.so.cache use (/lib/x86_64-linux-gnu/...) resolve
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            links[Path(top)] = os.readlink(top)
    files = {executable} | _mapped_files()
    interpreter = _elf_interpreter(executable)
    if interpreter and os.path.exists(interpreter):
        # the loader's path as the executable names it, with every link on the way
        # (/lib64 -> usr/lib64, ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/...)
        files.add(_follow(Path(interpreter), links))
    for path in sorted(files, key=lambda p: (len(p.parts), str(p))):
        path = path.resolve()
        if bound(path) or not allowed(path.parent):
            continue
        folder = path.parent
        if path != executable and not _looks_like_python_lib(folder) and folder != Path("/"):
            binds.append((folder, folder))
            continue
        binds.append((path, path))
        try:  # the links that name this file (libpython3.11.so -> libpython3.11.so.1.0)
            for sibling in folder.iterdir():
                if sibling.is_symlink() and sibling.resolve() == path:
                    links[sibling] = os.readlink(sibling)
        except OSError:
            pass
    if Path("/etc/ld.so.cache").is_file():
        binds.append((Path("/etc/ld.so.cache"), Path("/etc/ld.so.cache")))

    # bwrap creates missing parents 0700 when it runs as root; an unprivileged worker must
    # be able to walk down to every bind, so each parent is made 0755 first, shortest first
    parents: set[Path] = set()
    for dest in [*(d for _, d in binds), *links]:
        parents.update(p for p in dest.parents if p != Path("/"))
    args: list[str] = []
    for parent in sorted(parents, key=lambda p: (len(p.parts), str(p))):
        if parent not in links and not any(_is_within(parent, d) for _, d in binds):
            args += ["--perms", "0755", "--dir", str(parent)]
    for source, dest in binds:
        args += ["--ro-bind", str(source), str(dest)]
    for link, target in links.items():
        if not bound(link):
            args += ["--symlink", target, str(link)]
    for mask in masks:
        args += ["--perms", "0000", "--size", "4096", "--tmpfs", str(mask), "--remount-ro", str(mask)]
    tmp = Path("/tmp")
    under_tmp: list[tuple[str, ...]] = [("bind", str(d)) for _, d in binds if tmp in d.parents
                                        and not any(o != d and _is_within(d, o) for _, o in binds)]
    under_tmp += [("link", str(link), target) for link, target in links.items() if tmp in link.parents
                  and not bound(link)]
    return View(args, str(executable), [str(p) for p in site_dirs], under_tmp)


def bwrap_command(view: View, kit: Path, python_args: list[str], limits: Limits) -> list[str]:
    """The argv that starts the sandboxed worker (a fork server) at the ``bwrap`` level.

    Run as root, bwrap needs no user namespace: it binds what root can read (so a
    ``0700`` folder above the install does not matter) and keeps only the
    capabilities the trusted fork server needs to give each topic run its own
    namespaces and to drop it to an unprivileged uid *before* learner code runs
    (a uid mapped inside a user namespace created by root would still be root to the
    bound files). Without root, bwrap creates a user namespace mapped to the
    instructor's uid; topic runs then keep that uid, with every capability dropped.
    """
    command = [shutil.which("bwrap") or "bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net",
               "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
               "--cap-drop", "ALL"]
    caps = ["CAP_SYS_ADMIN", "CAP_SETPCAP"]  # per-run namespaces and mounts; dropping the bounding set
    if os.geteuid() == 0:
        caps += ["CAP_SETUID", "CAP_SETGID", "CAP_KILL"]  # drop each run to its own uid; stop it
    else:
        command += ["--unshare-user", "--uid", "0", "--gid", "0"]
    for cap in caps:
        command += ["--cap-add", cap]
    # mounts are made in order: /tmp, /proc and /dev first, so that a view bind below one of
    # them (a kit installed under /tmp) lands on top rather than being covered
    command += ["--proc", "/proc", "--dev", "/dev",
                "--size", str(16 * 2**20), "--tmpfs", "/tmp",
                *view.args,
                "--ro-bind", str(kit), "/kit",
                "--perms", "0755", "--dir", RUN_DIR,
                "--perms", "0755", "--dir", FRESH_TMP,
                "--chdir", "/",
                "--", view.python, "-I", "-S", "/kit/worker.py", *python_args]
    return command


# ----------------------------------------------------------------------------- the weaker levels


_MOUNT_AND_RUN = (
    # Inside the new namespaces: cover each hidden folder with an empty, mode-000 tmpfs,
    # give the worker private temporary folders, then run the worker command (everything
    # after "--") as a child: this shell stays PID 1, and when it exits the kernel kills
    # every process left in the namespace (an exec'd worker that called setsid, or a
    # setpriv that cleared the death signal, could otherwise leave children running).
    'while [ "$1" != "--" ]; do mount -t tmpfs -o size=16k,mode=000 llmkit-hidden "$1" || exit 97; '
    'shift; done; shift; '
    # The worker's own folder may live under one of them: it is bound back from the working
    # directory, which still refers to the covered folder.
    'for d in /tmp /var/tmp /dev/shm; do [ -d "$d" ] || continue; '
    'mount -t tmpfs -o "size=$LLMKIT_TMP,mode=1777" llmkit-tmp "$d" || exit 97; '
    'case "$PWD/" in "$d"/*) { mkdir -p "$PWD" && mount --no-canonicalize --bind /proc/self/cwd "$PWD"; } '
    '|| exit 97;; esac; done; '
    '"$@"; exit $?'
)


def command(level: str, python_args: list[str], hide: list[Path], uid: int | None,
            limits: Limits | None = None) -> list[str]:
    """The full argv that starts ``python -I -S python_args...`` at a weaker ``level``."""
    python = [sys.executable, "-I", "-S", *python_args]
    if level == "none":
        return python
    namespaces = ["unshare", "--net", "--mount", "--pid", "--ipc", "--fork", "--kill-child", "--mount-proc"]
    if level == "userns":
        namespaces.insert(1, "--user")
        namespaces.insert(2, "--map-root-user")
    # Drop every capability, so the worker cannot unmount what hides the reference.
    drop = ["setpriv", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]
    if level == "namespaces" and uid is not None:
        drop += [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    inner = [*drop, *python]
    return [*namespaces, "--", "/bin/sh", "-c", _MOUNT_AND_RUN, "sh", *map(str, hide), "--", *inner]


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


def scrubbed_env(home: Path | str) -> dict[str, str]:
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
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }


def run(level: str, python_args: list[str], folder: Path, limits: Limits,
        hide: list[Path], uid: int | None, running: set | None = None) -> WorkerRun:
    """Start a one-topic worker in ``folder`` at a weaker level and wait for it.

    The worker signals through an inherited pipe when the grader's own code is done
    and learner code is about to run (``started``); ``running`` holds the process
    while it runs, so that the grader can stop it on Ctrl-C.
    """
    if level == "namespaces" and uid is not None:
        os.chown(folder, uid, uid)
        for path in folder.rglob("*"):
            os.chown(path, uid, uid, follow_symlinks=False)
    ready_r, ready_w = os.pipe()
    stdout, stderr = folder / "stdout.txt", folder / "stderr.txt"
    env = scrubbed_env(folder)
    env["LLMKIT_TMP"] = f"{limits.tmp_mb}m"
    env["LLMKIT_READY_FD"] = str(ready_w)
    with open(stdout, "w+b") as out, open(stderr, "w+b") as err:
        try:
            proc = subprocess.Popen(command(level, python_args, hide, uid, limits), cwd=folder,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                    pass_fds=(ready_w,), preexec_fn=_limit(limits, level),
                                    start_new_session=True)
        finally:
            os.close(ready_w)
        if running is not None:
            running.add(proc)
        timed_out = False
        try:
            proc.wait(timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # The whole process group; in namespaces, its PID 1 dies with it, taking every process along.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            if running is not None:
                running.discard(proc)
        os.set_blocking(ready_r, False)
        try:
            started = os.read(ready_r, 1) == b"R"
        except OSError:
            started = False
        os.close(ready_r)
        return WorkerRun(proc.returncode, timed_out, _tail(out), _tail(err), started)

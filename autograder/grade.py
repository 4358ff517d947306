"""Grade submissions: every topic, in prerequisite order, in isolated workers.

For one submission and one topic the grader

1. uses the run's seed for the topic (drawn fresh for every grading run),
2. stages the worker's files (kit runtime, this topic's hidden probes, the
   learner's topic folders, reference folders for replaced prerequisites),
3. runs the probes in the sandbox (``sandbox.py``; at the ``bwrap`` level in a
   fresh child of the submission's fork server, ``forkserver.py``) - the
   learner's code runs only there,
4. computes the reference outputs for the same seed *here* (once per topic and
   run, shared by every submission), and compares (``llmkit.checks.judge``) -
   the worker never sees expected values,
5. writes ``results/<submission>/tNN.json`` at once (a killed run resumes from
   these files).

Before any submission, a *canary* grades the kit's own reference of every topic
to be graded through the same sandbox: if it does not get full marks, the
sandbox is broken and grading stops with one sentence saying why and what to do
(:class:`GraderFault`) - a grader fault is never a student's zero.

Modes: ``own`` grades each topic on the learner's own earlier topics;
``fallback`` (default) swaps in the reference for every prerequisite the learner
failed. When a prerequisite failed, both variants are run, so the report can
say "fails on your t02, passes on the reference t02: the bug is likely in t02".
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from queue import Queue
from typing import Any

import autograder
import llmkit
from autograder import sandbox
from autograder.fingerprint import fingerprint
from autograder.forkserver import ForkServer, ServerFault, tar_files
from autograder.sandbox import RUN_DIR
from autograder.submission import Submission, unpack, unreadable_source
from llmkit import registry
from llmkit.atomic import write_atomic
from llmkit.checks import (
    PROBE_STATUSES,
    Check,
    KitError,
    Outcome,
    Result,
    fresh_seed,
    hidden_checks,
    judge,
    reference_values,
)
from llmkit.resolver import named_root
from llmkit.values import decode

MAX_RESULT_BYTES = 32 * 2**20
MESSAGE_CHARS = 300  # one feedback line per failed check, at most this long
GRADER_FAULT = "grader_fault"


class GraderFault(Exception):
    """The sandbox cannot grade on this machine (the canary failed): one sentence saying why and what to do."""


@dataclass
class Config:
    out: Path
    mode: str = "fallback"  # or "own"
    jobs: int = 1
    topics: list[registry.Topic] = field(default_factory=registry.available)
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    sandbox: str = "auto"


@dataclass
class CheckLine:
    name: str
    doc: str
    status: str
    message: str
    points: int


@dataclass
class TopicGrade:
    topic: str  # "t03"
    title: str
    score: float
    max_score: float
    # "graded" | "missing" | "fault" (the learner's code crashed, hung, ...) | "error" (the submission
    # cannot be read) | "grader_fault" (the grader failed before learner code ran: no score, never
    # stored, so the next run grades it)
    status: str
    reason: str = ""  # one line when the topic scored 0 for a reason other than checks
    checks: list[CheckLine] = field(default_factory=list)
    variant: str = "own"  # which variant the score comes from
    replaced: list[str] = field(default_factory=list)  # prerequisites taken from the reference
    own_passes: bool | None = None
    fallback_passes: bool | None = None
    blame: list[str] = field(default_factory=list)  # prerequisites that likely cause the failure
    seed: int = 0
    seconds: float = 0.0
    digest: str = ""
    mode: str = ""

    @property
    def full(self) -> bool:
        return self.max_score > 0 and self.score >= self.max_score

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TopicGrade:
        data = dict(data)
        data["checks"] = [CheckLine(**c) for c in data.get("checks", [])]
        return cls(**data)


# ----------------------------------------------------------------------------- feedback text

# ANSI/VT escape sequences (CSI ... final byte, OSC ... BEL/ST, two-byte ESC x), then any other
# control or invisible formatting character (C0, DEL, C1, zero-width and bidirectional overrides)
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_QUOTE_CHARS = 40  # a message sharing this many consecutive code characters with kit code quotes it


def one_line(text: str, limit: int = MESSAGE_CHARS) -> str:
    """Learner-influenced text as one clean line: escapes and control characters gone, length capped."""
    text = _CONTROL.sub("", _ESCAPES.sub("", str(text)))
    first = next((line for line in text.splitlines() if line.strip()), "")
    line = " ".join(first.split())
    return line if len(line) <= limit else line[:limit - 3] + "..."


def _code_only(source: str) -> str:
    """The code of a kit file, without whitespace, comments or string literals.

    Only the solution regions of a reference file count (the rest is in the stubs
    too). String literals are dropped, so a learner who reports an error message
    that the reference also raises is not taken for quoting its code.
    """
    import io
    import tokenize

    if "### BEGIN SOLUTION" in source:
        regions = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, flags=re.S)
        source = "\n".join(r for r in regions)
    skip = {tokenize.STRING, tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    parts = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type not in skip:
                parts.append(token.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return "".join("".join(parts).split())


class _Quotes:
    """Finds messages that quote kit code a worker could read (reference prerequisites, hidden probes)."""

    _cache: dict[Path, frozenset[int]] = {}
    _lock = threading.Lock()

    def __init__(self, files: list[Path]):
        self.files = files

    @classmethod
    def _windows(cls, path: Path) -> frozenset[int]:
        with cls._lock:
            if path not in cls._cache:
                try:
                    code = _code_only(path.read_text(encoding="utf-8", errors="replace"))
                except OSError:
                    code = ""
                cls._cache[path] = frozenset(hash(code[i:i + _QUOTE_CHARS])
                                             for i in range(max(0, len(code) - _QUOTE_CHARS + 1)))
            return cls._cache[path]

    def quoted(self, message: str) -> bool:
        text = "".join(message.split())
        if len(text) < _QUOTE_CHARS:
            return False
        windows = {hash(text[i:i + _QUOTE_CHARS]) for i in range(len(text) - _QUOTE_CHARS + 1)}
        return any(windows & self._windows(path) for path in self.files)

    def clean(self, message: str) -> str:
        """One line of feedback; withheld entirely when any of it quotes kit code."""
        if self.quoted(_CONTROL.sub("", _ESCAPES.sub("", str(message)))):
            return "(message withheld: it quotes the kit's code)"
        return one_line(message)


# ----------------------------------------------------------------------------- staging


def _copy_py(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "snapshots"))


def _kit_root() -> Path:
    return Path(llmkit.__file__).resolve().parent.parent


def stage_kit(kit: Path) -> None:
    """The kit runtime a worker imports: ``llmkit``, public check helpers, ``course/__init__``, no hidden checks."""
    _copy_py(Path(llmkit.__file__).parent, kit / "llmkit")
    _copy_py(Path(llmkit.__file__).parent.parent / "checks", kit / "checks")
    (kit / "course").mkdir(parents=True)
    shutil.copy2(named_root("course") / "__init__.py", kit / "course" / "__init__.py")
    hidden = kit / "autograder" / "hidden"
    hidden.mkdir(parents=True)
    (kit / "autograder" / "__init__.py").write_text("")
    (hidden / "__init__.py").write_text("")
    shutil.copy2(Path(__file__).parent / "worker.py", kit / "worker.py")
    for path in [kit, *kit.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def stage(folder: Path, topic: registry.Topic, learner: Path, own: list[registry.Topic],
          replaced: list[registry.Topic]) -> str:
    """Fill a worker folder (weaker levels); return the resolver spec the worker should install."""
    kit = folder / "kit"
    stage_kit(kit)
    shutil.copy2(Path(autograder.__file__).parent / "hidden" / f"{topic.package}.py", kit / "autograder" / "hidden")
    shutil.copy2(Path(__file__).parent / "worker.py", folder / "worker.py")

    (folder / "learner").mkdir()
    for t in own:
        if (learner / t.package).is_dir():
            _copy_py(learner / t.package, folder / "learner" / t.package)
    spec = str(folder / "learner")
    if replaced:
        for t in replaced:
            _copy_py(named_root("solutions") / t.package, folder / "reference" / t.package)
        spec += "," + ",".join(f"{t.number}={folder / 'reference'}" for t in replaced)
    return spec


def _python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()
                  and "__pycache__" not in p.parts and p.suffix != ".pyc")


def run_files(topic: registry.Topic, learner: Path, own: list[registry.Topic],
              replaced: list[registry.Topic]) -> tuple[list[tuple[Path, str]], str]:
    """What a fork-server run unpacks into its private ``RUN_DIR``, and the resolver spec for it."""
    entries = [(Path(autograder.__file__).parent / "hidden" / f"{topic.package}.py", f"hidden/{topic.package}.py")]
    for t in own:
        folder = learner / t.package
        if folder.is_dir():
            entries += [(p, f"learner/{t.package}/{p.relative_to(folder).as_posix()}") for p in _python_files(folder)]
    spec = f"{RUN_DIR}/learner"
    if replaced:
        for t in replaced:
            folder = named_root("solutions") / t.package
            entries += [(p, f"reference/{t.package}/{p.relative_to(folder).as_posix()}") for p in _python_files(folder)]
        spec += "," + ",".join(f"{t.number}={RUN_DIR}/reference" for t in replaced)
    return entries, spec


# ----------------------------------------------------------------------------- reading a worker's output


def _fault_reason(run: sandbox.WorkerRun, limits: sandbox.Limits) -> str:
    """One line explaining why a worker produced no results."""
    import signal

    code = run.returncode
    if run.timed_out:
        return f"timed out after {limits.wall_s:.0f} s (an infinite loop?)"
    if code < 0 or code > 128:
        sig = -code if code < 0 else code - 128
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        known = {"SIGXCPU": f"used more than {limits.cpu_s} s of CPU time",
                 "SIGXFSZ": f"wrote more than {limits.output_mb} MB of output",
                 "SIGKILL": "was killed (out of memory or too many processes?)",
                 "SIGSEGV": "crashed (segmentation fault)"}
        return known.get(name, f"crashed ({name})")
    lines = [line for line in run.stderr_tail.splitlines() if line.strip()]
    last = one_line(lines[-1], 200) if lines else ""
    if "MemoryError" in run.stderr_tail or "can't allocate memory" in run.stderr_tail:
        return f"ran out of memory (limit {limits.memory_mb} MB)"
    if code == 0:
        return "the worker finished without writing results"
    detail = f": {last}" if last else ""
    return f"stopped with exit status {code} before finishing (sys.exit / os._exit?){detail}"


def _grader_fault_reason(detail: str) -> str:
    return one_line(f"grader fault, not your code: the worker stopped before your code ran ({detail}); "
                    f"this topic has no score yet, and the next `llmkit grade` run grades it", 400)


def _read_file_from_worker(path: Path, limit: int) -> str | None:
    """A plain file the worker wrote, or ``None``; never follows a link or blocks on a pipe."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > limit:
            raise ValueError("results too large")
        return f.read(limit + 1).decode("utf-8")


def _read_results(text: str, names: set[str]) -> dict[str, Outcome]:
    """The worker's outcomes, parsed as untrusted data: any malformation is a ``ValueError``."""
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("results are not a JSON object")
        outcomes = {}
        for name, item in raw.items():
            if name not in names:
                continue
            if not isinstance(item, dict):
                raise ValueError(f"the result of {one_line(name, 60)!r} is not an object")
            status = item.get("status")
            if status not in PROBE_STATUSES:
                raise ValueError(f"unknown status {one_line(repr(status), 60)}")
            seconds = float(item.get("seconds", 0.0))
            if not 0.0 <= seconds < 1e9:
                raise ValueError("a check's time is out of range")
            outcomes[name] = Outcome(status, decode(item.get("value")), str(item.get("message", ""))[:4000], seconds)
        return outcomes
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - OverflowError, RecursionError, TypeError, torch's own errors...
        raise ValueError(f"{type(exc).__name__}: {exc}") from None


def _error_only(value: Any) -> bool:
    """An expected value made only of error reports (``llmkit.probing.error_case``)."""
    if isinstance(value, dict):
        return "__error__" in value or (bool(value) and all(_error_only(v) for v in value.values()))
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_error_only(v) for v in value)
    return False


def score(points: float, results: list[Result], error_only: set[str]) -> tuple[float, str]:
    """A topic's score, and a note when error-handling checks were discounted.

    A check whose expected answer is only raised errors ("decode of an unknown id
    raises KeyError") is cheap to satisfy without the function working - a stub that
    raises the right type, or code that forges the error report. Such checks never
    score on their own: their points count in proportion to the points of the topic's
    behaviour checks passed (all of them when every behaviour check passes, none on
    untouched stubs).
    """
    behaviour = [r for r in results if r.check.name not in error_only]
    errors = [r for r in results if r.check.name in error_only]
    total = sum(r.check.points for r in results) or 1
    behaviour_total = sum(r.check.points for r in behaviour)
    behaviour_earned = sum(r.check.points for r in behaviour if r.passed)
    errors_earned = sum(r.check.points for r in errors if r.passed)
    share = behaviour_earned / behaviour_total if behaviour_total else 1.0
    note = ""
    if errors_earned and share < 1:
        note = (f"error-handling checks count {share:.0%} of their points: they score in proportion to "
                f"the behaviour checks passed")
    return round(points * (behaviour_earned + errors_earned * share) / total, 2), note


# ----------------------------------------------------------------------------- the grader


class Grader:
    def __init__(self, config: Config, on_topic: Callable[[Submission, TopicGrade], None] | None = None):
        self.config = config
        self.level = sandbox.detect(config.sandbox)
        self.on_topic = on_topic or (lambda sub, grade: None)
        self._reference_lock = threading.Lock()  # the resolver's module table is process-global
        self._small_lock = threading.Lock()  # seeds and preload names: never held for long
        self._uids: Queue[int] = Queue()
        for i in range(max(1, config.jobs) * 2 + 2):
            self._uids.put(sandbox.WORKER_UID_BASE + i)
        self._seeds: dict[int, int] = {}
        self._expected: dict[tuple[int, int], dict[str, Any]] = {}
        self._probe_modules: set[str] = set()
        self._servers: dict[str, ForkServer] = {}
        self._servers_lock = threading.Lock()
        self._stopping = False  # set when the run ends or is interrupted: no fork server starts after it
        self._processes: set[Any] = set()  # weaker levels: running workers, stopped on Ctrl-C
        self.workers_root: Path | None = None
        self.view: sandbox.View | None = None
        self.hide: list[Path] = []

    # -- paths ------------------------------------------------------------------

    def results_dir(self, sub: Submission) -> Path:
        return self.config.out / "results" / sub.id

    def _forbidden(self, sources: list[Path]) -> list[Path]:
        """Folders no worker may see: the reference, hidden checks, tests, history, outputs, submissions."""
        kit_root = _kit_root()
        paths = [named_root("solutions"), Path(autograder.__file__).parent, kit_root / "tests", kit_root / ".git",
                 kit_root, self.config.out, *{s.resolve().parent for s in sources}]
        if self.workers_root is not None:
            paths.append(self.workers_root)
        return [p.resolve() for p in paths]

    def _hidden_paths(self, sources: list[Path]) -> list[Path]:
        """Folders to cover inside the weaker sandboxes (a deny-list): the reference, hidden checks, outputs."""
        kit_root = _kit_root()
        candidates = [named_root("solutions"), Path(autograder.__file__).parent, kit_root / "tests",
                      kit_root / ".git", self.config.out, *{s.resolve().parent for s in sources}]
        needed = [self.workers_root or Path(tempfile.gettempdir()), Path(sys.prefix),
                  Path(sys.executable).resolve().parent, *map(Path, site.getsitepackages())]
        hidden = []
        for path in candidates:
            path = path.resolve()
            covers_needed = any(n.resolve() == path or path in n.resolve().parents for n in needed)
            if path.is_dir() and not covers_needed and path not in hidden:
                hidden.append(path)
        return hidden

    # -- reference values -----------------------------------------------------------

    def seed_for(self, topic: registry.Topic) -> int:
        """The run's seed for a topic: fresh for every grading run, shared by its submissions."""
        with self._small_lock:
            return self._seeds.setdefault(topic.number, fresh_seed())

    def _reference(self, topic: registry.Topic, checks: list[Check], seed: int) -> dict[str, Any]:
        with self._reference_lock:
            key = (topic.number, seed)
            if key not in self._expected:
                if threading.current_thread() is not threading.main_thread():
                    # a probe may need the main thread (a full disk is RLIMIT_FSIZE with SIGXFSZ ignored, and
                    # signals are the main thread's): computed here, the answers would differ from a worker's
                    raise RuntimeError(f"t{topic.code}'s reference answers were not computed before grading")
                before = set(sys.modules)
                self._expected[key] = reference_values(topic, checks, seed)
                with self._small_lock:
                    self._probe_modules.update(set(sys.modules) - before)
            return self._expected[key]

    def references_first(self, topics: list[registry.Topic]) -> None:
        """Every topic's reference answers for this run, on the main thread, before any worker starts.

        The probes must run as a worker runs them: on a process's main thread (some
        need it, see :meth:`_reference`) and with no other thread writing files while
        one of them lowers the process's file-size limit."""
        for topic in topics:
            self._reference(topic, hidden_checks(topic), self.seed_for(topic))

    def preload(self) -> list[str]:
        """Modules the probes needed on the reference (kit runtime, check helpers, third-party, torch's
        lazily imported parts): a fork server imports them once, so no topic run pays for them."""
        with self._small_lock:
            names = set(self._probe_modules)
        private = ("course", "solutions", "autograder", "tests", "__main__")
        return sorted(n for n in names if n.split(".")[0] not in private)

    # -- one worker -------------------------------------------------------------

    def _server(self, sub: Submission) -> ForkServer:
        with self._servers_lock:
            if self._stopping:
                raise ServerFault("grading was stopped")
            server = self._servers.get(sub.id)
            if server is None or server.dead:
                if server is not None:
                    server.close()
                assert self.view is not None and self.workers_root is not None
                server = self._servers[sub.id] = ForkServer(self.view, self.workers_root / "kit", sub.id,
                                                            self.preload())
            return server

    def _start_next_server(self, by_id: dict[str, Submission], pending: dict[str, list[registry.Topic]],
                           jobs: int) -> None:
        """Start the next submission's fork server early (at most ``jobs + 1`` alive), so that its
        Python and torch load while the current submissions' last topics run."""
        with self._servers_lock:
            if len(self._servers) > jobs:
                return
            started = set(self._servers)
        for sid, sub in by_id.items():
            if sid in started or not pending[sid]:
                continue
            if any(self._needs_worker(sub, t) and self._load(sub, t) is None for t in pending[sid]):
                self._server(sub)
                return

    def _close_server(self, sid: str) -> None:
        with self._servers_lock:
            server = self._servers.pop(sid, None)
        if server is not None:
            server.close()

    def _probe_in_server(self, sub: Submission, topic: registry.Topic, replaced: list[registry.Topic],
                         seed: int, own: list[registry.Topic], uid: int | None) -> tuple[str | None, str, bool]:
        """(result text, fault reason, grader fault?) of one run in the submission's fork server."""
        assert sub.course is not None
        entries, spec = run_files(topic, sub.course, own, replaced)
        files = tar_files(entries)
        request = {"topic": topic.number, "seed": seed, "spec": spec, "uid": uid, "work_files": 2 * len(entries)}
        fault = ""
        for _attempt in range(2):  # a fork server that died is restarted once
            try:
                server = self._server(sub)
                outcome = server.run(request, files, self.config.limits, MAX_RESULT_BYTES)
            except ServerFault as exc:
                fault = str(exc)
                if self._stopping:
                    break
                continue
            run = outcome.run
            if not run.started:
                lines = [line for line in run.stderr_tail.splitlines() if line.strip()]
                fault = f"exit status {run.returncode}" + (f": {lines[-1]}" if lines else "")
                continue
            if outcome.result_error:
                return None, f"the worker returned malformed results ({outcome.result_error})", False
            if outcome.result is None:
                return None, _fault_reason(run, self.config.limits), False
            return outcome.result, "", False
        return None, _grader_fault_reason(fault), True

    def _probe_in_process(self, sub: Submission, topic: registry.Topic, replaced: list[registry.Topic],
                          seed: int, own: list[registry.Topic], uid: int | None) -> tuple[str | None, str, bool]:
        """The weaker levels: a fresh ``python`` per run in a staged folder."""
        assert sub.course is not None and self.workers_root is not None
        folder = Path(tempfile.mkdtemp(dir=self.workers_root))
        try:
            spec = stage(folder, topic, sub.course, own, replaced)
            request = {"kit": str(folder / "kit"), "site_packages": site.getsitepackages(), "spec": spec,
                       "topic": topic.number, "seed": seed, "result": str(folder / "result.json")}
            (folder / "request.json").write_text(json.dumps(request))
            run = sandbox.run(self.level, [str(folder / "worker.py"), str(folder / "request.json")],
                              folder, self.config.limits, self.hide, uid, running=self._processes)
            if not run.started and not run.timed_out:
                lines = [line for line in run.stderr_tail.splitlines() if line.strip()]
                return None, _grader_fault_reason(f"exit status {run.returncode}"
                                                  + (f": {lines[-1]}" if lines else "")), True
            try:
                text = None if run.timed_out else _read_file_from_worker(folder / "result.json", MAX_RESULT_BYTES)
            except (ValueError, OSError) as exc:
                return None, f"the worker returned malformed results ({one_line(str(exc), 200)})", False
            if text is None:
                return None, _fault_reason(run, self.config.limits), False
            return text, "", False
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def run_variant(self, sub: Submission, topic: registry.Topic, replaced: list[registry.Topic],
                    seed: int) -> tuple[list[Result] | None, str, set[str], bool]:
        """Probe in a worker and judge here.

        Returns ``(results, "", error_only, False)``, or ``(None, reason, set(), grader_fault)``.
        """
        assert sub.course is not None, "grade_topic grades only submissions that have a course folder"
        closure = registry.dependency_closure(topic)
        own = [t for t in [*closure, topic] if t not in replaced]
        quotes = _Quotes([Path(autograder.__file__).parent / "hidden" / f"{topic.package}.py",
                          *(p for t in replaced for p in _python_files(named_root("solutions") / t.package))])
        uid = self._uids.get()
        try:
            use_uid = uid if os.geteuid() == 0 and self.level in ("bwrap", "namespaces") else None
            probe = self._probe_in_server if self.level == "bwrap" else self._probe_in_process
            text, reason, grader_fault = probe(sub, topic, replaced, seed, own, use_uid)
        finally:
            self._uids.put(uid)
        if text is None:
            return None, quotes.clean(reason), set(), grader_fault
        checks = hidden_checks(topic)
        try:
            outcomes = _read_results(text, {c.name for c in checks})
        except ValueError as exc:
            reason = f"the worker returned malformed results ({one_line(str(exc), 200)})"
            return None, quotes.clean(reason), set(), False
        expected = self._reference(topic, checks, seed)
        missing = Outcome("error", message="no result for this check (results were tampered with?)")
        results = []
        for c in checks:
            try:
                result = judge(c, outcomes.get(c.name, missing), expected[c.name], reveal=False)
            except Exception as exc:  # noqa: BLE001 - an output the comparison cannot even read fails its check
                result = Result(c, "fail", f"the output could not be compared ({type(exc).__name__}: {exc})")
            result.message = quotes.clean(result.message) if result.message else ""
            results.append(result)
        return results, "", {c.name for c in checks if _error_only(expected[c.name])}, False

    # -- one topic ----------------------------------------------------------------

    def grade_topic(self, sub: Submission, topic: registry.Topic, done: dict[int, TopicGrade]) -> TopicGrade:
        start = time.perf_counter()
        grade = TopicGrade(f"t{topic.code}", topic.title, 0.0, float(topic.points), "graded",
                           digest=f"{sub.digest}-{fingerprint(topic)}", mode=self.config.mode)
        folder = sub.course / topic.package if sub.course else None
        if sub.error:
            grade.status, grade.reason = "error", one_line(sub.error, 400)
        elif folder is None or not (folder / "__init__.py").is_file():
            grade.status, grade.reason = "missing", f"course/{topic.package}/__init__.py is not in the submission"
        elif (why := unreadable_source(folder)) is not None:
            grade.status, grade.reason = "error", one_line(why, 400)
        else:
            self._grade_variants(sub, topic, done, grade)
        grade.seconds = round(time.perf_counter() - start, 2)
        return grade

    def _needs_worker(self, sub: Submission, topic: registry.Topic) -> bool:
        folder = sub.course / topic.package if sub.course else None
        return (not sub.error and folder is not None and (folder / "__init__.py").is_file()
                and unreadable_source(folder) is None)

    def _grade_variants(self, sub, topic, done, grade: TopicGrade) -> None:
        failed = [p for p in registry.dependency_closure(topic) if p.number in done and not done[p.number].full]
        grade.seed = self.seed_for(topic)
        variants = {"own": []} if not failed else {"own": [], "fallback": failed}
        outcome: dict[str, tuple[list[Result] | None, str, set[str], bool]] = {}
        for name, replaced in variants.items():
            try:
                outcome[name] = self.run_variant(sub, topic, replaced, grade.seed)
            except KitError as exc:  # the reference failed: never the learner's fault
                outcome[name] = None, one_line(f"grading error in the kit, not your code: {exc}", 400), set(), True
        passes = {name: r is not None and all(x.passed for x in r) for name, (r, _, _, _) in outcome.items()}
        grade.own_passes = passes["own"]
        if failed:
            grade.fallback_passes = passes["fallback"]
            if not passes["own"] and passes["fallback"]:
                grade.blame = [f"t{p.code}" for p in failed]
        primary = "fallback" if failed and self.config.mode == "fallback" else "own"
        grade.variant = primary
        grade.replaced = [f"t{p.code}" for p in variants[primary]]
        results, reason, error_only, grader_fault = outcome[primary]
        if results is None:
            grade.status, grade.reason = (GRADER_FAULT if grader_fault else "fault"), reason
            return
        grade.checks = [CheckLine(r.check.name, r.check.doc, r.status, r.message, r.check.points) for r in results]
        grade.score, note = score(topic.points, results, error_only)
        if note and not grade.reason:
            grade.reason = note

    # -- persistence --------------------------------------------------------------

    def _load(self, sub: Submission, topic: registry.Topic) -> TopicGrade | None:
        path = self.results_dir(sub) / f"t{topic.code}.json"
        try:
            grade = TopicGrade.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        # reused only while the submission and the kit's side (checks, reference: autograder/fingerprint.py) hold
        fresh = grade.digest == f"{sub.digest}-{fingerprint(topic)}"
        return grade if fresh and grade.mode == self.config.mode else None

    def _save(self, sub: Submission, grade: TopicGrade) -> None:
        if grade.status == GRADER_FAULT:  # no score: the next run grades this topic
            return
        write_atomic(self.results_dir(sub) / f"{grade.topic}.json", json.dumps(asdict(grade), indent=1))

    # -- the run -------------------------------------------------------------------

    def _prepare(self, sources: list[Path]) -> None:
        self.workers_root = Path(tempfile.mkdtemp(prefix="llmkit-workers-"))
        os.chmod(self.workers_root, 0o711)
        if self.level == "bwrap":
            stage_kit(self.workers_root / "kit")
            self.view = sandbox.python_view(self._forbidden(sources))
        elif self.level != "none":
            self.hide = self._hidden_paths(sources)

    def _stop_everything(self) -> None:
        with self._servers_lock:
            self._stopping = True
            servers = list(self._servers.values())
            self._servers.clear()
        for server in servers:
            server.close()
        for proc in list(self._processes):
            try:
                os.killpg(proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass

    def canary(self) -> None:
        """Grade the kit's own reference of every chosen topic through the same sandbox; full marks or stop."""
        solutions = named_root("solutions")
        sub = Submission("kit-reference-canary", "the kit's reference", solutions.parent, course=solutions)
        topics = [t for t in self.config.topics if (solutions / t.package / "__init__.py").is_file()]
        grades = self._schedule([sub], {sub.id: list(topics)}, save=False, canary=True)[sub.id]
        for topic in topics:
            grade = grades.get(topic.number)
            if grade is None or grade.full:
                continue
            first = next((c for c in grade.checks if c.status != "pass"), None)
            why = grade.reason or (f"{first.name}: {first.message}" if first else "no checks passed")
            if grade.status == GRADER_FAULT and (inner := re.search(r"before your code ran \((.*)\); ", why)):
                why = f"the worker stopped: {inner[1]}"
            hint = ("check that bubblewrap can bind the Python installation read-only (a regular folder, not a "
                    "network mount) and compare with `--sandbox namespaces`" if self.level == "bwrap"
                    else sandbox.INSTALL_HINT)
            raise GraderFault(one_line(
                f"the sandbox ('{self.level}' level) could not grade the kit's own reference of t{topic.code} "
                f"({why}), so no submission was graded: {hint}", 800))

    def _schedule(self, subs: list[Submission], pending: dict[str, list[registry.Topic]], *, save: bool,
                  canary: bool = False) -> dict[str, dict[int, TopicGrade]]:
        """Grade every submission; topics of one submission in prerequisite order, in parallel across jobs."""
        jobs = max(1, self.config.jobs)
        graded: dict[str, dict[int, TopicGrade]] = {s.id: {} for s in subs}
        by_id = {s.id: s for s in subs}
        wanted = {t.number for ts in pending.values() for t in ts}

        def ready(sid: str) -> list[registry.Topic]:
            done = graded[sid]
            return [t for t in pending[sid] if all(p.number in done or p.number not in wanted
                                                   for p in registry.dependency_closure(t))]

        running: dict[Future, tuple[str, registry.Topic]] = {}
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            while any(pending.values()) or running:
                for sid in by_id:
                    for topic in ready(sid):
                        if len(running) >= jobs:
                            break
                        pending[sid].remove(topic)
                        cached = self._load(by_id[sid], topic) if save else None
                        if cached is not None:
                            graded[sid][topic.number] = cached
                            self.on_topic(by_id[sid], cached)
                            continue
                        if self.level == "bwrap" and self._needs_worker(by_id[sid], topic):
                            self._server(by_id[sid])  # started here: bwrap dies with the thread that started it
                        future = pool.submit(self.grade_topic, by_id[sid], topic, dict(graded[sid]))
                        running[future] = (sid, topic)
                if self.level == "bwrap":
                    self._start_next_server(by_id, pending, jobs)
                if not running:
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    sid, topic = running.pop(future)
                    try:
                        grade = future.result()
                    except Exception as exc:  # noqa: BLE001 - the grader must never crash on one topic
                        grade = TopicGrade(f"t{topic.code}", topic.title, 0.0, float(topic.points), GRADER_FAULT,
                                           reason=_grader_fault_reason(f"{type(exc).__name__}: {exc}"),
                                           digest=by_id[sid].digest, mode=self.config.mode)
                    graded[sid][topic.number] = grade
                    if save:
                        self._save(by_id[sid], grade)
                    if not canary:
                        self.on_topic(by_id[sid], grade)
                    if not pending[sid] and not any(s == sid for s, _ in running.values()):
                        self._close_server(sid)
        except BaseException:
            self._stop_everything()  # running workers end now, so the pool's threads return
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return graded

    def grade(self, sources: list[Path], ids: list[str]) -> dict[str, tuple[Submission, dict[int, TopicGrade]]]:
        """Unpack, run the canary (when any topic needs a worker), then grade every submission.

        Raises :class:`GraderFault` when the canary fails. Whatever happens - a normal
        end, a fault, Ctrl-C - no worker process or temporary folder of the run remains.
        """
        work = self.config.out / "work"
        try:
            subs = [unpack(src, work, sid) for src, sid in zip(sources, ids)]
            pending = {s.id: list(self.config.topics) for s in subs}
            self._prepare(sources)
            if any(self._load(s, t) is None for s in subs for t in self.config.topics):
                self.references_first(self.config.topics)  # the canary grades them all
            if any(self._needs_worker(s, t) and self._load(s, t) is None for s in subs for t in self.config.topics):
                self.canary()
            graded = self._schedule(subs, pending, save=True)
        finally:
            self._stop_everything()
            if self.workers_root is not None:
                shutil.rmtree(self.workers_root, ignore_errors=True)
        return {s.id: (s, graded[s.id]) for s in subs}

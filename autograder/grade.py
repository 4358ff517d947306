"""Grade submissions: every topic, in prerequisite order, in isolated workers.

For one submission and one topic the grader

1. picks a fresh seed,
2. stages a worker folder (kit runtime, this topic's hidden probes, the
   learner's topic folders, reference folders for replaced prerequisites),
3. runs the worker in the sandbox (``sandbox.py``) - the learner's code runs
   only there,
4. computes the reference outputs for the same seed *here*, and compares
   (``llmkit.checks.judge``) - the worker never sees expected values,
5. writes ``results/<submission>/tNN.json`` at once (a killed run resumes from
   these files).

Modes: ``own`` grades each topic on the learner's own earlier topics;
``fallback`` (default) swaps in the reference for every prerequisite the learner
failed. When a prerequisite failed, both variants are run, so the report can
say "fails on your t02, passes on the reference t02: the bug is likely in t02".
"""

from __future__ import annotations

import json
import os
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
from autograder.submission import Submission, unpack, unreadable_source
from llmkit import registry
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
    status: str  # "graded" | "missing" | "fault" | "error"
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


# ----------------------------------------------------------------------------- staging


def _copy_py(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "snapshots"))


def stage(folder: Path, topic: registry.Topic, learner: Path, own: list[registry.Topic],
          replaced: list[registry.Topic]) -> str:
    """Fill a worker folder; return the resolver spec the worker should install."""
    kit = folder / "kit"
    _copy_py(Path(llmkit.__file__).parent, kit / "llmkit")
    _copy_py(Path(llmkit.__file__).parent.parent / "checks", kit / "checks")
    (kit / "course").mkdir(parents=True)
    shutil.copy2(named_root("course") / "__init__.py", kit / "course" / "__init__.py")
    hidden = kit / "autograder" / "hidden"
    hidden.mkdir(parents=True)
    (kit / "autograder" / "__init__.py").write_text("")
    (hidden / "__init__.py").write_text("")
    shutil.copy2(Path(autograder.__file__).parent / "hidden" / f"{topic.package}.py", hidden)
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
    last = (run.stderr_tail.strip().splitlines() or [""])[-1][:300]
    if "MemoryError" in run.stderr_tail or "can't allocate memory" in run.stderr_tail:
        return f"ran out of memory (limit {limits.memory_mb} MB)"
    if code == 0:
        return "the worker finished without writing results"
    detail = f": {last}" if last else ""
    return f"stopped with exit status {code} before finishing (sys.exit / os._exit?){detail}"


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


def _read_results(text: str) -> dict[str, Outcome]:
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise ValueError("results are not a JSON object")
    outcomes = {}
    for name, item in raw.items():
        status = item.get("status")
        if status not in PROBE_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        outcomes[name] = Outcome(status, decode(item.get("value")), str(item.get("message", ""))[:2000],
                                 float(item.get("seconds", 0.0)))
    return outcomes


# ----------------------------------------------------------------------------- the grader


class Grader:
    def __init__(self, config: Config, on_topic: Callable[[Submission, TopicGrade], None] | None = None):
        self.config = config
        self.level = sandbox.detect(config.sandbox)
        self.on_topic = on_topic or (lambda sub, grade: None)
        self._reference_lock = threading.Lock()  # the resolver's module table is process-global
        self._uids: Queue[int] = Queue()
        for i in range(max(1, config.jobs) * 2):
            self._uids.put(sandbox.WORKER_UID_BASE + i)
        self.workers_root = Path(tempfile.mkdtemp(prefix="llmkit-workers-"))
        os.chmod(self.workers_root, 0o711)

    # -- paths ------------------------------------------------------------------

    def results_dir(self, sub: Submission) -> Path:
        return self.config.out / "results" / sub.id

    def _hidden_paths(self, sources: list[Path]) -> list[Path]:
        """Folders to cover inside the sandbox: the reference, hidden checks, outputs, other submissions."""
        kit_root = Path(llmkit.__file__).parent.parent
        # .git: the kit's history holds the reference too
        candidates = [named_root("solutions"), Path(autograder.__file__).parent, kit_root / "tests",
                      kit_root / ".git", self.config.out, *{s.resolve().parent for s in sources}]
        needed = [self.workers_root, Path(sys.prefix), Path(sys.executable).resolve().parent,
                  *map(Path, site.getsitepackages())]
        hidden = []
        for path in candidates:
            path = path.resolve()
            covers_needed = any(n.resolve() == path or path in n.resolve().parents for n in needed)
            if path.is_dir() and not covers_needed and path not in hidden:
                hidden.append(path)
        return hidden

    # -- one worker -------------------------------------------------------------

    def _reference(self, topic: registry.Topic, checks: list[Check], seed: int) -> dict[str, Any]:
        with self._reference_lock:
            return reference_values(topic, checks, seed)

    def run_variant(self, sub: Submission, topic: registry.Topic, replaced: list[registry.Topic],
                    seed: int, hide: list[Path]) -> tuple[list[Result] | None, str]:
        """Probe in a worker and judge here. Returns (results, "") or (None, fault reason)."""
        assert sub.course is not None, "grade_topic grades only submissions that have a course folder"
        closure = registry.dependency_closure(topic)
        own = [t for t in [*closure, topic] if t not in replaced]
        folder = Path(tempfile.mkdtemp(dir=self.workers_root))
        uid = self._uids.get()
        try:
            spec = stage(folder, topic, sub.course, own, replaced)
            request = {"kit": str(folder / "kit"), "site_packages": site.getsitepackages(), "spec": spec,
                       "topic": topic.number, "seed": seed, "result": str(folder / "result.json")}
            (folder / "request.json").write_text(json.dumps(request))
            run = sandbox.run(self.level, [str(folder / "worker.py"), str(folder / "request.json")],
                              folder, self.config.limits, hide, uid if self.level == "namespaces" else None)
            try:
                text = None if run.timed_out else _read_file_from_worker(folder / "result.json",
                                                                         MAX_RESULT_BYTES)
                if text is None:
                    return None, _fault_reason(run, self.config.limits)
                outcomes = _read_results(text)
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError, RuntimeError) as exc:
                return None, f"the worker returned malformed results ({str(exc)[:200]})"
        finally:
            self._uids.put(uid)
            shutil.rmtree(folder, ignore_errors=True)
        checks = hidden_checks(topic)
        expected = self._reference(topic, checks, seed)
        missing = Outcome("error", message="no result for this check (results were tampered with?)")
        return [judge(c, outcomes.get(c.name, missing), expected[c.name], reveal=False) for c in checks], ""

    # -- one topic ----------------------------------------------------------------

    def grade_topic(self, sub: Submission, topic: registry.Topic, done: dict[int, TopicGrade],
                    hide: list[Path]) -> TopicGrade:
        start = time.perf_counter()
        grade = TopicGrade(f"t{topic.code}", topic.title, 0.0, float(topic.points), "graded",
                           digest=sub.digest, mode=self.config.mode)
        folder = sub.course / topic.package if sub.course else None
        if sub.error:
            grade.status, grade.reason = "error", sub.error
        elif folder is None or not (folder / "__init__.py").is_file():
            grade.status, grade.reason = "missing", f"course/{topic.package}/__init__.py is not in the submission"
        elif (why := unreadable_source(folder)) is not None:
            grade.status, grade.reason = "error", why
        else:
            self._grade_variants(sub, topic, done, hide, grade)
        grade.seconds = round(time.perf_counter() - start, 2)
        return grade

    def _grade_variants(self, sub, topic, done, hide, grade: TopicGrade) -> None:
        failed = [p for p in registry.dependency_closure(topic) if p.number in done and not done[p.number].full]
        grade.seed = fresh_seed()
        variants = {"own": []} if not failed else {"own": [], "fallback": failed}
        outcome: dict[str, tuple[list[Result] | None, str]] = {}
        for name, replaced in variants.items():
            try:
                outcome[name] = self.run_variant(sub, topic, replaced, grade.seed, hide)
            except KitError as exc:  # the reference failed: never the learner's fault
                outcome[name] = None, f"grading error in the kit, not your code: {exc}"
        passes = {name: r is not None and all(x.passed for x in r) for name, (r, _) in outcome.items()}
        grade.own_passes = passes["own"]
        if failed:
            grade.fallback_passes = passes["fallback"]
            if not passes["own"] and passes["fallback"]:
                grade.blame = [f"t{p.code}" for p in failed]
        primary = "fallback" if failed and self.config.mode == "fallback" else "own"
        grade.variant = primary
        grade.replaced = [f"t{p.code}" for p in variants[primary]]
        results, reason = outcome[primary]
        if results is None:
            grade.status, grade.reason = "fault", reason
            return
        grade.checks = [CheckLine(r.check.name, r.check.doc, r.status, r.message, r.check.points) for r in results]
        total = sum(r.check.points for r in results) or 1
        earned = sum(r.check.points for r in results if r.passed)
        grade.score = round(topic.points * earned / total, 2)

    # -- persistence --------------------------------------------------------------

    def _load(self, sub: Submission, topic: registry.Topic) -> TopicGrade | None:
        path = self.results_dir(sub) / f"t{topic.code}.json"
        try:
            grade = TopicGrade.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        return grade if grade.digest == sub.digest and grade.mode == self.config.mode else None

    def _save(self, sub: Submission, grade: TopicGrade) -> None:
        folder = self.results_dir(sub)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{grade.topic}.json.tmp"
        tmp.write_text(json.dumps(asdict(grade), indent=1), encoding="utf-8")
        os.replace(tmp, folder / f"{grade.topic}.json")

    # -- the run -------------------------------------------------------------------

    def grade(self, sources: list[Path], ids: list[str]) -> dict[str, tuple[Submission, dict[int, TopicGrade]]]:
        """Grade every submission; topics of one submission in prerequisite order, in parallel across jobs."""
        work = self.config.out / "work"
        subs = [unpack(src, work, sid) for src, sid in zip(sources, ids)]
        hide = self._hidden_paths(sources) if self.level != "none" else []
        graded: dict[str, dict[int, TopicGrade]] = {s.id: {} for s in subs}
        pending = {s.id: list(self.config.topics) for s in subs}
        by_id = {s.id: s for s in subs}

        def ready(sid: str) -> list[registry.Topic]:
            done = graded[sid]
            wanted = {t.number for t in self.config.topics}
            return [t for t in pending[sid] if all(p.number in done or p.number not in wanted
                                                   for p in registry.dependency_closure(t))]

        running: dict[Future, tuple[str, registry.Topic]] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.config.jobs)) as pool:
            while any(pending.values()) or running:
                for sid in by_id:
                    for topic in ready(sid):
                        if len(running) >= max(1, self.config.jobs):
                            break
                        pending[sid].remove(topic)
                        cached = self._load(by_id[sid], topic)
                        if cached is not None:
                            graded[sid][topic.number] = cached
                            self.on_topic(by_id[sid], cached)
                            continue
                        future = pool.submit(self.grade_topic, by_id[sid], topic, dict(graded[sid]), hide)
                        running[future] = (sid, topic)
                if not running:
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    sid, topic = running.pop(future)
                    try:
                        grade = future.result()
                    except Exception as exc:  # the grader must never crash on one topic
                        grade = TopicGrade(f"t{topic.code}", topic.title, 0.0, float(topic.points), "error",
                                           reason=f"grader error: {type(exc).__name__}: {exc}",
                                           digest=by_id[sid].digest, mode=self.config.mode)
                    graded[sid][topic.number] = grade
                    self._save(by_id[sid], grade)
                    self.on_topic(by_id[sid], grade)
        shutil.rmtree(self.workers_root, ignore_errors=True)
        return {s.id: (s, graded[s.id]) for s in subs}

"""Checks: a *probe* that exercises an implementation plus a *comparison*.

A topic's checks are plain functions in a module, marked with :func:`check`::

    @check("encode maps unknown words to <|unk|>")
    def unknown_words(t, rng):          # t: the topic package, rng: seeded Rng
        tok = t.SimpleTokenizer(t.build_vocab(["a", "b"]))
        return tok.encode("a c b")      # plain output

The same probe runs on the reference and on the learner's code; the two plain
outputs are compared (by :func:`llmkit.values.same` unless the check names
another comparison). A comparison can also test a property of the learner's
output alone ("loss went down") - it receives the reference output too.

* public checks (``checks/tNN_*.py``) compare against stored snapshots,
* hidden checks (``autograder/hidden/tNN_*.py``) compare against the reference
  run on a fresh seed.

Probing and comparing are separate steps (:func:`run_probes`, :func:`judge`),
so an isolated grader can run probes in a worker and compare elsewhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import re
import secrets
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import torch

from llmkit import registry, resolver
from llmkit.probing import Rng, exact_arithmetic
from llmkit.resolver import Choice
from llmkit.values import Mismatch, has_floats, same, to_plain, with_truth

PUBLIC_SEEDS = (0, 1)
# In-process guard against a learner's infinite loop: a probe takes well under 1 s on the
# reference, so 120 s only stops code that would never finish (the grader's worker has its own limits).
PROBE_TIMEOUT_S = 120
_TOPIC_FOLDER = re.compile(r"t\d\d_[a-z0-9_]+")


@dataclass
class Check:
    name: str
    doc: str
    probe: Callable[[Any, Rng], Any]
    compare: Callable[..., None] = same
    points: int = 1
    topic: registry.Topic | None = None
    promises: tuple[str, ...] = ()  # README fragments this check keeps (llmkit.promises)

    @property
    def id(self) -> str:
        return f"t{self.topic.code}::{self.name}" if self.topic else self.name


def check(doc: str, *, compare: Callable[..., None] = same, points: int = 1, promises: Sequence[str] = ()):
    """Decorator marking ``fn(t, rng)`` as a check; ``doc`` says what it checks.

    ``promises``: fragments, copied verbatim from the topic README's contract,
    of the promises this check exercises on every run (see :mod:`llmkit.promises`).
    """

    def mark(fn):
        fn.__llmkit_check__ = Check(fn.__name__, doc, fn, compare, points, promises=tuple(promises))
        return fn

    return mark


def collect(module_name: str, topic: registry.Topic) -> list[Check]:
    """The checks defined in ``module_name``, in definition order (``[]`` if absent)."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return []
        raise
    found = []
    for value in vars(module).values():
        spec = getattr(value, "__llmkit_check__", None)
        if isinstance(spec, Check):
            found.append(dataclasses.replace(spec, topic=topic))
    return found


def public_checks(topic: registry.Topic) -> list[Check]:
    return collect(f"checks.{topic.package}", topic)


def hidden_checks(topic: registry.Topic) -> list[Check]:
    return collect(f"autograder.hidden.{topic.package}", topic)


# ----------------------------------------------------------------------------- probing


#: What a probe run can end in: a plain value, a hole not written yet, a broken contract
#: (a Mismatch raised while probing), a learner's exception, or the time limit.
ProbeStatus = Literal["ok", "todo", "fail", "error", "timeout"]
PROBE_STATUSES: tuple[ProbeStatus, ...] = get_args(ProbeStatus)
#: What a judged check can end in: "ok" became "pass" or "fail" after the comparison.
ResultStatus = Literal["pass", "fail", "todo", "error", "timeout"]


@dataclass
class Outcome:
    """What one probe produced: ``ok`` with a plain value, or why it did not."""

    status: ProbeStatus
    value: Any = None
    message: str = ""
    seconds: float = 0.0


class ProbeTimeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float):
    """Interrupt a runaway probe (only possible on the main thread of a POSIX process)."""
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def on_alarm(signum, frame):
        raise ProbeTimeout(f"did not finish within {seconds:.0f} s (an infinite loop?)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def describe_exception(exc: BaseException) -> str:
    """One line: exception type, message and the learner-side line that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    # a frame inside a topic folder (course/t03_dataloader/...) is the learner's side
    topic_frames = [f for f in frames if _TOPIC_FOLDER.fullmatch(Path(f.filename).parent.name)]
    where = ""
    if topic_frames:
        f = topic_frames[-1]
        where = f" (at {Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} in {f.name})"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"raised {type(exc).__name__}" + (f": {text}" if text else "") + where


def run_probe(chk: Check, module: Any, seed: int, timeout: float = PROBE_TIMEOUT_S) -> Outcome:
    """Run one probe on ``module`` with inputs from ``seed``; never raises for learner faults."""
    start = time.perf_counter()
    try:
        # Inputs come from Rng(seed); dropout masks and random inits come from torch's global
        # generator, which starts at a random state in every process. Pin it to the seed for the
        # probe (and restore it after), so a probe depends on its code and seed only: a replay of
        # a grade (`llmkit check --hidden --seed`) sees the masks the grader's worker saw.
        with _time_limit(timeout), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            value = to_plain(chk.probe(module, Rng(seed)))
        outcome = Outcome("ok", value)
    except NotImplementedError as exc:
        outcome = Outcome("todo", message=str(exc) or "not implemented yet")
    except Mismatch as exc:
        outcome = Outcome("fail", message=str(exc))
    except ProbeTimeout as exc:
        outcome = Outcome("timeout", message=str(exc))
    except KeyboardInterrupt:
        raise
    except (Exception, SystemExit) as exc:  # a learner's bug must not stop the run
        outcome = Outcome("error", message=describe_exception(exc))
    outcome.seconds = time.perf_counter() - start
    return outcome


def run_probes(topic: registry.Topic, checks: list[Check], seed: int, spec: str | None = None) -> dict[str, Outcome]:
    """Probe every check on the topic as resolved by ``spec`` (default: current choice)."""
    return _probe_runs(topic, checks, seed, spec, [contextlib.nullcontext])[0]


def _probe_runs(topic: registry.Topic, checks: list[Check], seed: int, spec: str | Choice | None,
                modes: list[Callable[[], Any]]) -> list[dict[str, Outcome]]:
    """Import the topic once, then probe every check inside each context of ``modes`` in turn."""
    with resolver.session(spec or resolver.current()):
        try:
            module = resolver.load(topic)
        except NotImplementedError as exc:
            return [{c.name: Outcome("todo", message=str(exc)) for c in checks}] * len(modes)
        except KeyboardInterrupt:
            raise
        except (Exception, SystemExit) as exc:
            reason = f"importing {topic.import_name} {describe_exception(exc)}"
            return [{c.name: Outcome("error", message=reason) for c in checks}] * len(modes)
        runs = []
        for mode in modes:
            with mode():
                runs.append({c.name: run_probe(c, module, seed) for c in checks})
        return runs


# ----------------------------------------------------------------------------- judging


@dataclass
class Result:
    check: Check
    status: ResultStatus
    message: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "pass"


def judge(chk: Check, got: Outcome, expected: Any, *, reveal: bool) -> Result:
    """Compare a learner's probe outcome with the expected (reference) value."""
    if got.status != "ok":
        return Result(chk, got.status, got.message, got.seconds)
    try:
        chk.compare(got.value, expected, reveal=reveal)
    except Mismatch as exc:
        return Result(chk, "fail", str(exc), got.seconds)
    return Result(chk, "pass", "", got.seconds)


def fresh_seed() -> int:
    return secrets.randbits(31)


class KitError(RuntimeError):
    """The reference itself failed a probe: a bug in the kit, not in the learner's code."""


EXACT_RUNS = [lambda: exact_arithmetic(0), lambda: exact_arithmetic(1), lambda: exact_arithmetic(2)]


def _reference_ok(topic: registry.Topic, outcomes: dict[str, Outcome], seed: int, how: str) -> None:
    broken = {name: o for name, o in outcomes.items() if o.status != "ok"}
    if broken:
        name, o = next(iter(broken.items()))
        raise KitError(f"reference failed t{topic.code}::{name}{how} (seed {seed}): {o.message}")


def reference_values(topic: registry.Topic, checks: list[Check], seed: int) -> dict[str, Any]:
    """What the reference returns for every check on ``seed``, floats as exact answers.

    The probes run as a learner's do (float32), then in float64 as is and with
    nudged inputs; every float output becomes a :class:`llmkit.values.Near`
    (exact answer + spread), so learners are judged against the truth, not against
    the reference's own rounding.
    """
    plain = run_probes(topic, checks, seed, "solutions")
    _reference_ok(topic, plain, seed, "")
    floating = [c for c in checks if has_floats(plain[c.name].value)]
    truth, *nudged = _probe_runs(topic, floating, seed, "solutions", EXACT_RUNS) if floating else [{}]
    for outcomes in (truth, *nudged):
        _reference_ok(topic, outcomes, seed, " in float64")
    expected = {c.name: with_truth(plain[c.name].value, truth[c.name].value, [n[c.name].value for n in nudged])
                if c in floating else plain[c.name].value for c in checks}
    for c in floating:  # the reference's own float32 answer must pass: else the probe is at fault
        try:
            c.compare(plain[c.name].value, expected[c.name], reveal=True)
        except Mismatch as exc:
            raise KitError(f"the reference's float32 output fails t{topic.code}::{c.name} against its "
                           f"exact answer (seed {seed}) - does the probe compute an input without "
                           f"rng.input()? {exc}") from None
    return expected


def run_hidden(topic: registry.Topic, spec: str | None = None, seed: int | None = None,
               checks: list[Check] | None = None) -> list[Result]:
    """Hidden checks in-process: reference vs ``spec`` on a fresh seed."""
    checks = hidden_checks(topic) if checks is None else checks
    seed = fresh_seed() if seed is None else seed
    expected = reference_values(topic, checks, seed)
    got = run_probes(topic, checks, seed, spec)
    return [judge(c, got[c.name], expected[c.name], reveal=False) for c in checks]


def run_public(topic: registry.Topic, spec: str | None = None,
               checks: list[Check] | None = None) -> list[Result]:
    """Public checks: ``spec`` (default: current choice) vs the stored snapshots."""
    from llmkit import snapshots

    checks = public_checks(topic) if checks is None else checks
    stored = snapshots.load(topic)
    results: list[Result] = []
    per_seed = {seed: run_probes(topic, checks, seed, spec) for seed in PUBLIC_SEEDS}
    for c in checks:
        if c.name not in stored:
            results.append(Result(c, "error", f"no snapshot for {c.id}: run `llmkit snapshots`"))
            continue
        for seed in PUBLIC_SEEDS:  # the first seed that fails decides; else the last pass stands
            outcome = judge(c, per_seed[seed][c.name], stored[c.name][str(seed)], reveal=True)
            if not outcome.passed:
                break
        outcome.seconds = sum(per_seed[s][c.name].seconds for s in PUBLIC_SEEDS)
        results.append(outcome)
    return results

"""The hidden checks on many seeds: planted bugs that slip through, correct code that fails.

    python -m tests.seed_sweep [--seeds 8] [--first 1000] [--topics 28,31] [--only mutants|alternatives]

The test suite draws one fresh seed per run, so a hidden check that catches a
planted bug on most seeds but not all fails CI now and then - and lets a real
learner's bug through on those seeds. This sweep runs every planted bug
(``tests/mutants/``) and every correct-but-different implementation
(``tests/alternatives/``, alone and all together, plus the reference itself) on seeds ``first ..
first + seeds - 1`` and prints one line per problem, with the seeds to replay
(``llmkit check --hidden --seed S``). A bug that slips through once in a
hundred draws needs hundreds of seeds to show: sweep one topic or one bug long
(``--topics 31 --bug whitespace --seeds 300``).
The reference's answers are computed once per seed and topic and shared by all
that topic's mutants. No line but the ``done`` ones means no problem on those
seeds. Slow (about 20 minutes for 8 seeds of all topics on one core): a
maintainer's tool, not part of ``pytest``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from llmkit import registry
from llmkit.checks import hidden_checks, judge, reference_values, run_probes
from tests.helpers import ALTERNATIVES, TOPICS, copy_reference, mutants, only_topic_from


def failures(topic: registry.Topic, checks, expected, seed: int, spec: str) -> list[str]:
    """The names of the checks ``spec`` fails on ``seed`` (empty: all pass), each with its message."""
    got = run_probes(topic, checks, seed, spec)
    results = [judge(c, got[c.name], expected[c.name], reveal=True) for c in checks]
    return [f"{r.check.name}: {r.message[:200]}" for r in results if not r.passed]


def sweep_mutants(topic: registry.Topic, checks, expected: dict[int, dict], bug: str = "") -> None:
    for filename, old, new, why in mutants(topic):
        if bug not in why:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = copy_reference(topic, Path(tmp))
            source = (folder / filename).read_text()
            (folder / filename).write_text(source.replace(old, new))
            spec = only_topic_from(topic, Path(tmp))
            slipped = [s for s in expected if not failures(topic, checks, expected[s], s, spec)]
        if slipped:
            print(f"SLIPS t{topic.code} {why!r}: caught on {len(expected) - len(slipped)} of {len(expected)} "
                  f"seeds; passes on {slipped}", flush=True)


def sweep_correct(topic: registry.Topic, checks, expected: dict[int, dict]) -> None:
    specs = {"reference": "solutions"}
    if (ALTERNATIVES / topic.package).is_dir():
        specs["alternative"] = only_topic_from(topic, ALTERNATIVES)
        # the alternative on top of every earlier topic's alternative: a class member who wrote all differently
        specs["all alternatives"] = "solutions," + ",".join(
            f"{t.number}={ALTERNATIVES}" for t in TOPICS if (ALTERNATIVES / t.package).is_dir())
    for who, spec in specs.items():
        for seed in expected:
            for failure in failures(topic, checks, expected[seed], seed, spec):
                print(f"FAILS t{topic.code} {who} on seed {seed}: {failure}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="how many seeds")
    parser.add_argument("--first", type=int, default=1000, help="the first seed")
    parser.add_argument("--topics", default="", help="topic numbers, comma-separated (default: all)")
    parser.add_argument("--only", choices=["mutants", "alternatives"], help="sweep one kind only")
    parser.add_argument("--bug", default="", help="only the planted bugs whose description holds this text")
    args = parser.parse_args()
    wanted = {int(n) for n in args.topics.split(",") if n}
    for topic in TOPICS:
        if wanted and topic.number not in wanted:
            continue
        started = time.perf_counter()
        checks = hidden_checks(topic)
        expected = {s: reference_values(topic, checks, s) for s in range(args.first, args.first + args.seeds)}
        if args.only != "alternatives":
            sweep_mutants(topic, checks, expected, args.bug)
        if args.only != "mutants":
            sweep_correct(topic, checks, expected)
        print(f"done t{topic.code} ({len(mutants(topic))} planted bugs) in {time.perf_counter() - started:.0f} s",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

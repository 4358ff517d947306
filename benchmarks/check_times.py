"""Time the public and hidden checks of every topic on the reference (in-process).

    python benchmarks/check_times.py [--repeat 3] [--threads 1] [--topics 13-18]

Prints one row per topic: number of checks and the median seconds of a full
public run (all snapshot seeds) and of a hidden run (reference + implementation
on one fresh seed, i.e. both sides of the comparison; the reference side also
runs in float64 for the exact answers). ``--threads`` sets torch's intra-op
threads: the grader's workers use 1; a learner's ``pytest`` uses torch's default.
The first topic that builds a model on the ``meta`` device pays a one-off import
of ``torch._dynamo`` (~3 s), so a warm-up run comes first.
"""

import argparse
import statistics
import time

import torch

from llmkit import registry
from llmkit.checks import public_checks, hidden_checks, run_hidden, run_public


def _median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--topics", default=None, help="e.g. 13-18 (default: every topic in the kit)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    topics = registry.select([args.topics] if args.topics else None)
    for topic in topics:  # warm-up: imports, caches, the meta device's first use
        run_hidden(topic, "solutions")
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"{'topic':32} {'public':>7} {'seconds':>8} {'hidden':>7} {'seconds':>8}")
    for topic in topics:
        pub = _median_seconds(lambda: run_public(topic, "solutions"), args.repeat)
        hid = _median_seconds(lambda: run_hidden(topic, "solutions"), args.repeat)
        print(f"{str(topic):32} {len(public_checks(topic)):>7} {pub:>8.2f} {len(hidden_checks(topic)):>7} {hid:>8.2f}")


if __name__ == "__main__":
    main()

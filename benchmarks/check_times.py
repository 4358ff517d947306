"""Time the public and hidden checks of every topic on the reference (in-process).

    python benchmarks/check_times.py [--repeat 3]

Prints one row per topic: number of checks and the median seconds of a full
public run (all snapshot seeds) and of a hidden run (reference + implementation
on one fresh seed, i.e. both sides of the comparison).
"""

import argparse
import statistics
import time

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
    args = parser.parse_args()
    print(f"{'topic':32} {'public':>7} {'seconds':>8} {'hidden':>7} {'seconds':>8}")
    for topic in registry.available():
        pub = _median_seconds(lambda: run_public(topic, "solutions"), args.repeat)
        hid = _median_seconds(lambda: run_hidden(topic, "solutions"), args.repeat)
        print(f"{str(topic):32} {len(public_checks(topic)):>7} {pub:>8.2f} {len(hidden_checks(topic)):>7} {hid:>8.2f}")


if __name__ == "__main__":
    main()

"""How close correct-but-reordered implementations come to failing a hidden check.

    python benchmarks/tolerance_margin.py [--seeds 50] [--topics 7-12]

For every topic with float outputs and every summation order of
``tests/reordering.py``, runs the reordered reference against the hidden checks
on fresh seeds and prints, per order:

* ``fails``      checks failed under the kit's rule (exact answer + spread; must be 0),
* ``old rule``   checks that would fail under the old rule (|got - float32 reference|
                 <= 1e-5 + 1e-4 |reference|), i.e. the false failures the rule removed,
* ``worst``      the largest error / allowed error over every float value seen
                 (1.0 would be a failure; the smaller, the more room).

``old rule`` and ``worst`` cover the checks that use the default comparison
(``same``); checks with a comparison of their own count in ``fails`` only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.reordering

from llmkit import registry  # noqa: E402
from llmkit.checks import fresh_seed, hidden_checks, judge, reference_values, run_probes  # noqa: E402
from llmkit.values import SPREAD_FACTOR, Near, has_floats, same  # noqa: E402
from tests.reordering import ORDERS, reordered  # noqa: E402


def worst_ratio(got, expected, rtol=1e-4, atol=1e-5) -> float:
    """Largest |got - truth| / allowed over the floats of ``expected`` (0 where shapes differ)."""
    if isinstance(expected, Near) and isinstance(got, (torch.Tensor, int, float)):
        g = torch.as_tensor(got, dtype=torch.float64)
        if g.shape != expected.truth.shape or not torch.isfinite(expected.truth).all():
            return 0.0
        allowed = atol + rtol * expected.truth.abs() + SPREAD_FACTOR * expected.spread
        return float(((g - expected.truth).abs() / allowed).max()) if g.numel() else 0.0
    if isinstance(expected, list) and isinstance(got, list):
        return max([worst_ratio(g, e) for g, e in zip(got, expected)] or [0.0])
    if isinstance(expected, dict) and isinstance(got, dict):
        return max([worst_ratio(got[k], e) for k, e in expected.items() if k in got] or [0.0])
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--topics", default=None, help="e.g. 13-18 (default: every topic in the kit)")
    args = parser.parse_args()
    print(f"{'topic':28} {'order':10} {'runs':>6} {'fails':>6} {'old rule':>9} {'worst':>7}")
    for topic in registry.select([args.topics] if args.topics else None):
        checks = hidden_checks(topic)
        if not any(has_floats(v) for v in reference_values(topic, checks, 0).values()):
            continue
        stats = {order: [0, 0, 0.0] for order in ORDERS}
        for _ in range(args.seeds):
            seed = fresh_seed()
            expected = reference_values(topic, checks, seed)
            plain = run_probes(topic, checks, seed, "solutions")  # the float32 reference, for the old rule
            for order in ORDERS:
                with reordered(order):
                    got = run_probes(topic, checks, seed, "solutions")
                for c in checks:
                    stats[order][0] += not judge(c, got[c.name], expected[c.name], reveal=False).passed
                    if c.compare is same:
                        stats[order][1] += not judge(c, got[c.name], plain[c.name].value, reveal=False).passed
                        stats[order][2] = max(stats[order][2], worst_ratio(got[c.name].value, expected[c.name]))
        for order, (fails, old, worst) in stats.items():
            runs = args.seeds * len(checks)
            print(f"{str(topic):28} {order:10} {runs:>6} {fails:>6} {old:>9} {worst:>7.3f}", flush=True)


if __name__ == "__main__":
    main()

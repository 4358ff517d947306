"""Hidden and public checks judge floats against the truth, not the reference's rounding.

The reference with its sums reordered (``tests/reordering.py``: float64
accumulation, reversed axis, term-by-term loops) is a correct implementation
that rounds differently; it must pass every check of every topic with float
outputs, on many seeds, the large-input cases included.
"""

import pytest

from llmkit.checks import hidden_checks, judge, reference_values, run_probes, run_public
from llmkit.values import has_floats
from tests.helpers import TOPICS
from tests.reordering import ORDERS, reordered

SEEDS = range(5)


def _has_float_outputs(topic) -> bool:
    values = reference_values(topic, hidden_checks(topic), 0)
    return any(has_floats(v) for v in values.values())


FLOAT_TOPICS = [t for t in TOPICS if _has_float_outputs(t)]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("topic", FLOAT_TOPICS, ids=[t.package for t in FLOAT_TOPICS])
def test_reordered_reference_passes(topic, order):
    checks = hidden_checks(topic)
    failed = []
    for seed in SEEDS:
        expected = reference_values(topic, checks, seed)
        with reordered(order):
            got = run_probes(topic, checks, seed, "solutions")
        failed += [f"seed {seed} {c.name}: {r.message}" for c in checks
                   if not (r := judge(c, got[c.name], expected[c.name], reveal=True)).passed]
    with reordered(order):
        failed += [f"public {r.check.name}: {r.message}" for r in run_public(topic, "solutions") if not r.passed]
    assert not failed


def test_reordering_really_changes_the_rounding():
    """The test above would be empty if the reordering did not reach the reference's arithmetic."""
    import torch

    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(8, 512, generator=gen) * 30, torch.randn(512, 16, generator=gen)
    plain = a @ b
    for order in ORDERS:
        with reordered(order):
            assert not torch.equal(a @ b, plain), order

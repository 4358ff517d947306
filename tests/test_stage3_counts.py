"""Topic 13's parameter formula agrees with the model topic 18 builds (both references).

Topic 13 counts GPT-2's parameters from its config alone; topic 18's hidden checks
judge a learner's model against that formula. So the formula and the reference
model must agree exactly: for the four published sizes, tied and untied, with and
without query/key/value biases, and for random small configs - in total and part
by part (``parameter_breakdown``'s parts are the model's parameters grouped by name).
Models are built on the ``meta`` device: shapes only, no memory.
"""

from __future__ import annotations

import importlib
import random

import pytest

from checks.t18_gpt_model import on_meta
from llmkit import resolver

# GPT-2 small (Radford et al., 2019): with the output head tied to the token embedding, and without
GPT2_SMALL_TIED = 124_439_808
GPT2_SMALL_UNTIED = 163_037_184

# parameter_breakdown's parts and the name prefix of the model's parameters each one counts
PARTS = {"token_embedding": "embedding.tok_emb.", "position_embedding": "embedding.pos_emb.",
         "blocks": "blocks.", "final_norm": "final_norm.", "output_head": "out_head."}
SIZES = ("124M", "355M", "774M", "1558M")


@pytest.fixture(scope="module")
def reference():
    """Topics 13 and 18 from ``solutions``, the resolver left as it was afterwards."""
    with resolver.session("solutions"):
        yield importlib.import_module("course.t13_gpt_config"), importlib.import_module("course.t18_gpt_model")


def model_parts(t18, config) -> dict[str, int]:
    """The reference model's distinct parameters, summed by ``PARTS`` prefix (each counted once)."""
    model = on_meta(t18, config)
    parts = dict.fromkeys(PARTS, 0)
    for name, p in model.named_parameters():  # a tied weight is listed once, under the embedding's name
        owner = [part for part, prefix in PARTS.items() if name.startswith(prefix)]
        assert len(owner) == 1, f"parameter {name} belongs to no part of parameter_breakdown"
        parts[owner[0]] += p.numel()
    assert sum(parts.values()) == sum(p.numel() for p in model.parameters()) == t18.count_parameters(model)
    return parts


def assert_formula_matches_model(t13, t18, config) -> int:
    breakdown = t13.parameter_breakdown(config)
    assert list(breakdown) == list(PARTS)
    assert breakdown == model_parts(t18, config), config
    assert t13.count_parameters(config) == sum(breakdown.values())
    return t13.count_parameters(config)


def test_gpt2_small_has_its_published_sizes(reference):
    t13, t18 = reference
    assert assert_formula_matches_model(t13, t18, t13.gpt2_config("124M")) == GPT2_SMALL_TIED
    assert assert_formula_matches_model(t13, t18, t13.gpt2_config("124M", tie_weights=False)) == GPT2_SMALL_UNTIED


@pytest.mark.parametrize("size", SIZES)
def test_every_published_size_tied_untied_with_and_without_qkv_bias(reference, size):
    t13, t18 = reference
    for tie_weights in (True, False):
        for qkv_bias in (True, False):
            assert_formula_matches_model(t13, t18, t13.gpt2_config(size, tie_weights=tie_weights, qkv_bias=qkv_bias))


def test_random_small_configs(reference):
    t13, t18 = reference
    rng = random.Random(18)
    for _ in range(20):
        heads = rng.randint(1, 6)
        config = t13.GPTConfig(vocab_size=rng.randint(1, 300), context_length=rng.randint(1, 64),
                               d_model=heads * rng.randint(1, 16), num_heads=heads, num_layers=rng.randint(1, 4),
                               dropout=rng.choice([0.0, 0.1]), qkv_bias=rng.random() < 0.5,
                               tie_weights=rng.random() < 0.5)
        assert_formula_matches_model(t13, t18, config)

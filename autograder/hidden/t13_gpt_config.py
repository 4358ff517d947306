"""Hidden checks for topic 13 - Bird's-eye view (fresh seed every run)."""

import dataclasses

from checks.t13_gpt_config import (
    SIZES,
    breakdown_view,
    config_view,
    counts_view,
    dropout_compare,
    dummy_dropout_probe,
    dummy_logits,
    dummy_with,
    small_config,
)
from llmkit.checks import check
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `config.py`:": "where the code goes, not what it does",
    "Given: the fields and their defaults": "given code, not a hole (the checks use the submodule names to load "
                                            "weights)",
    "Hints: Python's `bool` is a subclass of `int`": "a hint",
    "test for `bool` first.": "a hint; the rule itself is checked with bool sizes",
    "`dataclasses.replace(config, **changes)` builds a new frozen config": "a hint on how to write gpt2_config",
    "Write the breakdown one row of the table at a time": "a hint on how to work",
}

SIZE_FIELDS = ("vocab_size", "context_length", "d_model", "num_heads", "num_layers")
BASE = {"vocab_size": 50, "context_length": 16, "d_model": 24, "num_heads": 4, "num_layers": 2, "dropout": 0.1}


def random_config_fields(rng) -> dict:
    """Valid fields of a random config, from tiny to GPT-2-like widths (no model is built)."""
    heads = rng.integer(1, 16)
    return {"vocab_size": rng.integer(1, 60000), "context_length": rng.integer(1, 4096),
            "d_model": heads * rng.integer(1, 128), "num_heads": heads, "num_layers": rng.integer(1, 60),
            "dropout": rng.choice([0.0, 0.1, 0.25]), "qkv_bias": rng.coin(), "tie_weights": rng.coin()}


@check("count_parameters of the four published sizes: tied, untied, and without qkv bias",
       promises=["an `int`, the sum of the breakdown: 124,439,808 for GPT-2 small (163,037,184 untied), "
                 "354,823,168, 774,030,080 and 1,557,611,200 for the larger sizes",
                 "The query/key/value biases count only with `qkv_bias`;",
                 "`\"output_head\"` is 0 with `tie_weights`"])
def published_counts(t, rng):
    out = []
    for size in SIZES:
        out += [counts_view(t, t.gpt2_config(size)), counts_view(t, t.gpt2_config(size, tie_weights=False)),
                counts_view(t, t.gpt2_config(size, qkv_bias=False)),
                counts_view(t, t.gpt2_config(size, qkv_bias=False, tie_weights=False))]
    return out


@check("parameter_breakdown and count_parameters of random configs (all four switch settings, sizes of 1 "
       "included): parts, key order, ints",
       promises=["a dict of `int`s with the keys `\"token_embedding\"`, `\"position_embedding\"`, `\"blocks\"` "
                 "(all `num_layers` blocks together), `\"final_norm\"` and `\"output_head\"`, in this order, "
                 "each as in the table above.",
                 "The query/key/value biases count only with `qkv_bias`;",
                 "`\"output_head\"` is 0 with `tie_weights`",
                 "an `int`, the sum of the breakdown",
                 "and the formula's value for any other config"])
def random_breakdowns(t, rng):
    out = []
    for qkv_bias in (False, True):
        for tie in (False, True):
            fields = {**random_config_fields(rng), "qkv_bias": qkv_bias, "tie_weights": tie}
            out.append(breakdown_view(t, t.GPTConfig(**fields)))
    ones = dict(vocab_size=1, context_length=1, d_model=1, num_heads=1, num_layers=1, qkv_bias=rng.coin(),
                tie_weights=rng.coin())
    out.append(breakdown_view(t, t.GPTConfig(**ones)))
    # one field changed at a time: each part must follow its own field
    fields = random_config_fields(rng)
    for name in ("vocab_size", "context_length", "num_layers"):
        out.append(breakdown_view(t, t.GPTConfig(**{**fields, name: fields[name] + rng.integer(1, 9)})))
    return out


@check("gpt2_config: the four presets with every field, and random changes (preset fields included)",
       promises=["the published GPT-2 of `size` (`\"124M\"`, `\"355M\"`, `\"774M\"` or `\"1558M\"`): `d_model`, "
                 "`num_heads`, `num_layers` from `GPT2_SIZES[size]` and every other field at its default, then "
                 "`changes` applied.",
                 "`changes` may set any field, the preset's own ones included"])
def presets_and_changes(t, rng):
    out = [config_view(t.gpt2_config(size)) for size in SIZES]
    out.append(config_view(t.gpt2_config()))
    size = rng.choice(SIZES)
    out.append(config_view(t.gpt2_config(size, dropout=rng.choice([0.0, 0.2, 0.5]))))
    out.append(config_view(t.gpt2_config(size, num_layers=rng.integer(1, 6), context_length=rng.integer(1, 256),
                                         qkv_bias=False, tie_weights=False)))
    heads = rng.integer(1, 8)
    out.append(config_view(t.gpt2_config(rng.choice(SIZES), d_model=heads * rng.integer(1, 16), num_heads=heads,
                                         vocab_size=rng.integer(2, 500))))
    return out


@check("GPTConfig: each size field rejects 0 and a random bad value (negative, bool, float), naming field "
       "and value; d_model % num_heads != 0 names both numbers; dropout outside [0, 1) is rejected",
       promises=["runs whenever a config is built (also through `dataclasses.replace`) and raises `ValueError` "
                 "when a rule is broken;",
                 "the message names the field and its value.",
                 "are each an `int` >= 1 (a `bool` is not a size, and neither is a float such as `768.0`);",
                 "`d_model` is divisible by `num_heads`, and when it is not the message names both numbers;",
                 "`0 <= dropout < 1`."])
def config_rules(t, rng):
    cases = []
    kinds = ["negative", "bool", "whole float", "float"]
    kinds = rng.sample(kinds, len(kinds)) + [rng.choice(kinds)]  # every kind on some field, every run
    for name, kind in zip(SIZE_FIELDS, kinds):
        bad = {"negative": -rng.integer(1, 100), "bool": True, "whole float": float(BASE[name]),
               "float": BASE[name] + 0.5}[kind]
        # one head for a bad d_model: only the size rule can reject True (1) or 24.0, not divisibility
        base = {**BASE, "num_heads": 1} if name == "d_model" else BASE
        cases.append(error_case(f"GPTConfig({name}=0)", t.GPTConfig, **{**base, name: 0}, names=[name, 0]))
        cases.append(error_case(f"GPTConfig({name}={bad!r})", t.GPTConfig, **{**base, name: bad},
                                names=[name, bad]))
    heads = rng.integer(2, 12)
    d_model = heads * rng.integer(1, 20) + rng.integer(1, heads - 1)
    cases.append(error_case(f"GPTConfig(d_model={d_model}, num_heads={heads})", t.GPTConfig,
                            **{**BASE, "d_model": d_model, "num_heads": heads}, names=[d_model, heads]))
    wider = d_model + rng.integer(1, 5)  # more heads than features
    cases.append(error_case(f"GPTConfig(d_model={d_model}, num_heads={wider})", t.GPTConfig,
                            **{**BASE, "d_model": d_model, "num_heads": wider}, names=[d_model, wider]))
    for bad in (1.0, rng.choice([-0.5, -0.1, -0.01]), rng.choice([1.5, 2.0, 10.0])):
        cases.append(error_case(f"GPTConfig(dropout={bad})", t.GPTConfig, **{**BASE, "dropout": bad},
                                names=["dropout", bad]))
    # replace() builds a new config: the rules hold there too
    cases.append(error_case("dataclasses.replace(config, num_layers=0)", dataclasses.replace,
                            t.GPTConfig(**BASE), num_layers=0, names=["num_layers", 0]))
    return cases


@check("GPTConfig accepts every valid config, boundaries included: sizes of 1, num_heads == d_model, "
       "dropout 0.0 and just below 1",
       promises=["A config that keeps the rules raises nothing, at the boundaries too: sizes of 1, "
                 "`num_heads == d_model`, `dropout=0.0`"])
def config_valid(t, rng):
    heads = rng.integer(1, 30)
    configs = [dict(vocab_size=1, context_length=1, d_model=1, num_heads=1, num_layers=1, dropout=0.0),
               {**BASE, "d_model": heads, "num_heads": heads, "dropout": 0.0},
               {**BASE, "d_model": heads * rng.integer(2, 9), "num_heads": heads, "dropout": 0.999},
               random_config_fields(rng)]
    out = []
    for fields in configs:
        out.append(error_case(f"GPTConfig(**{fields})", t.GPTConfig, **fields))
        out.append(config_view(t.GPTConfig(**fields)))
    return out


@check("gpt2_config: unknown sizes -> ValueError naming the size and the four; invalid changes -> ValueError; "
       "a change that is not a field -> TypeError naming it",
       promises=["the result is validated like any config.",
                 "An unknown `size` -> `ValueError` naming it and listing the four sizes;",
                 "a change whose name is not a field -> `TypeError` naming it"])
def preset_errors(t, rng):
    size = rng.choice(SIZES)
    d_model = t.gpt2_config(size).d_model
    heads = rng.choice([7, 11, 13])  # divides none of 768, 1024, 1280, 1600
    unknown = rng.choice(["125M", "350M", "1.5B", "117M", "774"])
    not_a_field = rng.choice(["n_layers", "n_embd", "heads", "emb_dim"])
    return [error_case(f"gpt2_config({unknown!r})", t.gpt2_config, unknown, names=[unknown, *SIZES]),
            error_case(f"gpt2_config({size!r}, num_heads={heads})", t.gpt2_config, size, num_heads=heads,
                       names=[d_model, heads]),
            error_case(f"gpt2_config({size!r}, dropout=1.0)", t.gpt2_config, size, dropout=1.0,
                       names=["dropout", 1.0]),
            error_case(f"gpt2_config({size!r}, num_layers=0)", t.gpt2_config, size, num_layers=0,
                       names=["num_layers", 0]),
            error_case(f"gpt2_config({size!r}, {not_a_field}=2)", t.gpt2_config, size, **{not_a_field: 2},
                       names=[not_a_field]),
            error_case(f"gpt2_config({size!r})", t.gpt2_config, size)]


@check("DummyGPTModel logits equal the reference's given weights: random configs, seq 1, random and "
       "context_length; eval mode and dropout=0 in train mode",
       promises=["`(batch, seq)` integer ids -> `(batch, seq, vocab_size)` logits",
                 "`out_head(final_norm(blocks(drop(tok_emb(ids) + pos_emb(positions)))))` with positions "
                 "`torch.arange(seq)`.",
                 "Every `1 <= seq <= context_length` works."])
def dummy_forward_random(t, rng):
    out = []
    for dropout in (0.0, rng.choice([0.1, 0.5])):
        config = small_config(t, rng, dropout=dropout)
        model = dummy_with(t, rng, config)
        for seq in (1, rng.integer(2, config.context_length), config.context_length):
            out.append(dummy_logits(model, rng.randint(0, config.vocab_size, (rng.integer(1, 3), seq))))
    config = small_config(t, rng)  # dropout 0: train mode changes nothing
    model = dummy_with(t, rng, config).train()
    out.append(model(rng.randint(0, config.vocab_size, (2, config.context_length))).detach())
    return out


@check("DummyGPTModel in train mode: each summed-embedding value dropped with probability p, the others "
       "scaled by 1/(1-p); the head sees the dropped vectors",
       compare=dropout_compare,
       promises=["Dropout acts on the summed embeddings, in training mode only."])
def dummy_train_dropout(t, rng):
    return dummy_dropout_probe(t, rng, rng.choice([0.2, 0.3, 0.5, 0.6]))


@check("DummyGPTModel: ids of 1 or 3 dimensions -> ValueError naming the shape; seq > context_length -> "
       "ValueError naming both numbers; seq == context_length raises nothing",
       promises=["`ids` that are not 2-D -> `ValueError` naming their shape;",
                 "`seq > context_length` -> `ValueError` naming both numbers"])
def dummy_errors_random(t, rng):
    config = small_config(t, rng)
    model = dummy_with(t, rng, config).eval()
    context, vocab = config.context_length, config.vocab_size
    longer = context + rng.integer(1, 6)
    flat = rng.integer(2, context)  # short enough that only the missing batch axis is wrong
    cube = (rng.integer(2, 3), rng.integer(2, context), rng.integer(2, 4))
    return [error_case(f"{longer} tokens, context_length={context}", model,
                       rng.randint(0, vocab, (rng.integer(1, 3), longer)), names=[longer, context]),
            error_case(f"{context + 1} tokens, context_length={context}", model,
                       rng.randint(0, vocab, (1, context + 1)), names=[context + 1, context]),
            error_case(f"ids of shape ({flat},)", model, rng.randint(0, vocab, (flat,)), names=[flat]),
            error_case(f"ids of shape {cube}", model, rng.randint(0, vocab, cube), names=list(cube)),
            error_case(f"ids of shape (2, {context})", model, rng.randint(0, vocab, (2, context)))]

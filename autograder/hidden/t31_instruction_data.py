"""Hidden checks for topic 31 - instruction data in the Alpaca format (fresh seed every run)."""

from checks.t31_instruction_data import (
    BLANK,
    entry_with_input,
    entry_without_input,
    mixed_entries,
    random_text,
    split_probe,
    template_probe,
)
from llmkit.checks import check
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `alpaca.py` (no earlier topic": "where the code goes",
    "`PREAMBLE` and `PREAMBLE_WITH_INPUT` are given": "given constants, not holes",
}


@check("format_input / format_response / format_example / has_input on 6-10 random records: inputs missing, "
       "None, '', whitespace only and real; texts with leading and trailing spaces and newlines, unicode, "
       "'###' and braces; empty outputs; a record with extra keys",
       promises=["`True` when `entry` has an `\"input\"` that holds some non-whitespace text.",
                 "A missing `\"input\"`, `None`, `\"\"` or whitespace only (`\" \\n\"`) gives `False`.",
                 "the prompt: the preamble, a blank line, `### Instruction:`, a newline and the instruction;",
                 "when `has_input(entry)`, also a blank line, `### Input:`, a newline and the input.",
                 "Records with an input use `PREAMBLE_WITH_INPUT`, others `PREAMBLE` (the texts above).",
                 "The instruction and the input go in exactly as they are, not stripped.",
                 "The prompt ends with the instruction or the input: no trailing newline.",
                 "`\"\\n\\n### Response:\\n\" + entry[\"output\"]`, the output exactly as it is (`\"\"` gives "
                 "just the header).",
                 "`format_input(entry) + format_response(entry)`: one training example"])
def template_random(t, rng):
    entries = mixed_entries(rng)
    # both kinds of blank every run (mixed_entries may draw "" twice): "" and whitespace only
    entries += [entry_without_input(rng, "missing") | {"input": ""},
                entry_without_input(rng, "missing") | {"input": rng.choice(BLANK[1:])}]
    entries = rng.sample(entries, len(entries))
    entries.append(entry_without_input(rng, "missing") | {"output": ""})   # an empty output: just the header
    entries.append(entry_with_input(rng) | {"output": rng.choice(BLANK[1:])})  # whitespace output, kept as it is
    entries.append(entry_with_input(rng) | {"id": rng.integer(0, 99), "category": random_text(rng, 1, 2)})
    return template_probe(t, entries)


@check("errors: a record without 'instruction' or with instruction None (ValueError naming instruction), "
       "without 'output' (ValueError naming output), non-str instruction / input / output (TypeError naming "
       "the field), a record that is not a dict (TypeError); a real record beside them works",
       promises=["An input that is not a `str` (or `None`) raises `TypeError` naming `input`;",
                 "so does an `entry` that is not a dict",
                 "A missing or `None` `\"instruction\"` raises `ValueError` naming `instruction`;",
                 "an instruction or input that is not a `str` raises `TypeError` naming the field",
                 "A missing or `None` `\"output\"` raises `ValueError` naming `output`;",
                 "a non-`str` output raises `TypeError` naming `output`"])
def errors_random(t, rng):
    good = entry_with_input(rng)
    number = rng.integer(0, 99)
    no_instruction = {k: v for k, v in good.items() if k != "instruction"}
    no_output = {k: v for k, v in good.items() if k != "output"}
    return [
        template_probe(t, [good]),
        error_case("has_input with input=<int>", t.has_input, good | {"input": number}, names=["input"]),
        error_case("has_input with input=[...]", t.has_input, good | {"input": [random_text(rng)]}, names=["input"]),
        error_case("has_input(<a list>)", t.has_input, [good["instruction"]]),
        error_case("format_input without 'instruction'", t.format_input, no_instruction, names=["instruction"]),
        error_case("format_input with instruction=None", t.format_input, good | {"instruction": None},
                   names=["instruction"]),
        error_case("format_input with instruction=<int>", t.format_input, good | {"instruction": number},
                   names=["instruction"]),
        error_case("format_input with input=<int>", t.format_input, good | {"input": number}, names=["input"]),
        error_case("format_input(<a str>)", t.format_input, good["instruction"]),
        error_case("format_response without 'output'", t.format_response, no_output, names=["output"]),
        error_case("format_response with output=None", t.format_response, good | {"output": None}, names=["output"]),
        error_case("format_response with output=<int>", t.format_response, good | {"output": number},
                   names=["output"]),
        error_case("format_example without 'output'", t.format_example, no_output, names=["output"]),
        error_case("format_example without 'instruction'", t.format_example, no_instruction, names=["instruction"]),
    ]


@check("split_entries on 0-80 numbered records: default fractions and seed, a random seed (twice), random "
       "fractions, fractions summing below 1 (test gets the rest), sizes where int() and round() differ, "
       "0 and 1 records, a tuple of records; input and global random unchanged, the records themselves in three "
       "new lists",
       promises=["returns `(train, val, test)`, three new lists.",
                 "It shuffles a copy of `entries` with `random.Random(seed).shuffle`, so the same seed gives the "
                 "same split, and `entries` itself (a list or a tuple) is never changed.",
                 "With `n = len(entries)`: the first `int(n * fractions[0])` shuffled entries train, the next "
                 "`int(n * fractions[1])` validate and the rest test, so no entry is lost or repeated.",
                 "The lists hold the entries themselves, not copies.",
                 "Python's global `random` state does not change."])
def split_random(t, rng):
    seed = rng.seed_except(123)
    n = rng.integer(2, 80)
    a = rng.integer(0, 20) / 20
    b = rng.integer(0, 20 - int(a * 20)) / 20
    return [
        split_probe(t, n),                                        # the defaults (0.85, 0.05, 0.10), seed=123
        split_probe(t, n, seed=seed), split_probe(t, n, seed=seed),
        split_probe(t, n, (a, b, round(1 - a - b, 2)), seed),
        split_probe(t, n, (0.5, 0.2, 0.1), seed=seed),            # sums to 0.8: the test part is the rest (30%)
        split_probe(t, 10),                                       # 8.5 -> 8 train, 0.5 -> 0 val, 2 test
        split_probe(t, 7, (0.7, 0.1, 0.2), seed=seed),            # 4.9 -> 4, 0.7 -> 0, 3 test
        split_probe(t, 19, (0.6, 0.25, 0.15), seed=seed),         # 11.4 -> 11, 4.75 -> 4, 4 test
        split_probe(t, 0), split_probe(t, 1, seed=seed),
        split_probe(t, rng.integer(5, 30), (0.34, 0.56, 0.1), seed=seed, as_tuple=True),
    ]


@check("split_entries rejects fractions with a negative number, a sum clearly above 1, or not three numbers "
       "(ValueError naming fractions); accepts a sum of 1 up to float rounding",
       promises=["`fractions` must be three numbers `>= 0` whose sum is at most 1 up to float rounding "
                 "(`(0.34, 0.56, 0.1)`, whose float sum is `1.0000000000000002`, is accepted), else `ValueError` "
                 "naming `fractions`"])
def split_errors(t, rng):
    n = rng.integer(10, 40)
    entries = [{"instruction": "x", "output": str(i)} for i in range(n)]
    negative = (round(0.5 + rng.integer(1, 5) / 10, 1), -0.1, 0.1)
    too_much = (0.5, round(0.5 + rng.integer(1, 5) / 10, 1), 0.0)
    return [
        split_probe(t, n, (0.34, 0.56, 0.1), seed=rng.seed_except(123)),
        error_case(f"fractions={negative}", t.split_entries, entries, negative, names=["fractions"]),
        error_case(f"fractions={too_much}", t.split_entries, entries, too_much, names=["fractions"]),
        error_case("fractions=(0.5, 0.5)", t.split_entries, entries, (0.5, 0.5), names=["fractions"]),
    ]

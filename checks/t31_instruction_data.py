"""Public checks for topic 31 - instruction data in the Alpaca format.

The helpers here (random record texts, records with and without an input,
numbered records to split, the probes of the template and of the split) are
reused by the hidden checks of this topic.
"""

from __future__ import annotations

import random
from typing import Any

from llmkit.checks import check
from llmkit.probing import Rng

WORDS = ["Name", "three", "colours", "Rewrite", "the", "sentence", "in", "passive", "voice", "cat", "mouse",
         "Translate", "into", "French", "sum", "of", "2", "and", "40", "héllo", "naïve", "漢字", "😀", "{input}",
         "### Input:", "%s", "Response", "\\n", "x=1;", "'quoted'", '"double"']
# what a text may start or end with: a template must keep it exactly (no strip, no extra newline)
EDGES = ["", "", " ", "  ", "\n", "\t", " \n"]
BLANK = ["", " ", "\n", "\t", "  \n\t ", "\r\n"]  # inputs that hold only whitespace: no Input section


def random_text(rng: Rng, low: int = 1, high: int = 8) -> str:
    """A few words from ``WORDS`` joined by spaces or newlines, maybe padded with whitespace at either end.

    Always holds some non-whitespace text (a word)."""
    words = [rng.choice(WORDS) for _ in range(rng.integer(low, high))]
    body = words[0] + "".join(rng.choice([" ", " ", " ", "\n"]) + w for w in words[1:])
    return rng.choice(EDGES) + body + rng.choice(EDGES)


def entry_with_input(rng: Rng) -> dict[str, Any]:
    return {"instruction": random_text(rng), "input": random_text(rng), "output": random_text(rng)}


def entry_without_input(rng: Rng, how: str) -> dict[str, Any]:
    """A record without a real input: ``how`` is ``"missing"``, ``"None"``, or ``"blank"`` (whitespace or "")."""
    entry = {"instruction": random_text(rng), "output": random_text(rng)}
    if how == "None":
        entry["input"] = None
    elif how == "blank":
        entry["input"] = rng.choice(BLANK)
    return entry


def mixed_entries(rng: Rng) -> list[dict[str, Any]]:
    """Records of every kind, each kind at least once, in random order."""
    kinds = ["input", "input", "missing", "None", "blank", "blank"] + [
        rng.choice(["input", "missing", "blank"]) for _ in range(rng.integer(0, 4))]
    entries = [entry_with_input(rng) if k == "input" else entry_without_input(rng, k) for k in kinds]
    return rng.sample(entries, len(entries))


def template_probe(t, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each record: ``has_input``, the prompt, the response part and the whole example."""
    return [{"has_input": t.has_input(e), "format_input": t.format_input(e),
             "format_response": t.format_response(e), "format_example": t.format_example(e)} for e in entries]


def numbered(n: int) -> list[dict[str, Any]]:
    """``n`` records told apart by their ``"id"``."""
    return [{"id": i, "instruction": f"task {i}", "output": f"answer {i}"} for i in range(n)]


def split_probe(t, n: int, *args: Any, as_tuple: bool = False, **kwargs: Any) -> dict[str, Any]:
    """``split_entries`` on ``n`` numbered records: the ids of each part (in order), whether the parts are
    lists holding the very record objects, and whether the input and Python's global random were left alone."""
    entries = numbered(n)
    given = tuple(entries) if as_tuple else list(entries)
    state = random.getstate()
    parts = t.split_entries(given, *args, **kwargs)
    untouched = random.getstate() == state
    parts = list(parts)
    same_objects = all(any(x is e for e in entries) for part in parts for x in part)
    return {"ids": [[x["id"] for x in part] for part in parts],
            "three lists": len(parts) == 3 and all(type(part) is list for part in parts),
            "the records themselves, not copies": same_objects,
            "input unchanged": list(given) == entries and all(a is b for a, b in zip(given, entries)),
            "a new list, not the input": all(part is not given for part in parts),
            "Python's global random untouched": untouched}


# ----------------------------------------------------------------------------- checks


@check("format_input / format_response / format_example on a record without 'input' and one with an input")
def template_small(t, rng):
    return template_probe(t, [entry_without_input(rng, "missing"), entry_with_input(rng)])


@check("has_input and the template on records whose input is missing, None, empty, whitespace or real text")
def template_kinds(t, rng):
    return template_probe(t, [entry_without_input(rng, "None"), entry_without_input(rng, "blank"),
                              {"instruction": "Add the numbers.", "input": "  \n", "output": "3"},
                              {"instruction": "Add the numbers.", "input": "1 2", "output": "3"}])


@check("split_entries: 40 records with the default fractions and seed, the same twice, another seed")
def split_small(t, rng):
    return [split_probe(t, 40), split_probe(t, 40), split_probe(t, 40, seed=rng.integer(0, 122))]


@check("split_entries: 20 records with fractions (0.7, 0.1, 0.2) and seed 7")
def split_fractions(t, rng):
    return split_probe(t, 20, (0.7, 0.1, 0.2), seed=7)

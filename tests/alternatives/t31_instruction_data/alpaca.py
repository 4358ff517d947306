"""Topic 31 written from the README alone, another way round: the prompt is a list of sections joined by a
blank line, the split shuffles positions instead of records and cuts with itertools.islice."""

from __future__ import annotations

import itertools
import math
import random

PREAMBLE = ("Below is an instruction that describes a task. "
            "Write a response that appropriately completes the request.")
PREAMBLE_WITH_INPUT = ("Below is an instruction that describes a task, paired with an input that provides "
                       "further context. Write a response that appropriately completes the request.")


def _require_dict(entry):
    if not isinstance(entry, dict):
        raise TypeError(f"expected the record as a dict, not {type(entry).__name__}")


def _string(entry, field):
    """The field's text; ValueError when it is absent or None, TypeError when it is no string."""
    _require_dict(entry)
    if entry.get(field) is None:
        raise ValueError(f"record without {field} (missing or None)")
    text = entry[field]
    if not isinstance(text, str):
        raise TypeError(f"{field} should be text, found {type(text).__name__}")
    return text


def has_input(entry):
    _require_dict(entry)
    if "input" not in entry or entry["input"] is None:
        return False
    if not isinstance(entry["input"], str):
        raise TypeError(f"input should be text, found {type(entry['input']).__name__}")
    return any(not ch.isspace() for ch in entry["input"])


def format_input(entry):
    instruction = _string(entry, "instruction")
    with_input = has_input(entry)
    sections = [PREAMBLE_WITH_INPUT if with_input else PREAMBLE, "### Instruction:\n" + instruction]
    if with_input:
        sections.append("### Input:\n" + entry["input"])
    return "\n\n".join(sections)


def format_response(entry):
    return "".join(["\n", "\n", "### Response:", "\n", _string(entry, "output")])


def format_example(entry):
    prompt = format_input(entry)
    return f"{prompt}{format_response(entry)}"


def split_entries(entries, fractions=(0.85, 0.05, 0.10), seed=123):
    fractions = tuple(fractions)
    if len(fractions) != 3 or min(fractions) < 0 or math.fsum(fractions) > 1 + 1e-12:
        raise ValueError(f"bad fractions={fractions}: need three non-negative numbers adding up to 1 or less")
    order = list(range(len(entries)))
    random.Random(seed).shuffle(order)  # the permutation depends on the length only: same as shuffling the records
    n = len(order)
    sizes = [math.floor(n * fractions[0]), math.floor(n * fractions[1])]
    sizes.append(n - sum(sizes))
    picked = iter([entries[i] for i in order])
    return tuple(list(itertools.islice(picked, size)) for size in sizes)

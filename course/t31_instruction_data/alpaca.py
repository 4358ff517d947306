"""Topic 31 - instruction data in the Alpaca format.

A pretrained model continues text. To make it *follow instructions*, it is
finetuned on many (instruction, optional input, response) records, each one
rendered as a single piece of text in a fixed template. The template matters
more than it looks: the model learns the template's exact shape, so the same
text must be produced at training time, at generation time and when the
response is cut out of the generated text again. That is why the template
below is fixed to the character and graded with exact string comparisons.

A record (an "entry") is a dict such as::

    {"instruction": "Rewrite the sentence in the passive voice.",
     "input": "The cat chased the mouse.",
     "output": "The mouse was chased by the cat."}

The Alpaca template (Taori et al., 2023) has two preambles: one for records
without an input and one for records whose input gives extra context::

    Below is an instruction that describes a task. Write a response that appropriately completes the request.

    ### Instruction:
    Name three primary colours.

    ### Response:
    Red, yellow and blue.

With an input the preamble says so, and an ``### Input:`` section follows the
instruction. Sections are separated by one blank line (``"\\n\\n"``), every
header ends with ``":\\n"``, and nothing follows the response (the end-of-text
token is added later, by topic 32's collate).

``format_input`` renders everything the model *sees* (the prompt), ``format_response``
what it must *write*; their concatenation is one training example. Finally the
records are split - shuffled once with a seed - into train, validation and test
parts, as topic 28 splits its labelled texts.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

PREAMBLE = ("Below is an instruction that describes a task. "
            "Write a response that appropriately completes the request.")
PREAMBLE_WITH_INPUT = ("Below is an instruction that describes a task, paired with an input that provides "
                       "further context. Write a response that appropriately completes the request.")
RESPONSE_HEADER = "### Response:"


def _text_field(entry: Mapping[str, Any], key: str, caller: str, required: bool) -> str | None:
    """``entry[key]`` checked to be a ``str``; ``None`` when it is missing (or ``None``) and not required."""
    if not isinstance(entry, Mapping):
        raise TypeError(f"{caller}: an entry must be a dict, got a {type(entry).__name__}")
    value = entry.get(key)
    if value is None:
        if required:
            raise ValueError(f"{caller}: the entry has no {key!r} field")
        return None
    if not isinstance(value, str):
        raise TypeError(f"{caller}: the entry's {key!r} must be a str, got a {type(value).__name__}")
    return value


def has_input(entry: Mapping[str, Any]) -> bool:
    """Does ``entry`` carry an input worth a ``### Input:`` section?

    ``False`` when the ``"input"`` key is missing, is ``None``, is ``""`` or holds
    only whitespace (``"  \\n"``); ``True`` for any other ``str``. A non-``str`` input
    -> ``TypeError``; an ``entry`` that is not a dict -> ``TypeError``.
    """
    raise NotImplementedError('t31 has_input: not implemented yet - write it in course/t31_instruction_data/alpaca.py')


def format_input(entry: Mapping[str, Any]) -> str:
    """The prompt of ``entry``: preamble, instruction and (when :func:`has_input`) the input.

    Without an input::

        PREAMBLE + "\\n\\n### Instruction:\\n" + entry["instruction"]

    with one::

        PREAMBLE_WITH_INPUT + "\\n\\n### Instruction:\\n" + entry["instruction"]
                            + "\\n\\n### Input:\\n" + entry["input"]

    The instruction and the input go in exactly as they are (not stripped). The
    prompt ends right after the instruction or the input: no trailing newline.
    Missing (or ``None``) ``"instruction"`` -> ``ValueError`` naming it; an
    instruction or input that is not a ``str`` -> ``TypeError``.
    """
    raise NotImplementedError('t31 format_input: not implemented yet - write it in course/t31_instruction_data/alpaca.py')


def format_response(entry: Mapping[str, Any]) -> str:
    """The part the model must learn to write: ``"\\n\\n### Response:\\n" + entry["output"]``.

    The output goes in exactly as it is (an empty output gives just the header).
    Missing (or ``None``) ``"output"`` -> ``ValueError`` naming it; a non-``str``
    output -> ``TypeError``.
    """
    raise NotImplementedError('t31 format_response: not implemented yet - write it in course/t31_instruction_data/alpaca.py')


def format_example(entry: Mapping[str, Any]) -> str:
    """One training example: ``format_input(entry) + format_response(entry)``."""
    raise NotImplementedError('t31 format_example: not implemented yet - write it in course/t31_instruction_data/alpaca.py')


def split_entries(entries: Sequence[Any], fractions: tuple[float, float, float] = (0.85, 0.05, 0.10),
                  seed: int = 123) -> tuple[list[Any], list[Any], list[Any]]:
    """Shuffle ``entries`` once with ``seed`` and cut them into ``(train, val, test)`` lists.

    The shuffle is ``random.Random(seed).shuffle`` applied to a copy (a new list),
    so the same seed gives the same order and ``entries`` itself is never changed.
    With ``n = len(entries)``: ``n_train = int(n * fractions[0])``, ``n_val =
    int(n * fractions[1])`` (rounded down), and the test part gets the rest, so no
    entry is lost or repeated. The three lists hold the entries themselves (the same
    objects, not copies), in shuffled order: train first, then val, then test.
    Python's global ``random`` state is left alone (no ``random.seed``).

    ``fractions`` must be three numbers ``>= 0`` summing to at most 1 (a little
    float slack is fine), else ``ValueError`` naming ``fractions``.
    """
    raise NotImplementedError('t31 split_entries: not implemented yet - write it in course/t31_instruction_data/alpaca.py')

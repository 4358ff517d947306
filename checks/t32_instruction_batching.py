"""Public checks for topic 32 - batching for instruction tuning.

The helpers here are shared with the hidden checks of this topic: random items
``(ids, prompt_length)`` whose ids never hold the pad id unless a check puts it
there on purpose, and reports of what ``collate_batch`` returned (the tensors
and their dtypes, which the default comparison does not look at).
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from llmkit.checks import check
from llmkit.probing import Rng, error_case
from llmkit.values import Mismatch

GPT2_END = 50256  # GPT-2's <|endoftext|>: the default pad_id
VOCAB = 60  # random ids are drawn from [0, VOCAB); pad ids are chosen outside it


def draw_ids(rng: Rng, n: int, vocab: int = VOCAB) -> list[int]:
    """``n`` random token ids in ``[0, vocab)``, as a Python list."""
    return rng.randint(0, vocab, (n,)).tolist()


def draw_pad(rng: Rng) -> int:
    """A pad id outside the ids' range (and not 0 or 50256): padding with the wrong id shows."""
    return VOCAB + rng.integer(1, 900)


def draw_ignore(rng: Rng) -> int:
    """An ignore_index other than -100: a hard-coded -100 shows."""
    return -rng.integer(1, 99)


def draw_items(rng: Rng, lengths: list[int], vocab: int = VOCAB, masked: bool = True) -> list[tuple[list[int], int]]:
    """One item per length; the prompt is at least 2 tokens long (so masking it changes a target) and leaves
    at least one response token where the item is long enough."""
    items = []
    for n in lengths:
        prompt = rng.integer(2, max(2, n - 1)) if masked and n >= 2 else rng.integer(0, n)
        items.append((draw_ids(rng, n, vocab), min(prompt, n)))
    return items


def distinct_lengths(rng: Rng, count: int, low: int = 2, high: int = 14) -> list[int]:
    """``count`` different item lengths in random order: one longest item, the others padded."""
    return rng.sample(range(low, high + 1), count)


def tensor_pair(result: Any, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``result`` checked to be ``(inputs, targets)``, two tensors."""
    if not isinstance(result, (tuple, list)) or len(result) != 2 or \
            not all(isinstance(x, torch.Tensor) for x in result):
        raise Mismatch(f"{what} should return (inputs, targets), two tensors; got a {type(result).__name__}")
    return result[0], result[1]


def pair_report(result: Any, what: str) -> dict:
    """``(inputs, targets)`` as plain values, with their dtypes (both must be torch.long)."""
    inputs, targets = tensor_pair(result, what)
    return {"inputs": inputs, "targets": targets, "dtypes": [str(inputs.dtype), str(targets.dtype)]}


def collate_case(t, items: list, **options: Any) -> dict:
    """``collate_batch(items, **options)`` as a report; also whether the items came back unchanged."""
    before = copy.deepcopy(items)
    report = pair_report(t.collate_batch(items, **options), "collate_batch")
    report["items unchanged"] = items == before
    return report


def row_case(t, ids: list[int], prompt_length: int, length: int, **options: Any) -> dict:
    """``input_target_row(ids, prompt_length, length, **options)`` as a report."""
    before = list(ids)
    report = pair_report(t.input_target_row(ids, prompt_length, length, **options), "input_target_row")
    report["ids unchanged"] = ids == before
    return report


def pad_case(t, ids: list[int], length: int, **options: Any) -> dict:
    """``pad_item``'s list, whether it is a new list, and whether ``ids`` stayed as it was."""
    before = list(ids)
    padded = t.pad_item(ids, length, **options)
    return {"padded": padded, "a list": type(padded) is list, "a new list": padded is not ids,
            "ids unchanged": ids == before}


@check("pad_item appends one end-of-text and pads with pad_id up to the length; a new list")
def pad_small(t, rng):
    ids = draw_ids(rng, rng.integer(2, 5))
    pad = draw_pad(rng)
    return [pad_case(t, ids, len(ids) + 1, pad_id=pad), pad_case(t, ids, len(ids) + 3, pad_id=pad),
            pad_case(t, ids, len(ids) + 2)]


@check("input_target_row: targets are the inputs shifted by one; padding after the end-of-text is ignored")
def row_small(t, rng):
    ids = draw_ids(rng, 5)
    return [row_case(t, ids, 2, 5, pad_id=99, ignore_index=-100),
            row_case(t, ids, 2, 8, pad_id=99, ignore_index=-100)]


@check("input_target_row with mask_prompt: the targets inside the prompt are ignored, the first response "
       "token is kept")
def row_masked(t, rng):
    ids = draw_ids(rng, 7)
    return [row_case(t, ids, 3, 9, pad_id=99, ignore_index=-100, mask_prompt=True),
            row_case(t, ids, 3, 9, pad_id=99, ignore_index=-100, mask_prompt=False)]


@check("collate_batch of three items with the defaults (pad 50256, ignore -100): padded to the longest item")
def batch_defaults(t, rng):
    return collate_case(t, draw_items(rng, [3, 6, 4]))


@check("collate_batch with mask_prompt, another pad_id and ignore_index")
def batch_masked(t, rng):
    return collate_case(t, draw_items(rng, [5, 3, 7, 6]), pad_id=draw_pad(rng), ignore_index=draw_ignore(rng),
                        mask_prompt=True)


@check("collate_batch with max_length: cut after shifting when shorter than the batch, unchanged when longer")
def batch_max_length(t, rng):
    items = draw_items(rng, [4, 9, 6])
    return {"max_length=5": collate_case(t, items, max_length=5, pad_id=99),
            "max_length=20": collate_case(t, items, max_length=20, pad_id=99)}


@check("ValueError for an empty batch, max_length=0, a prompt longer than its item and pad_item without room")
def errors_small(t, rng):
    ids = draw_ids(rng, 4)
    return [error_case("collate_batch([])", t.collate_batch, []),
            error_case("collate_batch(..., max_length=0)", t.collate_batch, [(ids, 2)], max_length=0, names=[0]),
            error_case("collate_batch([(<4 ids>, 6)])", t.collate_batch, [(ids, 6)], names=[6, 4]),
            error_case("pad_item(<4 ids>, 4)", t.pad_item, ids, 4, names=[4])]

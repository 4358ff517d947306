"""Hidden checks for topic 32 - batching for instruction tuning (fresh seed every run).

Every rule runs on every run: a random pad id outside the ids' range and a random
ignore_index (so a hard-coded 0, 50256 or -100 shows), rows with and without
padding, prompts of 0, 1, 2+ and all tokens, max_length below, at and above the
longest item, and - on purpose - texts that hold the pad id themselves, where only
the positional rule of the README gives the right targets.
"""

from __future__ import annotations

from checks.t32_instruction_batching import (
    GPT2_END,
    collate_case,
    distinct_lengths,
    draw_ids,
    draw_ignore,
    draw_items,
    draw_pad,
    pad_case,
    row_case,
)
from llmkit.checks import check
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `collate.py` (no earlier topic needed):": "where the code goes",
    "Hints: the tensors stay on the CPU": "a hint on where batches live",
    "`torch.stack` turns a list of equal-length rows into a batch.": "a hint about torch",
}


@check("pad_item on random ids: exactly one end-of-text (length = len(ids) + 1), longer padding, empty ids, "
       "another pad_id and the default 50256; a new list, ids unchanged; no room raises ValueError naming both",
       promises=["returns a new list of `length` ints: `ids`, then `pad_id` repeated `length - len(ids)` times.",
                 "The first of them is the item's end-of-text token.", "`ids` itself is not changed.",
                 "`length < len(ids) + 1` (no room for the end-of-text) raises `ValueError` naming `length` and "
                 "`len(ids)`"])
def pad_random(t, rng):
    n = rng.integer(3, 12)
    ids, pad = draw_ids(rng, n), draw_pad(rng)
    short = n - rng.integer(1, n - 1)
    cases = {"length = len(ids) + 1": pad_case(t, ids, n + 1, pad_id=pad),
             "longer": pad_case(t, ids, n + rng.integer(2, 9), pad_id=pad),
             "no ids": pad_case(t, [], rng.integer(1, 4), pad_id=pad),
             "default pad_id": pad_case(t, draw_ids(rng, rng.integer(1, 5)), rng.integer(6, 9))}
    cases["errors"] = [error_case(f"pad_item(<{n} ids>, {n})", t.pad_item, ids, n, pad_id=pad, names=[n]),
                       error_case(f"pad_item(<{n} ids>, {short})", t.pad_item, ids, short, pad_id=pad,
                                  names=[short, n])]
    return cases


ROW_PROMISES = [
    "returns one row of a batch, `(inputs, targets)`: two `torch.long` tensors of shape `(length,)`.",
    "With `n = len(ids)` and `padded = pad_item(ids, length + 1, pad_id)`, `inputs` is `padded[:-1]` and `targets` "
    "is `padded[1:]`, except that `targets[j]` is `ignore_index` for every `j >= n`.",
    "`targets[n - 1]`, the appended end-of-text, is kept."]


@check("input_target_row on random ids: no padding (length = n), padding, every prompt length with and without "
       "mask_prompt (0, 1, 2, random, n), random pad_id and ignore_index",
       promises=ROW_PROMISES + [
           "With `mask_prompt=True`, `targets[j]` is also `ignore_index` for every `j < prompt_length - 1`: those "
           "targets are prompt tokens.",
           "`targets[prompt_length - 1]`, the first response token, is kept.",
           "Without `mask_prompt`, a valid `prompt_length` changes nothing."])
def row_random(t, rng):
    n = rng.integer(5, 12)
    ids, pad, ignore = draw_ids(rng, n), draw_pad(rng), draw_ignore(rng)
    longer = n + rng.integer(1, 6)
    middle = rng.integer(3, n - 1)

    def row(prompt, length, mask):
        return row_case(t, ids, prompt, length, pad_id=pad, ignore_index=ignore, mask_prompt=mask)

    out = {"no padding": row(middle, n, False), "padding": row(middle, longer, False),
           "no padding, prompt masked": row(middle, n, True)}
    for prompt in (0, 1, 2, middle, n):
        out[f"prompt_length={prompt}, masked"] = row(prompt, longer, True)
    out["prompt_length=2, not masked"] = row(2, longer, False)
    return out


@check("input_target_row on texts that hold pad_id themselves (first, in the middle, last, several): masked by "
       "position, never by value",
       promises=ROW_PROMISES + [
           "The rule goes by position, not by value: a `pad_id` inside `ids` is text, and is never masked for being "
           "a `pad_id`."])
def row_pad_in_text(t, rng):
    pad, ignore = draw_pad(rng), draw_ignore(rng)
    n = rng.integer(6, 10)
    out = {}
    for where in ("middle", "last", "first and middle"):
        ids = draw_ids(rng, n)
        spots = {"middle": [rng.integer(1, n - 2)], "last": [n - 1],
                 "first and middle": [0, rng.integer(2, n - 2)]}[where]
        for spot in spots:
            ids[spot] = pad
        length = n + rng.integer(1, 4)
        out[where] = row_case(t, ids, rng.integer(2, n - 1), length, pad_id=pad, ignore_index=ignore,
                              mask_prompt=rng.coin())
    return out


@check("input_target_row raises ValueError for no ids, prompt_length -1 and n + 1 (naming them), and length < n "
       "(naming both); prompt_length 0 and n are valid",
       promises=["`ids` with no tokens, a `prompt_length` outside `[0, n]` or `length < n` raise `ValueError`, the "
                 "last two naming the offending numbers"])
def row_errors(t, rng):
    n = rng.integer(4, 12)
    ids = draw_ids(rng, n)
    short = n - rng.integer(1, n - 1)
    low = -rng.integer(1, 3)
    return [error_case("input_target_row([], 0, 3)", t.input_target_row, [], 0, 3),
            error_case(f"input_target_row(<{n} ids>, prompt_length={low})", t.input_target_row, ids, low, n,
                       names=[low]),
            error_case(f"input_target_row(<{n} ids>, prompt_length={n + 1})", t.input_target_row, ids, n + 1, n,
                       names=[n + 1]),
            error_case(f"input_target_row(<{n} ids>, 1, length={short})", t.input_target_row, ids, 1, short,
                       names=[short, n]),
            error_case(f"input_target_row(<{n} ids>, prompt_length=0)", t.input_target_row, ids, 0, n),
            error_case(f"input_target_row(<{n} ids>, prompt_length={n})", t.input_target_row, ids, n, n)]


BATCH_PROMISES = [
    "Returns `(inputs, targets)`, two `torch.long` tensors of shape `(len(items), T)`, where `T` is the length of "
    "the longest `ids` in the batch.",
    "Row `i` of both is `input_target_row(ids_i, prompt_length_i, T, pad_id, ignore_index, mask_prompt)`.",
    "So every row ends its text with one end-of-text target, and the longest rows have no padding at all.",
    "The items are not changed."]


@check("collate_batch on random batches (2-6 items of different lengths, random pad_id and ignore_index), with "
       "and without mask_prompt, and max_length below, at and above the longest item",
       promises=BATCH_PROMISES + [
           "`items` is a list of `(ids, prompt_length)` pairs (lists or tuples), `ids` a list of ints.",
           "When `max_length` is given, both tensors are then cut to their first `max_length` columns;",
           "a batch shorter than `max_length` stays as it is (it is never padded up to `max_length`)."])
def batch_random(t, rng):
    lengths = distinct_lengths(rng, rng.integer(2, 6), low=3, high=16)
    longest = max(lengths)
    items = draw_items(rng, lengths)
    if rng.coin():  # tuples or lists: what a Dataset's __getitem__ returns varies
        items = [list(item) for item in items]
    options = {"pad_id": draw_pad(rng), "ignore_index": draw_ignore(rng)}
    below = rng.integer(1, longest - 1)
    return {"plain": collate_case(t, items, **options),
            "mask_prompt": collate_case(t, items, mask_prompt=True, **options),
            f"max_length={below} (below the longest item)": collate_case(t, items, max_length=below,
                                                                           mask_prompt=True, **options),
            "max_length = the longest item": collate_case(t, items, max_length=longest, **options),
            "max_length above the longest item": collate_case(t, items, max_length=longest + rng.integer(1, 20),
                                                              **options)}


@check("collate_batch with its defaults (pad_id 50256, ignore_index -100, no max_length, no prompt masking) on "
       "GPT-2-sized ids; one item alone; items all of one length",
       promises=BATCH_PROMISES + ["The defaults are GPT-2's end-of-text id `50256` and cross-entropy's `-100`."])
def batch_defaults_random(t, rng):
    vocab = GPT2_END  # ids below the end-of-text id
    lengths = distinct_lengths(rng, rng.integer(2, 5), low=2, high=12)
    same_length = rng.integer(2, 8)
    return {"defaults": collate_case(t, draw_items(rng, lengths, vocab)),
            "one item": collate_case(t, draw_items(rng, [rng.integer(1, 9)], vocab)),
            "all one length": collate_case(t, draw_items(rng, [same_length] * rng.integer(2, 4), vocab))}


@check("collate_batch on texts holding pad_id themselves (the last token of the longest item, inside others), "
       "with and without mask_prompt",
       promises=BATCH_PROMISES + [
           "The rule goes by position, not by value: a `pad_id` inside `ids` is text, and is never masked for being "
           "a `pad_id`."])
def batch_pad_in_text(t, rng):
    pad, ignore = draw_pad(rng), draw_ignore(rng)
    lengths = distinct_lengths(rng, rng.integer(3, 5), low=4, high=12)
    items = draw_items(rng, lengths)
    longest = lengths.index(max(lengths))
    items[longest][0][-1] = pad  # the longest text ends with the pad id: its own padding starts after it
    for ids, _ in items:
        ids[rng.integer(0, len(ids) - 2)] = pad
    return {"plain": collate_case(t, items, pad_id=pad, ignore_index=ignore),
            "mask_prompt": collate_case(t, items, pad_id=pad, ignore_index=ignore, mask_prompt=True)}


@check("collate_batch raises ValueError for no items, max_length 0 or negative (naming it), an item without ids "
       "and a prompt_length past its item (naming it); max_length=1 is valid",
       promises=["An empty `items` raises `ValueError`;", "`max_length < 1` raises `ValueError` naming it;",
                 "a bad item raises the `ValueError` of `input_target_row`"])
def batch_errors(t, rng):
    items = draw_items(rng, distinct_lengths(rng, 3, low=3, high=9))
    negative = -rng.integer(1, 9)
    n = len(items[1][0])
    past = n + rng.integer(1, 5)
    return [error_case("collate_batch([])", t.collate_batch, []),
            error_case("collate_batch(..., max_length=0)", t.collate_batch, items, max_length=0, names=[0]),
            error_case(f"collate_batch(..., max_length={negative})", t.collate_batch, items, max_length=negative,
                       names=[negative]),
            error_case("collate_batch with an item of no ids", t.collate_batch, [items[0], ([], 0)]),
            error_case(f"collate_batch with an item of {n} ids and prompt_length={past}", t.collate_batch,
                       [items[0], (items[1][0], past)], names=[past]),
            error_case("collate_batch(..., max_length=1)", t.collate_batch, items, max_length=1)]

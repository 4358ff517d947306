"""Public checks for topic 33 - instruction data loaders.

The helpers here are shared with the hidden checks of this topic:

* :class:`GluedTokenizer`, a tiny tokenizer for which encoding a prompt and a
  response separately differs from encoding them in one go (as with a real BPE
  tokenizer, whose merges can cross the boundary), and which counts its calls;
* random Alpaca records, and datasets of ready-made items that record which
  indices a loader asks for - so a shuffled loader can be judged by properties
  (a permutation, the same for the same seed, a new one every epoch, each row
  right for its own item) instead of by one particular shuffling algorithm.
"""

from __future__ import annotations

import copy
import re
import zlib
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from checks.t32_instruction_batching import pair_report
from llmkit.checks import check
from llmkit.probing import Rng
from llmkit.values import Mismatch, same

WORDS = ("red", "blue", "cat", "dog", "tree", "river", "stone", "light", "seven", "quick", "sleep", "open", "milk",
         "snow", "child", "write", "list", "sort", "name", "the", "a", "of", "in")
ENDINGS = (".", "?", "!", ":", "")


class GluedTokenizer:
    """Words keep the whitespace that follows them: ``"bar.\\n\\n"`` is one token, and a text that starts with
    whitespace starts with a whitespace token.

    So ``encode(prompt) + encode(response)`` (``[..., "bar.", "\\n\\n", ...]``) differs from
    ``encode(prompt + response)`` (``[..., "bar.\\n\\n", ...]``). Ids are a checksum of the token text, in
    ``[1, 997]``, the same in every process. ``calls`` counts the ``encode`` calls.
    """

    PATTERN = re.compile(r"^\s+|\S+\s*")

    def __init__(self):
        self.calls = 0
        self.tokens: dict[int, str] = {}

    def encode(self, text: str) -> list[int]:
        self.calls += 1
        ids = []
        for token in self.PATTERN.findall(text):
            token_id = zlib.crc32(token.encode("utf-8")) % 997 + 1
            self.tokens.setdefault(token_id, token)
            ids.append(token_id)
        return ids

    def decode(self, ids) -> str:
        return "".join(self.tokens.get(int(i), "?") for i in ids)


def words(rng: Rng, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.integer(low, high)))


def random_entry(rng: Rng, kind: str = "random") -> dict[str, Any]:
    """An Alpaca record whose instruction ends in a non-space character; ``kind``: "input", "no input key",
    "empty input", "empty output" or "random"."""
    if kind == "random":
        kind = rng.choice(["input", "no input key", "empty input"])
    entry = {"instruction": words(rng, 1, 6) + rng.choice(ENDINGS)}
    if kind == "input":
        entry["input"] = words(rng, 1, 5)
    elif kind != "no input key":
        entry["input"] = ""
    entry["output"] = "" if kind == "empty output" else words(rng, 1, 4)
    return entry


def random_entries(rng: Rng, count: int) -> list[dict[str, Any]]:
    """``count`` records; the first four are one of each kind (input, no input key, empty input, empty output)."""
    kinds = ["input", "no input key", "empty input", "empty output"]
    entries = [random_entry(rng, kind) for kind in kinds[:count]]
    entries += [random_entry(rng) for _ in range(count - len(entries))]
    return rng.sample(entries, len(entries))


def dataset_report(t, entries: list[dict], tokenizer) -> dict:
    """Length and every item of ``InstructionDataset(entries, tokenizer)``, read twice; whether reading called
    the tokenizer; whether the entries stayed as they were."""
    before = copy.deepcopy(entries)
    dataset = t.InstructionDataset(entries, tokenizer)
    calls = tokenizer.calls
    count = len(dataset)
    first = [item_report(dataset[i]) for i in range(count)]
    again = [item_report(dataset[i]) for i in range(count)]
    return {"len": count, "items": first, "items read again": again == first,
            "encode calls while reading items": tokenizer.calls - calls, "entries unchanged": entries == before}


def item_report(item: Any) -> list:
    """An item checked to be ``(ids, prompt_length)``: a list of ints and an int."""
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise Mismatch(f"an item should be (ids, prompt_length), got a {type(item).__name__}")
    ids, prompt_length = item
    if type(ids) is not list or not all(type(i) is int for i in ids):
        raise Mismatch(f"an item's ids should be a list of ints, got a {type(ids).__name__}"
                       + (f" of {type(ids[0]).__name__}" if isinstance(ids, (list, tuple)) and ids else ""))
    if type(prompt_length) is not int:
        raise Mismatch(f"an item's prompt_length should be an int, got a {type(prompt_length).__name__}")
    return [ids, prompt_length]


class Items(Dataset):
    """A dataset of ready-made ``(ids, prompt_length)`` items that notes every index asked for."""

    def __init__(self, items: list[tuple[list[int], int]]):
        self.items = items
        self.asked: list[int] = []

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        self.asked.append(int(index))
        ids, prompt_length = self.items[index]
        return list(ids), prompt_length


def random_items(rng: Rng, count: int, low: int = 3, high: int = 14) -> list[tuple[list[int], int]]:
    """``count`` items of random lengths, each with a prompt of at least 2 tokens and a response."""
    items = []
    for _ in range(count):
        n = rng.integer(low, high)
        items.append((rng.randint(1, 998, (n,)).tolist(), rng.integer(2, n - 1)))
    return items


def epoch(loader, dataset: Items) -> list[dict]:
    """One pass: per batch, the indices the loader asked for and the batch."""
    out = []
    for batch in loader:
        taken, dataset.asked = dataset.asked, []
        out.append({"indices": taken, **pair_report(batch, "the loader's batch")})
    return out


def batches_probe(loader, dataset: Items) -> dict:
    """One pass, in order: the batches and the loader's type and length."""
    return {"a DataLoader": isinstance(loader, DataLoader), "len": len(loader), "batches": epoch(loader, dataset)}


def shuffle_probe(t, rng: Rng, count: int, batch_size: int, **options: Any) -> dict:
    """Shuffled loaders over ``count`` items (``count`` not a multiple of ``batch_size``, drop_last off).

    Loader A: two epochs. Loader B, the same arguments, built and read after torch's global generator was
    moved elsewhere: two epochs. Loader C: another seed. Loaders D and E: the default seed and seed=123.
    Every item read is kept, cut to its own length (its row without the padding that its batch added).
    """
    items = random_items(rng, count)
    seed = rng.integer(0, 2**31 - 1)
    state = torch.get_rng_state()
    runs, rows = {}, {}
    for name, moved, kwargs in [("A", None, {"seed": seed}), ("B", rng.integer(0, 2**31 - 1), {"seed": seed}),
                                ("C", None, {"seed": seed + 1}), ("D", None, {}), ("E", None, {"seed": 123})]:
        if moved is not None:
            torch.manual_seed(moved)
        dataset = Items(items)
        loader = t.instruction_loader(dataset, batch_size, shuffle=True, **kwargs, **options)
        epochs = []
        for _ in range(2 if name in "AB" else 1):
            batches = epoch(loader, dataset)
            epochs.append([b["indices"] for b in batches])
            if name == "A":
                shapes = [list(b["inputs"].shape) for b in batches]
            for b in batches:
                for row, index in enumerate(b["indices"]):
                    rows.setdefault(index, []).append(trimmed(b, row, len(items[index][0])))
        runs[name] = epochs
        if name == "A":
            untouched = torch.equal(torch.get_rng_state(), state)
    max_length = options.get("max_length")
    return {"lengths": [len(ids) for ids, _ in items], "batch_size": batch_size, "max_length": max_length,
            "order": runs["A"], "again": runs["B"], "other seed": runs["C"], "default seed": runs["D"],
            "seed 123": runs["E"], "global generator untouched": untouched, "shapes in the last epoch": shapes,
            "rows": [rows.get(i, []) for i in range(count)]}


def trimmed(batch: dict, row: int, n: int) -> list:
    """Row ``row`` of a batch, cut to the item's own ``n`` tokens: independent of the rest of its batch."""
    return [batch["inputs"][row, :n], batch["targets"][row, :n], batch["dtypes"]]


def compare_shuffled(got, expected, *, reveal: bool) -> None:
    """Every item's rows equal the reference's; each epoch is a permutation cut into batches of batch_size, each
    batch as wide as its longest item (or max_length); the same seed gives the same order whatever the global
    generator did, a new order every epoch; another seed another order; the default seed is 123; the global
    generator untouched."""
    if not isinstance(got, dict) or set(got) != set(expected):
        raise Mismatch("the probe's report is incomplete")
    count, size, cut = len(expected["lengths"]), expected["batch_size"], expected["max_length"]
    for name in ("order", "again", "other seed", "default seed", "seed 123"):
        for k, indices in enumerate(got[name]):
            flat = [i for batch in indices for i in batch]
            if sorted(flat) != list(range(count)):
                raise Mismatch(f"shuffled loader, epoch {k + 1}: the items read are not each of the {count} "
                               f"items once")
            sizes = [len(batch) for batch in indices]
            if sizes != [size] * (count // size) + ([count % size] if count % size else []):
                raise Mismatch(f"shuffled loader: batch sizes {sizes} with batch_size={size} and {count} items")
    for index, rows in enumerate(got["rows"]):
        for row in rows:
            same(row, expected["rows"][index][0], reveal=reveal, path=f"shuffled loader: the row of item {index}")
    if got["order"] != got["again"]:
        raise Mismatch("two loaders built with the same seed gave different orders (the second one after torch's "
                       "global generator was moved): shuffle with a torch.Generator seeded with seed")
    if not got["global generator untouched"]:
        raise Mismatch("building and reading a shuffled loader changed torch's global random generator")
    first, second = got["order"]
    if first == second:
        raise Mismatch("both epochs of a shuffled loader came in the same order: each epoch should be a new order")
    # m >= 10 items: a correct shuffle repeats an order (or keeps the original one) with probability 1/m! <= 3e-7
    if [i for batch in first for i in batch] == list(range(count)):
        raise Mismatch("shuffle=True, but the items came in their original order")
    if got["other seed"][0] == first:
        raise Mismatch("seeds seed and seed + 1 gave the same order: is the seed used?")
    if got["default seed"] != got["seed 123"]:
        raise Mismatch("the default seed should be 123: a loader without seed gave another order than seed=123")
    for k, (indices, shape) in enumerate(zip(second, got["shapes in the last epoch"])):
        width = max(expected["lengths"][i] for i in indices)
        width = width if cut is None else min(width, cut)
        if shape != [len(indices), width]:
            raise Mismatch(f"shuffled loader, batch {k}: inputs of shape {tuple(shape)}, expected "
                           f"({len(indices)}, {width}) - the longest of its items"
                           + ("" if cut is None else f", cut to max_length={cut}"))


@check("InstructionDataset with a tokenizer whose tokens can cross the prompt/response boundary: ids = encode(prompt) "
       "+ encode(response), prompt_length = len(encode(prompt)); reading items encodes nothing")
def dataset_small(t, rng):
    return dataset_report(t, random_entries(rng, 4), GluedTokenizer())


@check("instruction_loader without shuffling: batches in order, padded per batch, options passed to the collate")
def loader_small(t, rng):
    items = random_items(rng, 5)
    plain, masked = Items(items), Items(items)
    return {"defaults": batches_probe(t.instruction_loader(plain, 2), plain),
            "mask_prompt, pad_id 0, max_length 6": batches_probe(
                t.instruction_loader(masked, 3, pad_id=0, max_length=6, mask_prompt=True), masked)}


@check("instruction_loader with shuffle=True: a new order every epoch, the same for the same seed, the global "
       "generator untouched", compare=compare_shuffled)
def loader_shuffled(t, rng):
    return shuffle_probe(t, rng, 11, 3)

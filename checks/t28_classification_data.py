"""Public checks for topic 28 - classification data loaders.

The helpers here (a counting stand-in tokenizer whose texts are the token ids,
labelled texts with chosen class sizes, a stand-in dataset for the loader, and
the probes of balancing, splitting, the dataset and the loader) are reused by
the hidden checks of this topic.
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from llmkit.checks import check
from llmkit.data import tiktoken_gpt2
from llmkit.probing import Rng

SMS = ["Ok lar... Joking wif u oni...",
       "WINNER!! As a valued network customer you have been selected to receivea £900 prize reward!",
       "I'm gonna be home soon and i don't want to talk about this stuff anymore tonight, k?",
       "Free entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005.",
       "Even my brother is not like to speak with me.",
       "Had your mobile 11 months or more? U R entitled to Update to the latest colour mobiles"]
SMS_LABELS = [0, 1, 0, 1, 0, 1]


class IdTokenizer:
    """A stand-in tokenizer: the text is token ids separated by spaces (``"5 17 3"`` -> ``[5, 17, 3]``).

    It lets a check choose the exact ids a dataset sees (an id equal to the pad id,
    say), and it counts its ``encode`` calls: a dataset must encode each text once.
    """

    def __init__(self):
        self.calls = 0

    def encode(self, text: str) -> list[int]:
        self.calls += 1
        return [int(word) for word in text.split()]

    def decode(self, ids) -> str:
        return " ".join(str(int(i)) for i in ids)


def id_text(ids: list[int]) -> str:
    return " ".join(str(i) for i in ids)


def labelled(rng: Rng, sizes: dict[int, int]) -> tuple[list[str], list[int]]:
    """Texts ``"text 0"``, ``"text 1"``... with ``sizes[label]`` of each label, labels interleaved at random."""
    labels = [label for label, size in sizes.items() for _ in range(size)]
    labels = rng.sample(labels, len(labels))
    return [f"text {i}" for i in range(len(labels))], labels


def global_random_state() -> Any:
    return random.getstate()


def balance_probe(t, texts: list[str], labels: list[int], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``balance_classes``: the texts and labels kept (in order), and what it left alone."""
    given_texts, given_labels, state = list(texts), list(labels), global_random_state()
    kept_texts, kept_labels = t.balance_classes(texts, labels, *args, **kwargs)
    return {"texts": kept_texts if isinstance(kept_texts, list) else f"a {type(kept_texts).__name__}",
            "labels": kept_labels if isinstance(kept_labels, list) else f"a {type(kept_labels).__name__}",
            "inputs unchanged": texts == given_texts and labels == given_labels,
            "Python's global random untouched": global_random_state() == state}


def split_probe(t, texts: list[str], labels: list[int], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``split_dataset``: each part's texts and labels, and what it left alone."""
    given_texts, given_labels, state = list(texts), list(labels), global_random_state()
    parts = t.split_dataset(texts, labels, *args, **kwargs)
    return {"parts": [[list(p[0]), list(p[1])] for p in parts] if isinstance(parts, list) else
            f"a {type(parts).__name__}, expected a list",
            "parts are (list, list) tuples": isinstance(parts, list) and all(
                isinstance(p, tuple) and len(p) == 2 and all(type(x) is list for x in p) for p in parts),
            "inputs unchanged": texts == given_texts and labels == given_labels,
            "Python's global random untouched": global_random_state() == state}


def dataset_probe(t, texts: list[str], labels: list[int], tokenizer: Any, **kwargs: Any) -> dict[str, Any]:
    """A ``ClassificationDataset``: ``max_length``, ``len``, every item (twice), the dtypes, the encode calls."""
    ds = t.ClassificationDataset(texts, labels, tokenizer, **kwargs)
    calls = getattr(tokenizer, "calls", None)
    items = [list(ds[i]) for i in range(len(ds))]
    again = [list(ds[i]) for i in range(len(ds))]
    return {"max_length": ds.max_length, "len": len(ds), "items": items,
            "dtypes": sorted({str(getattr(x, "dtype", type(x).__name__)) for item in items for x in item}),
            "the same items when read again": all(all(torch.equal(a, b) for a, b in zip(x, y))
                                                 for x, y in zip(items, again)),
            "encode calls: while building, after reading": [calls, getattr(tokenizer, "calls", None)]}


class ItemsDataset(Dataset):
    """A stand-in for ``ClassificationDataset``: given ``(ids, label, length)`` items."""

    def __init__(self, ids: torch.Tensor, labels: torch.Tensor, lengths: torch.Tensor):
        self.items = list(zip(ids, labels, lengths))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self.items[i]


def items_dataset(rng: Rng, n: int, max_length: int) -> ItemsDataset:
    """``n`` items whose first id is their index (so every batch shows which items it holds)."""
    ids = rng.randint(0, 50, (n, max_length))
    ids[:, 0] = torch.arange(n)
    return ItemsDataset(ids, rng.randint(0, 2, (n,)), rng.randint(1, max_length + 1, (n,)))


def epoch(loader) -> list[list[torch.Tensor]]:
    return [list(batch) for batch in loader]


def equal_epochs(a: list, b: list) -> bool:
    """Do two lists of epochs hold the same batches, tensor for tensor?"""
    return len(a) == len(b) and all(
        len(x) == len(y) and all(len(p) == len(q) and all(torch.equal(u, v) for u, v in zip(p, q))
                                 for p, q in zip(x, y)) for x, y in zip(a, b))


def loader_probe(t, dataset: Dataset, batch_size: int, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``classification_loader``: two epochs of batches, and whether a second loader made alike gives the same."""
    loader = t.classification_loader(dataset, batch_size, *args, **kwargs)
    twin = t.classification_loader(dataset, batch_size, *args, **kwargs)
    epochs = [epoch(loader), epoch(loader)]
    return {"a DataLoader": isinstance(loader, DataLoader), "len": len(loader), "epochs": epochs,
            "made alike, the same epochs": equal_epochs(epochs, [epoch(twin), epoch(twin)])}


# ----------------------------------------------------------------------------- checks


@check("balance_classes: 9 texts of label 0 and 4 of label 1, the default seed and seed 7")
def balance_small(t, rng):
    texts, labels = labelled(rng, {0: 9, 1: 4})
    return [balance_probe(t, texts, labels), balance_probe(t, texts, labels, seed=7)]


@check("split_dataset: 30 labelled texts, the default fractions (0.7, 0.1, 0.2) and seed, then seed 5")
def split_small(t, rng):
    texts, labels = labelled(rng, {0: 15, 1: 15})
    return [split_probe(t, texts, labels), split_probe(t, texts, labels, seed=5)]


@check("ClassificationDataset: six SMS messages with tiktoken's GPT-2 encoding, padded to the longest with 50256, "
       "then truncated to 12 tokens")
def dataset_sms(t, rng):
    tokenizer = tiktoken_gpt2()
    full = dataset_probe(t, SMS, SMS_LABELS, tokenizer)
    cut = dataset_probe(t, SMS, SMS_LABELS, tokenizer, max_length=12)
    return [{k: v for k, v in d.items() if not k.startswith("encode")} for d in (full, cut)]


@check("ClassificationDataset: texts of given ids with pad_id=0 and max_length=6; each text encoded once")
def dataset_ids(t, rng):
    texts = [id_text([3, 1, 4]), id_text([1, 5, 9, 2, 6, 5, 3]), id_text([5]), id_text([8, 9, 7, 9, 3, 2])]
    return dataset_probe(t, texts, [1, 0, 1, 0], IdTokenizer(), max_length=6, pad_id=0)


@check("classification_loader: 10 items in batches of 4, in order, then shuffled with seed 3 (two epochs)")
def loader_small(t, rng):
    dataset = items_dataset(rng, 10, 5)
    return [loader_probe(t, dataset, 4), loader_probe(t, dataset, 4, shuffle=True, seed=3)]

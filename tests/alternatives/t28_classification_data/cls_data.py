"""Topic 28 written from the README alone, another way round: Counter for the class sizes, a set of kept
indices, itertools.accumulate for the cut points, a tensor full of pad_id filled row by row, and a
generator seeded in two steps."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import torch
from torch.utils.data import DataLoader, Dataset

from course.t02_bpe import load_gpt2_tokenizer


def _pairs_ok(texts, labels):
    if len(labels) != len(texts):
        raise ValueError(f"got {len(texts)} texts and {len(labels)} labels")


def balance_classes(texts, labels, seed=123):
    _pairs_ok(texts, labels)
    counts = Counter(labels)
    if not counts:
        return [], []
    smallest = min(counts.values())
    rng = random.Random(seed)
    keep = set()
    for label in sorted(counts):
        where = [i for i, lab in enumerate(labels) if lab == label]
        keep.update(rng.sample(where, k=smallest))
    chosen = [i for i in range(len(labels)) if i in keep]
    return list(map(texts.__getitem__, chosen)), list(map(labels.__getitem__, chosen))


def split_dataset(texts, labels, fractions=(0.7, 0.1, 0.2), seed=123):
    _pairs_ok(texts, labels)
    fractions = tuple(fractions)
    if len(fractions) != 3 or min(fractions) < 0 or math.fsum(fractions) > 1 + 1e-12:
        raise ValueError(f"bad fractions={fractions}: three numbers >= 0 with a sum of at most 1")
    n = len(texts)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    bounds = [0, *itertools.accumulate([math.floor(n * fractions[0]), math.floor(n * fractions[1])]), n]
    parts = []
    for lo, hi in itertools.pairwise(bounds):
        picked = order[lo:hi]
        parts.append(([texts[i] for i in picked], [labels[i] for i in picked]))
    return parts


class ClassificationDataset(Dataset):
    def __init__(self, texts, labels, tokenizer=None, max_length=None, pad_id=50256):
        if len(texts) != len(labels):
            raise ValueError(f"texts and labels differ in length: {len(texts)} vs {len(labels)}")
        if len(texts) == 0:
            raise ValueError("cannot build a dataset from zero texts")
        if max_length is not None and max_length <= 0:
            raise ValueError(f"max_length={max_length} is not a positive length")
        if tokenizer is None:
            tokenizer = load_gpt2_tokenizer()
        token_lists = []
        for index, text in enumerate(texts):
            ids = tokenizer.encode(text)
            if len(ids) == 0:
                raise ValueError(f"the text at index {index} has no tokens")
            token_lists.append(ids)
        self.max_length = max_length if max_length is not None else max(map(len, token_lists))
        self._ids = torch.full((len(token_lists), self.max_length), pad_id, dtype=torch.long)
        self._lengths = torch.empty(len(token_lists), dtype=torch.long)
        for row, ids in enumerate(token_lists):
            real = min(len(ids), self.max_length)
            self._ids[row, :real] = torch.as_tensor(ids[:real], dtype=torch.long)
            self._lengths[row] = real
        self._labels = torch.as_tensor([int(x) for x in labels], dtype=torch.long)

    def __len__(self):
        return self._labels.shape[0]

    def __getitem__(self, i):
        return self._ids[i].clone(), self._labels[i].clone(), self._lengths[i].clone()


def classification_loader(dataset, batch_size, shuffle=False, seed=123, drop_last=False):
    gen = torch.Generator()
    gen.manual_seed(seed)
    return DataLoader(dataset, batch_size, shuffle=shuffle, drop_last=drop_last, generator=gen)

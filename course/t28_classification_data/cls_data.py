"""Topic 28 - classification data: from labelled texts to padded batches.

Finetuning a GPT to *classify* (spam or not, topic 30) starts with the data:

    texts, labels  ->  balance_classes  ->  split_dataset  ->  train | val | test
    each part      ->  ClassificationDataset (tokenize once, truncate, pad)
                   ->  classification_loader  ->  (inputs, labels, lengths) batches

**Balance.** The SMS Spam Collection holds 4,220 ham messages and 642 spam. A
model that answers "ham" every time is right 87% of the time and has learned
nothing. Undersampling every class to the size of the smallest makes "always the
same answer" score exactly 1/k on k classes, so accuracy means something again.
Which messages of the larger classes are kept is a random draw, seeded so the
same seed keeps the same ones.

**Split once, with a seed.** Shuffle with the seed, then cut: the first
``int(n * fractions[0])`` train, the next ``int(n * fractions[1])`` validate,
the rest test. The same seed gives the same parts on every machine, so a test
message never leaks into training.

**Pad to one length.** A batch is one tensor, so every sequence in it has the
same length: texts longer than ``max_length`` tokens are cut (their *first*
tokens kept), shorter ones are filled up with ``pad_id`` - GPT-2's end-of-text
token 50256 by default, a token the model already knows. The model reads the
padding too, so topic 29 must take the logits at the *last real* token: each
item therefore also carries its ``length``, the number of real tokens.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from course.t02_bpe import load_gpt2_tokenizer  # your topic 02


def _same_length(texts: Sequence[Any], labels: Sequence[Any], caller: str) -> None:
    if len(texts) != len(labels):
        raise ValueError(f"{caller}: {len(texts)} texts but {len(labels)} labels - they must pair up one to one")


def balance_classes(texts: Sequence[str], labels: Sequence[int], seed: int = 123) -> tuple[list[str], list[int]]:
    """Undersample every class to the size of the smallest one: ``(texts, labels)``, two new lists.

    With ``m`` the number of items of the rarest label and ``rng = random.Random(seed)``,
    for each label in sorted order (``sorted(set(labels))``): ``rng.sample(positions, m)``
    picks ``m`` of that label's positions (``positions``: its indices in ``texts``,
    ascending). The kept items keep their original order (sorted by index). A
    class of exactly ``m`` items is kept whole; no input gives ``([], [])``.
    ``texts`` and ``labels`` of different lengths -> ``ValueError`` naming both.
    Neither input is changed, nor Python's global ``random`` state.
    """
    raise NotImplementedError('t28 balance_classes: not implemented yet - write it in course/t28_classification_data/cls_data.py')


def split_dataset(texts: Sequence[str], labels: Sequence[int], fractions: tuple[float, float, float] = (0.7, 0.1, 0.2),
                  seed: int = 123) -> list[tuple[list[str], list[int]]]:
    """Shuffle the pairs once with ``seed`` and cut them into ``[(train texts, train labels), (val ...), (test ...)]``.

    The order is ``order = list(range(n))`` shuffled by ``random.Random(seed).shuffle(order)``;
    part ``k`` holds ``texts[order[j]]`` / ``labels[order[j]]`` for its slice of ``order``.
    With ``n = len(texts)``: ``n_train = int(n * fractions[0])``, ``n_val = int(n *
    fractions[1])``, the test part gets the rest, so every pair lands in exactly one
    part. Each part is a tuple of two new lists.

    ``fractions``: three numbers ``>= 0`` summing to at most 1 (up to float rounding),
    else ``ValueError`` naming ``fractions``; ``texts`` and ``labels`` of different
    lengths -> ``ValueError`` naming both. The inputs and Python's global ``random``
    state are left alone.
    """
    raise NotImplementedError('t28 split_dataset: not implemented yet - write it in course/t28_classification_data/cls_data.py')


class ClassificationDataset(Dataset):
    """Labelled texts, tokenized once, truncated and padded to one length ``max_length``.

    ``tokenizer``: anything with ``encode(text) -> list[int]`` (``None``: topic 02's
    ``load_gpt2_tokenizer()``). Each text is encoded exactly once, here; its first
    ``max_length`` tokens are kept (``None``: the length of the longest encoded
    text) and the rest of the row is filled with ``pad_id``.

    ``dataset[i]`` is ``(ids, label, length)``: ``ids`` a ``(max_length,)`` long
    tensor, ``label`` and ``length`` 0-dim long tensors, ``length`` the number of
    real tokens (``min(len(encoded), max_length)``, at least 1).
    """

    def __init__(self, texts: Sequence[str], labels: Sequence[int], tokenizer: Any = None,
                 max_length: int | None = None, pad_id: int = 50256):
        """Errors (``ValueError``, each naming the value): ``texts`` and ``labels`` of
        different lengths (both numbers), no texts at all, ``max_length < 1`` (the
        number), a text that encodes to no token (its index)."""
        raise NotImplementedError('t28 ClassificationDataset.__init__: not implemented yet - write it in course/t28_classification_data/cls_data.py')

    def __len__(self) -> int:
        """The number of texts."""
        raise NotImplementedError('t28 ClassificationDataset.__len__: not implemented yet - write it in course/t28_classification_data/cls_data.py')

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(ids (max_length,), label (), length ())`` of text ``i``, all ``torch.long``."""
        raise NotImplementedError('t28 ClassificationDataset.__getitem__: not implemented yet - write it in course/t28_classification_data/cls_data.py')


def classification_loader(dataset: Dataset, batch_size: int, shuffle: bool = False, seed: int = 123,
                          drop_last: bool = False) -> DataLoader:
    """A ``DataLoader`` of ``(inputs (batch, max_length), labels (batch,), lengths (batch,))`` batches.

    ``DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
    generator=torch.Generator().manual_seed(seed))``: the shuffled order comes from
    a private generator, so two loaders made with the same seed give the same
    batches, epoch after epoch, and the global random state plays no part.
    """
    raise NotImplementedError('t28 classification_loader: not implemented yet - write it in course/t28_classification_data/cls_data.py')

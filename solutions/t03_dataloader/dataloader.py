"""Topic 03 - input-target pairs and a DataLoader for next-token prediction.

A GPT is trained to predict the next token. From one long stream of token ids
we cut fixed-size windows; each window gives an input sequence and a target
sequence that is the same stream shifted one token to the left, so position
``t`` of the target is the token that follows position ``t`` of the input.

``GPTDataset`` serves those windows; ``create_dataloader`` goes from raw text
(tokenized with topic 02's GPT-2 tokenizer) to shuffled batches.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch.utils.data import DataLoader, Dataset

# resolves to your own topic 02 (or to the reference when grading falls back; see llmkit/resolver.py)
from course.t02_bpe import load_gpt2_tokenizer

ENDOFTEXT = "<|endoftext|>"  # GPT-2's document separator (allowed_special="all" keeps it one id)


class GPTDataset(Dataset):
    """Sliding windows over a token stream, as ``(input_ids, target_ids)`` pairs.

    Arguments:

    * ``token_ids``: the whole stream, a list of ints or a 1-D tensor of any
      integer dtype, of length ``n``;
    * ``max_length``: tokens per window (the model's context length during training);
    * ``stride``: distance between the starts of two consecutive windows.
      ``stride < max_length`` makes windows overlap, ``stride == max_length``
      tiles the stream, ``stride > max_length`` skips tokens between windows.

    Window ``k`` starts at ``s = k * stride``; item ``k`` is

        input_ids  = ids[s     : s + max_length]        # shape (max_length,)
        target_ids = ids[s + 1 : s + max_length + 1]    # shape (max_length,)

    A window is kept only while its target fits inside the stream
    (``s + max_length + 1 <= n``), so the last, incomplete window is dropped.

    Attributes (set by ``__init__``): ``token_ids`` (1-D LongTensor, length ``n``,
    whatever the input's type), ``max_length``, ``stride``.

    Errors (``ValueError``): ``max_length < 1``, ``stride < 1``, a ``token_ids``
    that is not 1-D, or fewer than ``max_length + 1`` tokens ("text too short").
    """

    def __init__(self, token_ids: Sequence[int] | torch.Tensor, max_length: int, stride: int):
        ### BEGIN SOLUTION
        if max_length < 1:
            raise ValueError(f"GPTDataset: max_length must be at least 1, got max_length={max_length}")
        if stride < 1:
            raise ValueError(f"GPTDataset: stride must be at least 1, got stride={stride}")
        ids = torch.as_tensor(token_ids, dtype=torch.long)
        if ids.dim() != 1:
            raise ValueError(f"GPTDataset: token_ids must be 1-D, got shape {tuple(ids.shape)}")
        n = ids.numel()
        # One window needs max_length inputs plus one more token for the last target.
        if n < max_length + 1:
            raise ValueError(
                f"GPTDataset: text too short: got {n} tokens, need at least "
                f"max_length+1 = {max_length + 1}"
            )
        self.token_ids = ids
        self.max_length = max_length
        self.stride = stride
        ### END SOLUTION

    def __len__(self) -> int:
        """Number of windows: starts ``s = 0, stride, 2*stride, ...`` with ``s + max_length < n``."""
        ### BEGIN SOLUTION
        # The last usable start is n - max_length - 1; count the multiples of
        # stride from 0 up to it (there is at least one: start 0).
        last_start = self.token_ids.numel() - self.max_length - 1
        return last_start // self.stride + 1
        ### END SOLUTION

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Window ``index`` as ``(input_ids, target_ids)``, two LongTensors of shape ``(max_length,)``.

        Negative indices count from the end, as for a list (``-1`` is the last
        window, ``-len(self)`` the first); any index outside ``[-len(self), len(self))``
        raises ``IndexError``.
        """
        ### BEGIN SOLUTION
        count = len(self)
        index = int(index)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"GPTDataset: index out of range for {count} windows")
        start = index * self.stride
        stop = start + self.max_length
        # The target is the input moved one token to the right in the stream.
        return self.token_ids[start:stop], self.token_ids[start + 1 : stop + 1]
        ### END SOLUTION


def create_dataloader(
    text: str,
    batch_size: int = 4,
    max_length: int = 256,
    stride: int = 128,
    shuffle: bool = True,
    drop_last: bool = True,
    num_workers: int = 0,
    tokenizer=None,
    seed: int | None = None,
) -> DataLoader:
    """A DataLoader of ``(inputs, targets)`` batches, each of shape ``(batch_size, max_length)``.

    Steps: tokenize ``text`` with ``tokenizer.encode(text, allowed_special="all")``
    (every special token the tokenizer has, such as GPT-2's ``<|endoftext|>``,
    becomes its single id; a tokenizer without special tokens reads their text as
    ordinary text), wrap the ids in a ``GPTDataset(ids, max_length, stride)`` and
    return a ``torch.utils.data.DataLoader`` over it with ``batch_size``,
    ``shuffle``, ``drop_last`` and ``num_workers``.

    * ``tokenizer``: any object with ``encode(text, allowed_special=...)`` that
      accepts ``"all"``, such as topic 02's ``BPETokenizer`` or tiktoken's GPT-2
      encoding; ``None`` uses ``load_gpt2_tokenizer()`` (topic 02).
    * ``seed``: with ``shuffle=True``, shuffle with ``torch.Generator().manual_seed(seed)``
      so that two loaders built with the same seed give the same order; ``None``
      uses PyTorch's global random state. A seed never reseeds the global random
      state: do not call ``torch.manual_seed`` here.
    * ``drop_last=True`` drops a final batch smaller than ``batch_size``.

    A text shorter than ``max_length + 1`` tokens raises ``GPTDataset``'s ``ValueError``.
    """
    ### BEGIN SOLUTION
    if tokenizer is None:
        tokenizer = load_gpt2_tokenizer()
    ids = tokenizer.encode(text, allowed_special="all")
    dataset = GPTDataset(ids, max_length=max_length, stride=stride)
    # A private, seeded generator makes the shuffled order reproducible without
    # touching (or depending on) the global random state.
    generator = torch.Generator().manual_seed(seed) if shuffle and seed is not None else None
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        num_workers=num_workers,
        generator=generator,
    )
    ### END SOLUTION

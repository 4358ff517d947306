"""Topic 33 - instruction data loaders: tokenize once, batch with topic 32's collate.

Two pieces connect the records of topic 31 to the batches of topic 32:

* ``InstructionDataset`` tokenizes every record once, when it is built. Each
  item is ``(ids, prompt_length)``: the tokens of the prompt followed by the
  tokens of the response, and how many of them are the prompt. The prompt and
  the response are encoded *separately* and concatenated. Encoding the whole
  example in one go can merge tokens across the boundary (a BPE tokenizer may
  glue the prompt's last characters to the response's first ones), and then
  no prefix of the ids is exactly the prompt: ``prompt_length`` would point
  into the middle of a token, and prompt masking would mask the wrong targets.
  Separate encodes make the prompt's tokens an exact prefix, and they are
  exactly the tokens the model sees at generation time, when it is given
  ``format_input(entry)`` alone.
* ``instruction_loader`` wraps a dataset in a ``DataLoader`` whose
  ``collate_fn`` is topic 32's ``collate_batch`` with the chosen options. Its
  shuffle draws from its own ``torch.Generator`` seeded with ``seed``, so the
  order depends on the seed alone - not on how many random numbers the model's
  initialization or dropout took from the global generator before.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from course.t31_instruction_data import format_input, format_response  # your topic 31
from course.t32_instruction_batching import collate_batch  # your topic 32


class InstructionDataset(Dataset):
    """Alpaca records, tokenized once: item ``i`` is ``(ids, prompt_length)``.

    ``InstructionDataset(entries, tokenizer)``: ``entries`` is a list of records
    (dicts with ``"instruction"``, ``"output"`` and optionally ``"input"``);
    ``tokenizer`` anything with ``encode(text) -> list[int]`` (topic 02's
    ``BPETokenizer``, tiktoken's ``gpt2`` encoding, ...). For each entry::

        prompt   = tokenizer.encode(format_input(entry))      # topic 31
        response = tokenizer.encode(format_response(entry))
        ids, prompt_length = prompt + response, len(prompt)

    Every encode happens in ``__init__``; reading items never calls the tokenizer.
    ``entries`` is not changed.
    """

    def __init__(self, entries: Sequence[dict[str, Any]], tokenizer: Any):
        raise NotImplementedError('t33 InstructionDataset.__init__: not implemented yet - write it in course/t33_instruction_loaders/instr_data.py')

    def __len__(self) -> int:
        """The number of entries."""
        raise NotImplementedError('t33 InstructionDataset.__len__: not implemented yet - write it in course/t33_instruction_loaders/instr_data.py')

    def __getitem__(self, index: int) -> tuple[list[int], int]:
        """``(ids, prompt_length)`` of entry ``index``; ``ids`` is a new list on every call.

        A negative index counts from the end, as for a list; an index outside
        ``[-len(self), len(self))`` raises ``IndexError``.
        """
        raise NotImplementedError('t33 InstructionDataset.__getitem__: not implemented yet - write it in course/t33_instruction_loaders/instr_data.py')


def instruction_loader(dataset: Dataset, batch_size: int, shuffle: bool = False, seed: int = 123,
                       drop_last: bool = False, pad_id: int = 50256, ignore_index: int = -100,
                       max_length: int | None = None, mask_prompt: bool = False) -> DataLoader:
    """A ``DataLoader`` over ``dataset`` whose batches are topic 32's ``(inputs, targets)``.

    ``dataset`` is any dataset of ``(ids, prompt_length)`` items, such as an
    :class:`InstructionDataset`. Each batch of ``batch_size`` items (the last one
    smaller, unless ``drop_last``) goes through ``collate_batch(items,
    pad_id=pad_id, ignore_index=ignore_index, max_length=max_length,
    mask_prompt=mask_prompt)``. Without ``shuffle`` the items come in the
    dataset's order. With ``shuffle`` every epoch is a new order drawn from a
    ``torch.Generator`` seeded with ``seed`` once, when the loader is built:
    two loaders built with the same arguments give the same batches, epoch after
    epoch, and torch's global random generator is neither used nor changed.
    """
    raise NotImplementedError('t33 instruction_loader: not implemented yet - write it in course/t33_instruction_loaders/instr_data.py')

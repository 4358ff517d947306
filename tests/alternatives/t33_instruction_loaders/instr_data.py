"""Topic 33 written from the README only, another way: parallel tuples for the items, explicit index checks,
a sampler of its own that draws torch.randperm from a seeded generator, and a closure as collate_fn."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from course.t31_instruction_data import format_input, format_response
from course.t32_instruction_batching import collate_batch


class InstructionDataset(Dataset):
    def __init__(self, entries, tokenizer):
        prompts = [tuple(tokenizer.encode(format_input(e))) for e in entries]
        responses = [tuple(tokenizer.encode(format_response(e))) for e in entries]
        self._ids = tuple(p + r for p, r in zip(prompts, responses))
        self._prompt_lengths = tuple(len(p) for p in prompts)

    def __len__(self):
        return len(self._ids)

    def __getitem__(self, i):
        count = len(self._ids)
        if not -count <= i < count:
            raise IndexError(f"index {i} out of range for {count} records")
        i = i + count if i < 0 else i
        return [int(x) for x in self._ids[i]], self._prompt_lengths[i]


class _Permutations(Sampler):
    """A new torch.randperm for every epoch, from one generator seeded once."""

    def __init__(self, size, seed):
        super().__init__()
        self.size = size
        self.generator = torch.Generator()
        self.generator.manual_seed(seed)

    def __len__(self):
        return self.size

    def __iter__(self):
        yield from torch.randperm(self.size, generator=self.generator).tolist()


def instruction_loader(dataset, batch_size, shuffle=False, seed=123, drop_last=False, pad_id=50256,
                       ignore_index=-100, max_length=None, mask_prompt=False):
    def collate(items):
        return collate_batch(items, pad_id=pad_id, ignore_index=ignore_index, max_length=max_length,
                             mask_prompt=mask_prompt)

    sampler = _Permutations(len(dataset), seed) if shuffle else None
    # the DataLoader draws a base seed for workers on every epoch: from a private generator, not the global one
    private = torch.Generator()
    private.manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=drop_last, collate_fn=collate,
                      generator=private)

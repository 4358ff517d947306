"""Topic 32 written from the README only, another way: whole tensors filled at once, no Python padding
lists in the batch, masks built by comparing position indices."""

from __future__ import annotations

import torch
import torch.nn.functional as F

END_OF_TEXT = 50256
IGNORE_INDEX = -100


def pad_item(ids, length, pad_id=END_OF_TEXT):
    missing = length - len(ids)
    if missing <= 0:
        raise ValueError(f"need length >= {len(ids) + 1} to fit {len(ids)} ids and an end-of-text; got {length}")
    out = [pad_id for _ in range(length)]
    out[: len(ids)] = ids
    return out


def input_target_row(ids, prompt_length, length, pad_id=END_OF_TEXT, ignore_index=IGNORE_INDEX,
                     mask_prompt=False):
    n = len(ids)
    if not n:
        raise ValueError("an empty item has nothing to learn")
    if prompt_length < 0 or prompt_length > n:
        raise ValueError(f"the prompt ({prompt_length} tokens) must fit in the item's {n} tokens")
    if n > length:
        raise ValueError(f"the item has {n} tokens, more than the row's {length}")
    text = torch.as_tensor(list(ids), dtype=torch.int64)
    # the text, then pad_id for the end-of-text and every padding slot
    full = F.pad(text, (0, length + 1 - n), value=pad_id)
    positions = torch.arange(length)
    keep = positions < n
    if mask_prompt:
        keep &= positions >= prompt_length - 1
    targets = torch.where(keep, full[1:], torch.full_like(full[1:], ignore_index))
    return full[:length].clone(), targets


def collate_batch(items, pad_id=END_OF_TEXT, ignore_index=IGNORE_INDEX, max_length=None, mask_prompt=False):
    if max_length is not None and max_length <= 0:
        raise ValueError(f"max_length={max_length} must be positive")
    if not items:
        raise ValueError("an empty list of items is no batch")
    lengths = [len(ids) for ids, _ in items]
    width = max(lengths)
    cut = width if max_length is None else min(width, max_length)
    inputs = torch.empty(len(items), cut, dtype=torch.int64)
    targets = torch.empty(len(items), cut, dtype=torch.int64)
    for i, (ids, prompt_length) in enumerate(items):
        row_in, row_out = input_target_row(ids, prompt_length, width, pad_id, ignore_index, mask_prompt)
        inputs[i], targets[i] = row_in[:cut], row_out[:cut]
    return inputs, targets

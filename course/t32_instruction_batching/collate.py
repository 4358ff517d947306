"""Topic 32 - batching for instruction tuning: one collate function.

Instruction examples have different lengths, and a batch is one rectangular
tensor. The collate function (what a ``DataLoader`` calls to turn a list of
items into a batch) therefore pads. For instruction tuning it does four things
to every item ``(ids, prompt_length)`` of a batch, where ``ids`` are the tokens
of prompt + response and the first ``prompt_length`` of them are the prompt:

1. **Append one end-of-text token** (``pad_id``, GPT-2's ``<|endoftext|>`` =
   50256 by default). It is the last thing the model must learn to write: it
   means "the response is complete", and generation stops when it appears.
2. **Pad to the longest item of the batch** with more ``pad_id`` tokens (not
   to a fixed length: a batch of short examples stays short and cheap).
3. **Shift**: the inputs are the padded row without its last token, the
   targets the same row without its first token, so target ``j`` is the token
   that follows input ``j`` - next-token prediction, as in pretraining.
4. **Mask**: a target equal to ``ignore_index`` (-100, ``F.cross_entropy``'s
   default) adds nothing to the loss and no gradient. Every padding target is
   masked - except the appended end-of-text, the one the model must learn.
   With ``mask_prompt`` the targets inside the prompt are masked too, so the
   model is trained only on writing responses, not on reproducing prompts.

The rule of step 4 is *positional*: target ``j`` of an item with ``n`` tokens
is the end-of-text when ``j == n - 1`` and padding when ``j >= n``. Comparing
values instead (``targets == pad_id``) would break on a text that contains the
end-of-text token itself.

Finally, ``max_length`` cuts both tensors to the model's context length.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

END_OF_TEXT = 50256  # GPT-2's <|endoftext|> id, the default pad_id
IGNORE_INDEX = -100  # torch.nn.functional.cross_entropy's default ignore_index


def pad_item(ids: Sequence[int], length: int, pad_id: int = END_OF_TEXT) -> list[int]:
    """``ids`` followed by ``pad_id`` up to ``length`` tokens: one end-of-text, then padding.

    Returns a new list of ``length`` ints, ``list(ids) + [pad_id] * (length - len(ids))``;
    ``ids`` itself is not changed. The first ``pad_id`` after the text is its
    end-of-text token, so ``length`` must leave room for it: ``length < len(ids) + 1``
    raises ``ValueError`` naming ``length`` and ``len(ids)``.
    """
    raise NotImplementedError('t32 pad_item: not implemented yet - write it in course/t32_instruction_batching/collate.py')


def input_target_row(ids: Sequence[int], prompt_length: int, length: int, pad_id: int = END_OF_TEXT,
                     ignore_index: int = IGNORE_INDEX, mask_prompt: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """One row of a batch: ``(inputs, targets)``, two ``torch.long`` tensors of shape ``(length,)``.

    With ``n = len(ids)`` and ``padded = pad_item(ids, length + 1, pad_id)``:

    * ``inputs = padded[:-1]`` and ``targets = padded[1:]``, so ``targets[j]`` is
      the token after ``inputs[j]``;
    * ``targets[n - 1]`` is the appended end-of-text and stays;
    * ``targets[j] = ignore_index`` for every ``j >= n`` (padding);
    * with ``mask_prompt``: ``targets[j] = ignore_index`` for every ``j < prompt_length - 1``
      (those targets are prompt tokens; ``targets[prompt_length - 1]``, the first
      response token, stays).

    The rule is positional: a ``pad_id`` inside ``ids`` is text and is never masked
    for being a ``pad_id``. Errors (``ValueError``): ``n == 0`` (no tokens),
    ``prompt_length`` outside ``[0, n]`` (naming it and ``n``), ``length < n``
    (naming both).
    """
    raise NotImplementedError('t32 input_target_row: not implemented yet - write it in course/t32_instruction_batching/collate.py')


def collate_batch(items: Sequence[tuple[Sequence[int], int]], pad_id: int = END_OF_TEXT,
                  ignore_index: int = IGNORE_INDEX, max_length: int | None = None,
                  mask_prompt: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn ``items`` (a list of ``(ids, prompt_length)``) into ``(inputs, targets)``, each ``(batch, T)`` long.

    ``T`` is the length of the longest ``ids`` in the batch (every row gets one
    end-of-text appended, then padding up to ``T + 1`` tokens, then the shift
    takes one away). Row ``i`` is ``input_target_row(ids_i, prompt_length_i, T,
    pad_id, ignore_index, mask_prompt)``. Then, when ``max_length`` is given,
    both tensors are cut to their first ``max_length`` columns (a batch never
    grows to ``max_length``). The items are not changed. Tensors stay on the CPU
    (the training loop moves each batch to its device).

    Errors (``ValueError``): no items; ``max_length < 1`` (naming it); every
    error of ``input_target_row`` for a bad item.
    """
    raise NotImplementedError('t32 collate_batch: not implemented yet - write it in course/t32_instruction_batching/collate.py')

"""Topic 35 - instruction finetuning: train on the responses, generate, cut the answer out, save it.

Instruction finetuning is pretraining's loop on other data. Topic 33's loader
gives ``(inputs, targets)`` batches of Alpaca examples, and topic 22's
``train_step`` makes one optimizer step on each, with the same next-token
cross-entropy as before. What is new is in the targets: with
``mask_prompt=True`` every target that would predict a token of the prompt is
``-100``, and so is every padding position after the first end-of-text.
Topic 20's cross-entropy skips ``-100``, so the loss counts only the tokens the
model should learn to *write*: the response and the end-of-text after it. The
training loop must pass the targets through untouched. A loop that rebuilds
them from the inputs, or replaces ``-100`` by a real id, quietly trains the
model to reproduce the template and the padding instead.

After training the model answers. It is given the prompt alone
(``format_input(entry)``, topic 31) and continues greedily (topic 24's
``generate`` with temperature 0) until it writes the end-of-text token. The
decoded text still starts with the prompt, then the ``### Response:`` header
the model learned to write, then the answer, then ``<|endoftext|>``. So the
answer is cut out: everything after the prompt, the header removed, cut at
the first end-of-text, stripped.

The answers go into a JSON file next to the records they answer, for topic 36
to judge. The file is written atomically, as topic 25 writes its checkpoints:
a crash while writing never leaves half a file where a complete one was.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from course.t21_evaluation import evaluate_model  # your topic 21
from course.t22_pretraining import train_step  # your topic 22
from course.t24_top_k_top_p import generate  # your topic 24
from course.t31_instruction_data import format_input  # your topic 31

RESPONSE_HEADER = "### Response:"  # topic 31's header before the response
END_OF_TEXT = "<|endoftext|>"  # how the end-of-text token decodes (GPT-2's BPE, the kit's tokenizers)


def train_instructions(model: nn.Module, train_loader: Iterable, val_loader: Iterable,
                       optimizer: torch.optim.Optimizer, device: torch.device | str, num_epochs: int,
                       eval_every: int = 50, eval_batches: int = 5,
                       on_step: Callable[[int, float], Any] | None = None) -> dict[str, list]:
    """Finetune ``model`` on instruction batches; return the history of its evaluations.

    For each of ``num_epochs`` epochs, for each ``(inputs, targets)`` of
    ``train_loader`` in order: topic 22's ``train_step(model, inputs, targets,
    optimizer, device)`` with the targets exactly as the loader made them (its
    ``-100`` entries are what keeps the loss on the response); ``step += 1``
    (steps count from 1); ``tokens_seen += inputs.numel()``; then
    ``on_step(step, loss)`` when given. After every step that is a multiple of
    ``eval_every``, and after the last step if that one is not, one evaluation:
    topic 21's ``evaluate_model(model, train_loader, val_loader, device,
    eval_batches)`` (eval mode, no gradients, mode restored), appended to the
    history with the step and the tokens seen so far.

    Returns ``{"steps": [...], "tokens_seen": [...], "train_loss": [...],
    "val_loss": [...]}``: lists of ints and floats, one entry per evaluation (all
    empty when no step ran). ``eval_every < 1`` or ``num_epochs < 0`` ->
    ``ValueError`` naming it.
    """
    raise NotImplementedError('t35 train_instructions: not implemented yet - write it in course/t35_instruction_finetuning/instr_train.py')


def extract_response(generated_text: str, prompt_text: str) -> str:
    """The model's answer inside ``generated_text``, which starts with ``prompt_text``.

    In order: the text after ``prompt_text``; cut before the first ``<|endoftext|>``
    (everything after it is left out); leading whitespace removed, then a
    ``### Response:`` header at the very start removed (the same words later in
    the answer stay); finally whitespace stripped from both ends. A
    ``generated_text`` that does not start with ``prompt_text`` -> ``ValueError``.
    """
    raise NotImplementedError('t35 extract_response: not implemented yet - write it in course/t35_instruction_finetuning/instr_train.py')


def generate_response(model: nn.Module, tokenizer: Any, entry: Mapping[str, Any], max_new_tokens: int = 64,
                      eos_id: int | None = 50256) -> str:
    """The model's greedy answer to ``entry``.

    ``ids = tokenizer.encode(format_input(entry))`` (topic 31's prompt, without the
    response) as a ``(1, n)`` long tensor on the model's device; then topic 24's
    ``generate(model, ids, max_new_tokens, context_length=model.config.context_length,
    temperature=0.0, eos_id=eos_id)`` - greedy, each step seeing at most the last
    ``context_length`` ids, stopping once ``eos_id`` is written (``None``: no stop);
    then :func:`extract_response` of the decoded ids (prompt and continuation)
    and of the decoded prompt ids. The model generates in eval mode (no dropout)
    and is put back in the mode it had, also when generation raises.
    """
    raise NotImplementedError('t35 generate_response: not implemented yet - write it in course/t35_instruction_finetuning/instr_train.py')


def generate_responses(model: nn.Module, tokenizer: Any, entries: Sequence[Mapping[str, Any]],
                       max_new_tokens: int = 64, eos_id: int | None = 50256,
                       on_item: Callable[[int, dict], Any] | None = None) -> list[dict]:
    """:func:`generate_response` for every entry, in order: new dicts with a ``"model_response"`` key.

    Item ``i`` of the result is a shallow copy of ``entries[i]`` (every key kept)
    plus ``"model_response"``: the answer (a ``"model_response"`` already there is
    replaced in the copy). ``entries`` and its dicts are not changed. After each
    item, ``on_item(i, item)`` when given (``i`` counts from 0).
    """
    raise NotImplementedError('t35 generate_responses: not implemented yet - write it in course/t35_instruction_finetuning/instr_train.py')


def save_responses(entries: Sequence[Mapping[str, Any]], path: str | os.PathLike) -> None:
    """Write ``entries`` to ``path`` as JSON, UTF-8, indented, atomically.

    The text is ``json.dumps(entries, indent=..., ensure_ascii=False)``: indented
    (one value per line) and with every character as itself (``é``, ``中``, emoji),
    encoded as UTF-8. Missing parent folders are created. Atomic: the text goes to
    a temporary file in ``path``'s folder, which ``os.replace`` then moves onto
    ``path``. If anything fails (a value JSON cannot write, a full disk), the
    temporary file is deleted, a previous file at ``path`` is left as it was, and
    the exception propagates. ``entries`` is not changed.
    """
    raise NotImplementedError('t35 save_responses: not implemented yet - write it in course/t35_instruction_finetuning/instr_train.py')

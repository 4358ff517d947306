"""Topic 34 - loading weights for finetuning: the right model, all of its weights, or a clear error.

Finetuning starts from weights someone trained before: your own pretraining
run (a topic-25 checkpoint) or OpenAI's GPT-2 (a Hugging Face folder, topic
26). Before a single finetuning step, two things must be right:

* **The model must have the checkpoint's shape.** A state dict is a flat table
  of named tensors, and the names and shapes say almost everything about the
  model that made it: the token table ``embedding.tok_emb.weight`` is
  ``(vocab_size, d_model)``, the position table ``embedding.pos_emb.table.weight``
  is ``(context_length, d_model)``, the blocks are numbered ``blocks.0.`` ...
  ``blocks.{L-1}.``, a query projection with a bias shows ``qkv_bias``, and a
  head that *is* the token table shows ``tie_weights``. Only the number of
  heads cannot be seen: splitting ``d_model`` into 12 heads of 64 or 8 of 96
  leaves every tensor the same shape, so it must be given.
* **Every weight must arrive, or none.** ``load_state_dict(strict=False)``
  quietly skips what does not fit, and even the strict version copies the
  tensors that fit *before* it complains about the ones that do not. Either way
  a mismatch can leave a model that runs and talks nonsense, or one that is
  half old, half new. So every name and shape is checked first, and the model
  is touched only when all of them fit.

A tied model (topic 18) holds one tensor for the token table and the output
head; its ``state_dict()`` lists it twice, under both names. After
``torch.save`` the two still share their memory; after a copy (or a format
that cannot store shared tensors, such as safetensors) they are two equal
tensors. So "tied" is decided by the values, never by object identity.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from course.t13_gpt_config import GPTConfig  # your topic 13
from course.t18_gpt_model import GPTModel  # your topic 18
from course.t26_gpt2_weights import load_gpt2  # your topic 26

TOKEN_TABLE = "embedding.tok_emb.weight"
POSITION_TABLE = "embedding.pos_emb.table.weight"
HEAD = "out_head.weight"
QUERY_BIAS = "blocks.0.attn.W_query.bias"
BLOCK_KEY = re.compile(r"blocks\.(\d+)\.")  # "blocks.11.ff.fc.weight" -> "11"
CHECKPOINT_KEYS = ("config", "model")  # what a topic-25 checkpoint holds besides optimizer, step, RNG, extras


def count_blocks(state_dict: Mapping[str, torch.Tensor]) -> int:
    """The number of transformer blocks a state dict holds: one more than the largest block index.

    A key of block ``i`` starts with ``blocks.{i}.`` (``blocks.3.attn.W_key.weight``).
    Indices are numbers, not strings: ``blocks.10`` comes after ``blocks.9``. Every
    block has many keys, so the answer is ``1 + max(i)``, not a count of keys.
    No block key at all -> ``0``. Other keys are ignored.
    """
    raise NotImplementedError('t34 count_blocks: not implemented yet - write it in course/t34_finetune_weights/load_finetune.py')


def is_tied(state_dict: Mapping[str, torch.Tensor]) -> bool:
    """Did the state dict come from a model whose output head is its token table?

    ``True`` when there is no ``out_head.weight``, or when ``out_head.weight`` has
    the shape of ``embedding.tok_emb.weight`` and equal values (``torch.equal``):
    a tied model's ``state_dict()`` lists its one shared tensor under both names,
    whether or not the two still share memory. ``False`` otherwise.
    """
    raise NotImplementedError('t34 is_tied: not implemented yet - write it in course/t34_finetune_weights/load_finetune.py')


def infer_config(state_dict: Mapping[str, torch.Tensor], num_heads: int, **overrides: Any) -> GPTConfig:
    """The topic-13 ``GPTConfig`` of the model that made ``state_dict``, read off its names and shapes.

    ``vocab_size`` and ``d_model`` from ``embedding.tok_emb.weight`` ``(V, d)``;
    ``context_length`` from ``embedding.pos_emb.table.weight`` ``(C, d)``;
    ``num_layers`` from :func:`count_blocks`; ``qkv_bias``: whether
    ``blocks.0.attn.W_query.bias`` is there; ``tie_weights`` from :func:`is_tied`;
    ``num_heads`` as given (the weights cannot show it); ``dropout=0.0``. Then
    every keyword of ``overrides`` replaces that field (``dropout=0.1``). A missing
    token or position table -> ``ValueError`` naming the key; no block ->
    ``ValueError``; an override that is not a field of ``GPTConfig`` -> ``TypeError``
    naming it; values ``GPTConfig`` rejects -> its own ``ValueError``.
    """
    raise NotImplementedError('t34 infer_config: not implemented yet - write it in course/t34_finetune_weights/load_finetune.py')


def shares_head(model: nn.Module) -> bool:
    """Does ``model`` tie its head to its token table (one ``Parameter`` under both names)?"""
    head, table = getattr(model, "out_head", None), getattr(model, "embedding", None)
    return head is not None and table is not None and head.weight is table.tok_emb.weight


def check_state_dict(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> dict[str, list]:
    """Everything that keeps ``state_dict`` from loading into ``model``; all lists empty when it fits.

    Compares with ``model.state_dict()`` (parameters and saved buffers). Returns
    ``{"missing": [...], "unexpected": [...], "shapes": [...], "conflicts": [...]}``:

    * ``missing``: the model's keys the state dict lacks, sorted. A tied model
      (its head is its token table) may lack ``out_head.weight``: that is not missing.
    * ``unexpected``: the state dict's keys the model has no place for, sorted.
    * ``shapes``: ``(key, found, expected)`` for every key both have with another
      shape (``found``: the state dict's, ``expected``: the model's, each a tuple of
      ints), sorted by key.
    * ``conflicts``: ``["out_head.weight"]`` when the model is tied and the state
      dict holds an ``out_head.weight`` of the right shape whose values differ from
      its ``embedding.tok_emb.weight`` (one tensor in the model, two in the file);
      else ``[]``.

    Looks only: changes nothing.
    """
    raise NotImplementedError('t34 check_state_dict: not implemented yet - write it in course/t34_finetune_weights/load_finetune.py')


def describe(problems: dict[str, list]) -> str:
    """One sentence for :func:`check_state_dict`'s report (empty when nothing is wrong)."""
    parts = []
    if problems["missing"]:
        parts.append("missing keys " + ", ".join(problems["missing"]))
    if problems["unexpected"]:
        parts.append("unexpected keys " + ", ".join(problems["unexpected"]))
    for key, found, expected in problems["shapes"]:
        parts.append(f"{key} has shape {tuple(found)} in the state dict but {tuple(expected)} in the model")
    for key in problems["conflicts"]:
        parts.append(f"{key} differs from {TOKEN_TABLE}, but the model ties them (build it with tie_weights=False)")
    return "; ".join(parts)


def load_weights(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Copy ``state_dict`` into ``model``, all of it or nothing.

    First :func:`check_state_dict`: if anything is missing, unexpected, of another
    shape or in conflict, raise one ``ValueError`` naming every such key (for a
    shape: both shapes) - before any value is copied, so the model is exactly as
    it was. Otherwise copy every tensor into the model's own tensor of that name,
    in place, under ``torch.no_grad()``: the parameters stay the same objects
    (an optimizer built before still holds them), keep their dtype, device and
    ``requires_grad``, and a tied head stays tied. The model's train/eval mode is
    unchanged. Returns ``None``.
    """
    raise NotImplementedError('t34 load_weights: not implemented yet - write it in course/t34_finetune_weights/load_finetune.py')


def read_checkpoint(path: str | os.PathLike) -> tuple[dict, dict]:
    """``(config, state_dict)`` of a topic-25 checkpoint file, read safely.

    Reads with ``torch.load(path, map_location="cpu", weights_only=True)``: a file
    whose unpickling would call a function is refused before any of it runs. A
    topic-25 checkpoint is a dict holding (besides the optimizer, step, RNG
    states and extras) ``"config"``, a dict of ``GPTConfig``'s fields, and
    ``"model"``, the model's ``state_dict()``; both are returned as they are.

    Errors, each one sentence naming the path: no file -> ``FileNotFoundError``;
    a file ``torch.load`` cannot read that way (not a torch file, truncated, a
    pickle that names a function) -> ``ValueError``; a torch file that is not
    such a dict (a bare state dict, a list, no ``"config"`` or ``"model"``
    dict) -> ``ValueError``.
    """
    raise NotImplementedError('t34 read_checkpoint: not implemented yet - write it in course/t34_finetune_weights/load_finetune.py')


def load_model(source: str | os.PathLike, device: torch.device | str = "cpu", dropout: float = 0.0) -> GPTModel:
    """A ready-to-finetune topic-18 ``GPTModel`` from a checkpoint file or a GPT-2 folder.

    * ``source`` a folder: a Hugging Face GPT-2 folder (``config.json`` +
      ``model.safetensors``), loaded by topic 26's ``load_gpt2(source, dropout=dropout)``;
    * ``source`` a file: a topic-25 checkpoint (:func:`read_checkpoint`); its config
      rebuilds the model, ``GPTConfig(**config)`` with ``dropout`` replaced by the
      argument, built inside ``torch.random.fork_rng()`` (the throw-away random init
      must not move the caller's random state), then :func:`load_weights`.

    Either way the model is moved to ``device`` and returned in eval mode, every
    parameter trainable. Errors: no file or folder at ``source`` ->
    ``FileNotFoundError`` naming it; a folder without its files -> ``load_gpt2``'s
    ``FileNotFoundError``; a file that is no checkpoint -> :func:`read_checkpoint`'s
    ``ValueError``; a config with keys ``GPTConfig`` does not have -> ``ValueError``
    naming them; weights that do not fit the config -> :func:`load_weights`'s
    ``ValueError``.
    """
    raise NotImplementedError('t34 load_model: not implemented yet - write it in course/t34_finetune_weights/load_finetune.py')

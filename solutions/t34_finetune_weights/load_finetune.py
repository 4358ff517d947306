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
    ### BEGIN SOLUTION
    indices = [int(m.group(1)) for key in state_dict if (m := BLOCK_KEY.match(key))]
    return max(indices) + 1 if indices else 0  # int(): "10" > "9" as numbers, not as strings
    ### END SOLUTION


def is_tied(state_dict: Mapping[str, torch.Tensor]) -> bool:
    """Did the state dict come from a model whose output head is its token table?

    ``True`` when there is no ``out_head.weight``, or when ``out_head.weight`` has
    the shape of ``embedding.tok_emb.weight`` and equal values (``torch.equal``):
    a tied model's ``state_dict()`` lists its one shared tensor under both names,
    whether or not the two still share memory. ``False`` otherwise.
    """
    ### BEGIN SOLUTION
    head = state_dict.get(HEAD)
    if head is None:
        return True
    table = state_dict.get(TOKEN_TABLE)
    # equal values, not identity: a copied or re-saved state dict holds two equal tensors
    return table is not None and head.shape == table.shape and torch.equal(head, table)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    for key in (TOKEN_TABLE, POSITION_TABLE):
        if key not in state_dict:
            raise ValueError(f"infer_config: the state dict has no {key!r}: it is not a GPTModel's")
    vocab_size, d_model = state_dict[TOKEN_TABLE].shape
    num_layers = count_blocks(state_dict)
    if num_layers == 0:
        raise ValueError("infer_config: the state dict holds no transformer block (no 'blocks.{i}.' key)")
    fields = {"vocab_size": int(vocab_size), "context_length": int(state_dict[POSITION_TABLE].shape[0]),
              "d_model": int(d_model), "num_heads": num_heads, "num_layers": num_layers, "dropout": 0.0,
              "qkv_bias": QUERY_BIAS in state_dict, "tie_weights": is_tied(state_dict)}
    return GPTConfig(**(fields | overrides))  # GPTConfig itself rejects an unknown field (TypeError)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    own = model.state_dict()
    tied = shares_head(model)
    optional = {HEAD} if tied else set()  # one tensor under two names: either name brings it
    missing = sorted(set(own) - set(state_dict) - optional)
    unexpected = sorted(set(state_dict) - set(own))
    shapes = [(key, tuple(state_dict[key].shape), tuple(own[key].shape)) for key in sorted(set(own) & set(state_dict))
              if tuple(state_dict[key].shape) != tuple(own[key].shape)]
    conflicts = []
    if tied and HEAD in state_dict and TOKEN_TABLE in state_dict:
        head, table = state_dict[HEAD], state_dict[TOKEN_TABLE]
        # (a head of another shape is already under "shapes": a tied model's two names have one shape)
        if head.shape == table.shape and not torch.equal(head, table):
            conflicts.append(HEAD)  # an untied head: which of the two should the one shared tensor hold?
    return {"missing": missing, "unexpected": unexpected, "shapes": shapes, "conflicts": conflicts}
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    problems = check_state_dict(model, state_dict)
    if any(problems.values()):
        raise ValueError(f"load_weights: the state dict does not fit the model: {describe(problems)}")
    own = model.state_dict()  # detached tensors that share memory with the parameters and buffers
    with torch.no_grad():
        for key, value in state_dict.items():
            own[key].copy_(value)  # in place: same Parameter, its dtype and device (copy_ casts and moves)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_checkpoint: no checkpoint file at {path}")
    try:
        # weights_only: tensors and plain containers only - a pickle that would run code is refused first
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"read_checkpoint: {path} cannot be read as a checkpoint (not a torch file, truncated, "
                         f"or it would run code): {type(exc).__name__}") from exc
    if not isinstance(checkpoint, dict) or not all(isinstance(checkpoint.get(k), dict) for k in CHECKPOINT_KEYS):
        raise ValueError(f"read_checkpoint: {path} is a torch file but not a topic-25 checkpoint (a dict with "
                         f"'config' and 'model'); for a bare state dict use infer_config and load_weights")
    return checkpoint["config"], checkpoint["model"]
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    source = Path(source)
    if source.is_dir():
        model = load_gpt2(source, dropout=dropout)
    elif source.is_file():
        saved, state = read_checkpoint(source)
        unknown = sorted(set(saved) - {f.name for f in dataclasses.fields(GPTConfig)})
        if unknown:
            raise ValueError(f"load_model: the config in {source} has keys GPTConfig does not know: "
                             f"{', '.join(map(str, unknown))}")
        config = GPTConfig(**(saved | {"dropout": dropout}))
        with torch.random.fork_rng(devices=[]):  # the random init is overwritten: keep the caller's stream
            model = GPTModel(config)
        load_weights(model, state)
    else:
        raise FileNotFoundError(f"load_model: nothing at {source} (a checkpoint file or a GPT-2 folder)")
    return model.to(device).eval()
    ### END SOLUTION

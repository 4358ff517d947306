"""A correct topic-34 module written from the README alone, differently from the reference."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import torch

from course.t13_gpt_config import GPTConfig
from course.t18_gpt_model import GPTModel
from course.t26_gpt2_weights import load_gpt2

TOKEN_TABLE = "embedding.tok_emb.weight"
POSITION_TABLE = "embedding.pos_emb.table.weight"
HEAD = "out_head.weight"
QUERY_BIAS = "blocks.0.attn.W_query.bias"
BLOCK_KEY = re.compile(r"blocks\.(\d+)\.")
CHECKPOINT_KEYS = ("config", "model")


def count_blocks(state_dict):
    largest = -1
    for key in state_dict:
        parts = key.split(".")
        if len(parts) > 2 and parts[0] == "blocks" and parts[1].isdigit():
            largest = max(largest, int(parts[1]))
    return largest + 1


def is_tied(state_dict):
    if HEAD not in state_dict:
        return True
    head, table = state_dict[HEAD], state_dict.get(TOKEN_TABLE)
    if table is None or tuple(head.shape) != tuple(table.shape):
        return False
    return bool((head == table).all())


def infer_config(state_dict, num_heads, **overrides):
    missing = [k for k in (TOKEN_TABLE, POSITION_TABLE) if k not in state_dict]
    if missing:
        raise ValueError(f"cannot infer a config: {missing[0]} is not in the state dict")
    layers = count_blocks(state_dict)
    if layers < 1:
        raise ValueError("cannot infer a config from a state dict without transformer blocks")
    vocab, width = (int(n) for n in state_dict[TOKEN_TABLE].shape)
    base = GPTConfig(vocab_size=vocab, context_length=int(state_dict[POSITION_TABLE].shape[0]), d_model=width,
                     num_heads=num_heads, num_layers=layers, dropout=0.0,
                     qkv_bias=any(k == QUERY_BIAS for k in state_dict), tie_weights=is_tied(state_dict))
    return dataclasses.replace(base, **overrides) if overrides else base


def shares_head(model):
    head, table = getattr(model, "out_head", None), getattr(model, "embedding", None)
    return head is not None and table is not None and head.weight is table.tok_emb.weight


def check_state_dict(model, state_dict):
    own = model.state_dict()
    tied = shares_head(model)
    report = {"missing": [], "unexpected": [], "shapes": [], "conflicts": []}
    for key in sorted(own):
        if key not in state_dict:
            if not (tied and key == HEAD):
                report["missing"].append(key)
        elif list(state_dict[key].shape) != list(own[key].shape):
            report["shapes"].append((key, tuple(int(n) for n in state_dict[key].shape),
                                     tuple(int(n) for n in own[key].shape)))
    report["unexpected"] = sorted(k for k in state_dict if k not in own)
    if tied and HEAD in state_dict and TOKEN_TABLE in state_dict:
        head, table = state_dict[HEAD], state_dict[TOKEN_TABLE]
        if head.shape == table.shape and not bool((head == table).all()):
            report["conflicts"] = [HEAD]
    return report


def describe(problems):
    words = [f"missing {k}" for k in problems["missing"]] + [f"unexpected {k}" for k in problems["unexpected"]]
    words += [f"{k}: found {tuple(a)}, expected {tuple(b)}" for k, a, b in problems["shapes"]]
    words += [f"{k} is not equal to {TOKEN_TABLE} in a tied model" for k in problems["conflicts"]]
    return "; ".join(words)


def load_weights(model, state_dict):
    problems = check_state_dict(model, state_dict)
    if problems["missing"] or problems["unexpected"] or problems["shapes"] or problems["conflicts"]:
        raise ValueError("cannot load: " + describe(problems))
    complete = dict(state_dict)
    if HEAD not in complete and shares_head(model):
        complete[HEAD] = complete[TOKEN_TABLE]
    model.load_state_dict(complete, strict=True)  # everything fits: copies in place, never assigns


def read_checkpoint(path):
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path} is not a readable checkpoint ({exc.__class__.__name__})") from None
    if type(obj) is not dict:
        raise ValueError(f"{path} does not hold a checkpoint dict")
    config, state = obj.get("config"), obj.get("model")
    if not isinstance(config, dict) or not isinstance(state, dict):
        raise ValueError(f"{path} lacks a 'config' or 'model' dict")
    return config, state


def load_model(source, device="cpu", dropout=0.0):
    where = Path(source)
    if not where.exists():
        raise FileNotFoundError(f"{where} does not exist")
    if where.is_dir():
        return load_gpt2(where, dropout=dropout).to(device).eval()
    config, state = read_checkpoint(where)
    names = {f.name for f in dataclasses.fields(GPTConfig)}
    strange = [k for k in config if k not in names]
    if strange:
        raise ValueError(f"unknown config key(s) in {where}: {strange}")
    values = dict(config)
    values["dropout"] = dropout
    rng_state = torch.get_rng_state()
    try:
        model = GPTModel(GPTConfig(**values))
    finally:
        torch.set_rng_state(rng_state)
    load_weights(model, state)
    model.to(device)
    model.eval()
    return model

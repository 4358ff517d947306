"""Public checks for topic 34 - loading weights for finetuning.

Every state dict here is made by the probe: random values under topic 18's
documented parameter names (``checks.t18_gpt_model.model_shapes``), with the
tied head present and shared, present as an equal copy, absent, or a head of
its own. Checkpoint files are written in topic 25's layout by the probe itself
(:func:`save_t25_checkpoint`), and GPT-2 folders with topic 26's helpers, so a
check of this topic never depends on how another topic writes its files. The
helpers are reused by the hidden checks of this topic.
"""

from __future__ import annotations

import dataclasses
import importlib
import tempfile
from pathlib import Path
from typing import Any

import torch

from checks.t18_gpt_model import gpt_config, model_params, model_with
from checks.t25_checkpoints import error_in, scratch_folder
from checks.t26_gpt2_weights import config_fields, random_checkpoint, random_dims, write_checkpoint
from llmkit.checks import check
from llmkit.probing import Rng, error_case

T18 = "course.t18_gpt_model"
TOKEN_TABLE, POSITION_TABLE, HEAD = "embedding.tok_emb.weight", "embedding.pos_emb.table.weight", "out_head.weight"
HEAD_MODES = ("shared", "copy", "absent", "own")  # how a state dict holds the output head (see state_for)

# ----------------------------------------------------------------------------- configs and state dicts


def distinct_config(rng: Rng, *, tied: bool, qkv_bias: bool, layers: int | None = None, dropout: float = 0.0,
                    heads: int | None = None):
    """A small topic-13 config whose vocabulary, context length and width all differ (so a size read off the
    wrong tensor shows): vocab 20-60, context 4-9, d_model 6-16, 1-2 heads and 1-3 blocks unless given."""
    heads = rng.integer(1, 2) if heads is None else heads
    d_model = heads * rng.integer(-(-6 // heads), 16 // heads)
    context = rng.choice([c for c in range(4, 10) if c != d_model])
    return gpt_config(rng.integer(20, 60), context, d_model, heads, rng.integer(1, 3) if layers is None else layers,
                      dropout, qkv_bias, tied)


def shuffled(rng: Rng, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The same dict in a random key order: nothing may depend on the order of the keys.

    Saved masks (:func:`saved_buffers`) follow the weights unshuffled, so that the draws - and every
    number drawn after them - are the same whether or not the learner's model saves its mask."""
    weights = sorted(key for key in state if not is_mask(key))
    return {**{key: state[key] for key in rng.sample(weights, len(weights))},
            **{key: value for key, value in state.items() if is_mask(key)}}


def is_mask(key: str) -> bool:
    """A block's causal mask: a buffer, saved only by a model that registers it as persistent."""
    return key.endswith(".attn.mask")


def state_for(rng: Rng, config, head: str = "shared", params: dict | None = None) -> dict[str, torch.Tensor]:
    """A state dict for ``config``: random values under the documented names, in a random order.

    ``head`` (tied configs): ``"shared"`` - ``out_head.weight`` is the token table itself (as a tied
    model's ``state_dict()`` lists it); ``"copy"`` - an equal tensor of its own (after a copy or a format
    without shared tensors); ``"absent"`` - no ``out_head.weight``; ``"own"`` - a head with other values
    (an untied model's). Untied configs always carry their own head.
    """
    state = dict(params) if params is not None else model_params(rng, config)
    if config.tie_weights:
        if head == "shared":
            state[HEAD] = state[TOKEN_TABLE]
        elif head == "copy":
            state[HEAD] = state[TOKEN_TABLE].clone()
        elif head == "own":
            state[HEAD] = rng.randn(*state[TOKEN_TABLE].shape)
    return shuffled(rng, {**state, **saved_buffers(config)})


def saved_buffers(config) -> dict[str, torch.Tensor]:
    """The buffers a learner's topic-18 ``GPTModel(config)`` keeps in its ``state_dict()``.

    Topic 10 lets the causal ``mask`` be persistent or not (the reference's is not); a model whose mask is
    persistent saves it with its weights, so a state dict of such a model holds it. None for the reference."""
    with torch.random.fork_rng(devices=[]):  # building a model draws its random initialization
        model = importlib.import_module(T18).GPTModel(config)
    params = {name for name, _ in model.named_parameters()} | {HEAD}
    return {name: value for name, value in model.state_dict().items() if name not in params}


def report_config(config) -> dict:
    """A config as plain values (``None`` for a missing field)."""
    return config_fields(config)


def fresh_model(rng: Rng, config):
    """Topic 18's ``GPTModel(config)`` (resolved like the learner's own import), every parameter given."""
    return model_with(importlib.import_module(T18), rng, config)


def named_values(model) -> dict[str, torch.Tensor]:
    """Every parameter's values by name (a tied weight once, under the embedding's name)."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def unchanged(model, before: dict[str, torch.Tensor]) -> bool:
    """Does every parameter still hold exactly ``before``'s values?"""
    now = dict(model.named_parameters())
    return set(now) == set(before) and all(torch.equal(now[k].detach(), v) for k, v in before.items())


def probe_ids(rng: Rng, config, batch: int = 2) -> torch.Tensor:
    return rng.randint(0, config.vocab_size, (batch, config.context_length))


def logits_of(model, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(ids)


def shape_words(key: str, found, expected) -> list[str]:
    """What a wrong-shape message must name: the key and every number of both shapes."""
    return [key, *dict.fromkeys(str(n) for n in (*found, *expected))]


# ----------------------------------------------------------------------------- load_weights


def load_probe(t, rng: Rng, config, head: str, *, train_mode: bool = False, frozen: bool = False,
               dtype: torch.dtype | None = None, small: bool = False) -> dict:
    """``load_weights`` of a fitting state dict into a model with other values: what the model holds after.

    ``small``: only the vectors among the weights (short snapshots; the logits show the rest).
    Judged here: the parameters are the same objects (an optimizer built before would still hold them), with
    the same dtype and ``requires_grad``; the mode is unchanged; a tied head is still tied.
    """
    model = fresh_model(rng, config).train(train_mode)
    if frozen:  # a finetuning setup: some parameters frozen before loading
        for name, p in model.named_parameters():
            if name.startswith("blocks.0.") or name.startswith("embedding."):
                p.requires_grad_(False)
    params_before = list(model.parameters())
    flags = [p.requires_grad for p in params_before]
    dtypes = [p.dtype for p in params_before]
    state = state_for(rng, config, head)
    if dtype is not None:
        state = {key: value.to(dtype) for key, value in state.items()}
    returned = t.load_weights(model, state)
    after = list(model.parameters())
    return {"returned": returned,
            # an optimizer built before the load holds the objects of params_before
            "parameters are the same objects": len(after) == len(params_before)
            and all(a is b for a, b in zip(after, params_before)),
            "dtypes kept": [p.dtype for p in after] == dtypes,
            "requires_grad kept": [p.requires_grad for p in after] == flags,
            "mode kept": model.training == train_mode and all(m.training == train_mode for m in model.modules()),
            "head tied": model.out_head.weight is model.embedding.tok_emb.weight,
            "weights": {name: value for name, value in named_values(model).items() if not small or value.dim() == 1},
            "logits": logits_of(model.eval(), probe_ids(rng, config, batch=1 if small else 2))}


def failing_load(t, rng: Rng, label: str, model, state: dict, names: list[str]) -> dict:
    """What ``load_weights`` raises on ``state``, and whether the model is exactly as it was."""
    before = named_values(model)
    report = error_case(label, t.load_weights, model, state, names=names)
    return {"error": report, "model unchanged": unchanged(model, before)}


# ----------------------------------------------------------------------------- checkpoint files


def save_t25_checkpoint(path: Path, config, state: dict[str, Any], step: int = 7,
                        changes: dict[str, Any] | None = None) -> Path:
    """A checkpoint in topic 25's layout (topic 25's ``save_checkpoint`` writes this dict), written with
    ``torch.save``; ``changes`` replace or add top-level entries (a value ``None`` removes the entry)."""
    checkpoint: dict[str, Any] = {
        "format": "llmkit-checkpoint", "step": step,
        "config": config if isinstance(config, dict) else dataclasses.asdict(config), "model": state,
        "optimizer": {"state": {}, "param_groups": [{"lr": 1e-3, "params": list(range(3))}]},
        "rng": {"torch": torch.get_rng_state(), "cuda": [], "python": (3, tuple(range(625)), None)},
        "extra": {"losses": [3.5, 3.25], "tokens_seen": 1024}}
    for key, value in (changes or {}).items():
        if value is None:
            checkpoint.pop(key, None)
        else:
            checkpoint[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)
    return path


def file_name(rng: Rng, suffix: str = ".pt", folder: Path | None = None, prefix: str = "model") -> str:
    """A name of its own in every run: an error message must name the path.

    With ``folder``, never the name of a file already there (two files of one probe
    must not overwrite each other); a path that must stay missing takes another
    ``prefix`` ("gone"), so no file drawn later can take its name."""
    while True:
        name = f"{prefix}-{rng.integer(1000, 9999)}{suffix}"
        if folder is None or not (folder / name).exists():
            return name


def model_report(model, ids: torch.Tensor) -> dict:
    """What a loaded model is: its config, modes, trainable flags, dtype and logits."""
    return {"config": report_config(getattr(model, "config", None)),
            "eval mode everywhere": not any(m.training for m in model.modules()),
            "every parameter trainable": all(p.requires_grad for p in model.parameters()),
            "default dtype": all(p.dtype == torch.get_default_dtype() for p in model.parameters()),
            "logits": logits_of(model, ids)}


def load_model_probe(t, rng: Rng, config, head: str, *, dropout: float, as_path: bool,
                     device: Any = "cpu", batch: int = 2) -> dict:
    """Write a topic-25 checkpoint of ``config``, ``load_model`` it; also whether the random state moved."""
    state = state_for(rng, config, head)
    ids = probe_ids(rng, config, batch)
    with scratch_folder() as folder:
        path = save_t25_checkpoint(folder / "runs" / file_name(rng), config, state)
        before = torch.get_rng_state()
        model = t.load_model(path if as_path else str(path), device=device, dropout=dropout)
        same_state = torch.equal(before, torch.get_rng_state())
    return {**model_report(model, ids), "global random state unchanged": same_state}


def gpt2_folder_probe(t, rng: Rng, *, dropout: float, tied: bool, batch: int = 2) -> dict:
    """A random GPT-2 folder in Hugging Face's layout (topic 26) through ``load_model``."""
    dims = random_dims(rng, tied=tied)
    state = random_checkpoint(rng, dims, prefix=rng.coin())
    ids = rng.randint(0, dims.vocab, (batch, dims.context))
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_checkpoint(Path(tmp) / "gpt2", dims.config_json(), state)
        model = t.load_model(folder, dropout=dropout)
    return model_report(model, ids)


# ----------------------------------------------------------------------------- public checks


@check("count_blocks: 2 blocks, 12 blocks (blocks.10 comes after blocks.9), and no block at all")
def blocks_counted(t, rng):
    two = state_for(rng, gpt_config(24, 6, 8, 2, 2, 0.0, True, True))
    twelve = state_for(rng, gpt_config(24, 6, 4, 1, 12, 0.0, False, False))
    none = {TOKEN_TABLE: rng.randn(24, 8), POSITION_TABLE: rng.randn(6, 8)}
    return [t.count_blocks(two), t.count_blocks(twelve), t.count_blocks(none)]


@check("is_tied: a head shared with the token table, an equal copy, no head, and a head of its own")
def tied_or_not(t, rng):
    config = gpt_config(30, 5, 8, 2, 1, 0.0, True, True)
    return {head: t.is_tied(state_for(rng, config, head)) for head in HEAD_MODES}


@check("infer_config on a tied state dict with qkv biases and an untied one without, dropout overridden")
def configs_inferred(t, rng):
    tied = gpt_config(40, 7, 12, 3, 2, 0.0, True, True)
    untied = gpt_config(33, 5, 8, 2, 3, 0.0, False, False)
    return [report_config(t.infer_config(state_for(rng, tied, "shared"), 3)),
            report_config(t.infer_config(state_for(rng, untied), 2, dropout=0.1))]


@check("check_state_dict: a fitting state dict (tied, with and without out_head.weight); a missing and an "
       "unexpected key; a wrong shape; an untied head for a tied model")
def problems_found(t, rng):
    config = gpt_config(30, 6, 8, 2, 2, 0.0, True, True)
    model = fresh_model(rng, config)
    missing = state_for(rng, config)
    del missing["blocks.1.ff.proj.bias"]
    missing["blocks.1.attn.rotary.weight"] = rng.randn(4)
    wrong = state_for(rng, config, "absent")
    wrong["blocks.0.ff.fc.weight"] = rng.randn(8, 32)  # stored (in, out): the transpose of nn.Linear's weight
    return [t.check_state_dict(model, state_for(rng, config, "shared")),
            t.check_state_dict(model, state_for(rng, config, "absent")),
            t.check_state_dict(model, missing), t.check_state_dict(model, wrong),
            t.check_state_dict(model, state_for(rng, config, "own"))]


@check("load_weights: a fitting state dict loads in place; a wrong shape raises ValueError naming the key and both "
       "shapes and leaves the model as it was")
def weights_loaded(t, rng):
    config = gpt_config(30, 6, 8, 2, 2, 0.0, True, False)
    loaded = load_probe(t, rng, config, "own", small=True)
    wrong = state_for(rng, config)
    wrong["final_norm.weight"] = rng.randn(9)
    failed = failing_load(t, rng, "final_norm.weight of shape (9,)", fresh_model(rng, config), wrong,
                          names=shape_words("final_norm.weight", (9,), (8,)))
    return {"loaded": loaded, "failed": failed}


@check("read_checkpoint and load_model on a topic-25 checkpoint; load_model on a GPT-2 folder")
def models_loaded(t, rng):
    config = gpt_config(30, 6, 8, 2, 2, 0.1, True, True)
    state = state_for(rng, config, "shared")
    with scratch_folder() as folder:
        path = save_t25_checkpoint(folder / "ckpt.pt", config, state)
        saved, weights = t.read_checkpoint(path)
        read = {"config": saved, "the state dict saved": isinstance(weights, dict) and set(weights) == set(state)
                and all(torch.equal(weights[k], v) for k, v in state.items())}
    return {"read_checkpoint": read,
            "load_model (checkpoint)": load_model_probe(t, rng, config, "shared", dropout=0.0, as_path=True, batch=1),
            "load_model (GPT-2 folder)": gpt2_folder_probe(t, rng, dropout=0.1, tied=True, batch=1)}


@check("read_checkpoint and load_model errors: no such file, a bare state dict, a text file")
def file_errors(t, rng):
    config = gpt_config(30, 6, 8, 2, 1, 0.0, True, True)
    with scratch_folder() as folder:
        bare = folder / file_name(rng)
        torch.save(state_for(rng, config), bare)
        text = folder / file_name(rng, ".txt")
        text.write_text("not a checkpoint\n", encoding="utf-8")
        gone = folder / file_name(rng)  # the public seeds draw three different names
        return [error_in(folder, "no such file", t.read_checkpoint, gone, names=[gone.name]),
                error_in(folder, "a bare state dict", t.read_checkpoint, bare, names=[bare.name]),
                error_in(folder, "load_model of a text file", t.load_model, text, names=[text.name]),
                error_in(folder, "load_model of no such file", t.load_model, gone, names=[gone.name])]

"""Public checks for topic 27 - introduction to finetuning.

The helpers here (tiny GPT models with given weights, random freeze patterns set
without the learner's code, what a module's parameters look like before and
after a call, and the probes of each hole) are reused by the hidden checks of
this topic.
"""

from __future__ import annotations

import dataclasses
import importlib

import torch
from torch import nn

from checks.t18_gpt_model import GPT2_SMALL, by_name, gpt_config, model_with, on_meta
from llmkit.checks import check
from llmkit.probing import Rng, error_case, trainable_names
from llmkit.values import Mismatch

T18 = "course.t18_gpt_model"

# GPT-2 small prepared for 2 classes with the last block and the final norm trainable:
# one block 7,087,872 + final norm 1,536 + head 768 * 2 + 2 = 7,090,946 parameters
GPT2_SMALL_ONE_BLOCK = 7_090_946


# ----------------------------------------------------------------------------- models


def t18():
    """Topic 18, resolved like the learner's own import."""
    return importlib.import_module(T18)


def tiny_config(rng: Rng, tie_weights: bool | None = None, num_layers: int | None = None):
    """A tiny topic-13 config: vocab 20-60, d_model 8-16, 1-3 layers, context 4-8."""
    heads = rng.choice([1, 2])
    layers = rng.integer(1, 3) if num_layers is None else num_layers
    tie = rng.coin() if tie_weights is None else tie_weights
    return gpt_config(rng.integer(20, 60), rng.integer(4, 8), heads * rng.integer(-(-8 // heads), 16 // heads),
                      heads, layers, 0.0, rng.coin(), tie)


def tiny_model(rng: Rng, config):
    """A topic-18 ``GPTModel(config)`` holding given weights."""
    return model_with(t18(), rng, config)


def random_flags(rng: Rng, model: nn.Module) -> list[str]:
    """Freeze a random subset of ``model``'s parameters (with ``requires_grad_``, not the learner's code);
    return the names still trainable."""
    for param in by_name(model):
        param.requires_grad_(rng.coin())
    return trainable_names(model)


def values(model: nn.Module) -> dict[str, torch.Tensor]:
    """Copies of every parameter and buffer, by name."""
    out = {name: p.detach().clone() for name, p in model.named_parameters()}
    out.update({f"buffer {name}": b.detach().clone() for name, b in model.named_buffers()})
    return out


def unchanged(before: dict[str, torch.Tensor], model: nn.Module, skip: str = "\0") -> bool:
    """Every parameter and buffer in ``before`` (but those whose name starts with ``skip``) still holds its value."""
    now = values(model)
    return all(name in now and torch.equal(now[name], value) for name, value in before.items()
               if not name.startswith(skip))


def modes(model: nn.Module, skip: str = "\0") -> dict[str, bool]:
    """The train/eval flag of every submodule (but those whose name starts with ``skip``), by name."""
    return {name: m.training for name, m in model.named_modules() if not name.startswith(skip)}


def with_grads(model: nn.Module, rng: Rng, config) -> list[str]:
    """Names of the parameters that receive a gradient from one backward pass: those training would change."""
    model.zero_grad(set_to_none=True)
    ids = rng.randint(0, config.vocab_size, (2, config.context_length))
    out = model(ids)
    (out * rng.randn(*out.shape)).sum().backward()
    names = sorted(name for name, p in model.named_parameters() if p.grad is not None)
    model.zero_grad(set_to_none=True)
    return names


# ----------------------------------------------------------------------------- set_trainable


def set_trainable_probe(t, rng: Rng, config) -> dict:
    """Freeze and unfreeze whole models and parts of them, from a random starting pattern."""
    model = tiny_model(rng, config)
    random_flags(rng, model)
    model.train(rng.coin())
    before, mode = values(model), modes(model)
    steps = {}
    returned = t.set_trainable(model, False)
    steps["set_trainable(model, False)"] = trainable_names(model)
    last = len(model.blocks) - 1
    t.set_trainable(model.blocks[last], True)
    steps[f"then set_trainable(model.blocks[{last}], True)"] = trainable_names(model)
    t.set_trainable(model.blocks[0].attn, False)
    t.set_trainable(model.final_norm, True)
    steps["then blocks[0].attn frozen, final_norm unfrozen"] = trainable_names(model)
    t.set_trainable(model.final_norm, True)  # twice: still trainable
    steps["final_norm unfrozen again"] = trainable_names(model)
    t.set_trainable(model.embedding.pos_emb, True)
    steps["then the position embedding unfrozen"] = trainable_names(model)
    t.set_trainable(model, True)
    steps["set_trainable(model, True)"] = trainable_names(model)
    t.set_trainable(nn.Dropout(), False)
    t.set_trainable(nn.Identity(), True)
    steps["after calls on modules without parameters"] = trainable_names(model)
    return {"steps": steps, "returns None": returned is None, "values and buffers unchanged": unchanged(before, model),
            "train/eval modes unchanged": modes(model) == mode}


def set_trainable_errors(t, rng: Rng, config) -> list:
    """Flags that are not bools: a ``TypeError`` naming the value, and no flag changed."""
    model = tiny_model(rng, config)
    start = random_flags(rng, model)
    out = []
    for bad, shown in ((0, "0"), (1, "1"), ("no", "no"), (None, "None")):
        out.append(error_case(f"set_trainable(model, {bad!r})", t.set_trainable, model, bad, names=[shown]))
        out.append({f"flags unchanged after set_trainable(model, {bad!r})": trainable_names(model) == start})
    return out


# ----------------------------------------------------------------------------- count_trainable


class SharedPair(nn.Module):
    """Two linear maps holding one shared weight (and a buffer): the shared weight counts once."""

    def __init__(self, rng: Rng, d: int):
        super().__init__()
        self.first = nn.Linear(d, d)
        self.second = nn.Linear(d, d)
        self.second.weight = self.first.weight
        self.register_buffer("scale", torch.ones(d))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(rng.randn(*p.shape))


def count_probe(t, rng: Rng) -> dict:
    """``count_trainable`` on tied and untied models, all trainable, all frozen, random patterns, a tied weight
    frozen, a module sharing a weight, and a model on the meta device."""
    out = {}
    for tie in (True, False):
        config = tiny_config(rng, tie_weights=tie)
        model = tiny_model(rng, config)
        label = "tied" if tie else "untied"
        out[f"{label}, all trainable"] = t.count_trainable(model)
        random_flags(rng, model)
        out[f"{label}, a random pattern"] = t.count_trainable(model)
        model.embedding.tok_emb.weight.requires_grad_(not tie)
        out[f"{label}, token embedding {'frozen' if tie else 'trainable'}"] = t.count_trainable(model)
        for p in model.parameters():
            p.requires_grad_(False)
        out[f"{label}, all frozen"] = t.count_trainable(model)
    shared = SharedPair(rng, rng.integer(3, 6))
    out["two linear maps sharing one weight"] = t.count_trainable(shared)
    shared.first.bias.requires_grad_(False)
    out["... with one bias frozen"] = t.count_trainable(shared)
    meta = on_meta(t18(), tiny_config(rng, tie_weights=True, num_layers=2))
    for p in meta.blocks[0].parameters():
        p.requires_grad_(False)
    out["on the meta device, block 0 frozen"] = t.count_trainable(meta)
    return out


# ----------------------------------------------------------------------------- replace_head


def head_report(t, rng: Rng, model, config, num_classes: int) -> dict:
    """Replace the head of ``model``; what the new head is, what stayed, and the logits with given head values."""
    start = random_flags(rng, model)
    model.train(rng.coin())
    mode, embedding = modes(model, skip="out_head"), model.embedding.tok_emb.weight
    before, old_config = values(model), dataclasses.asdict(config)
    head = t.replace_head(model, num_classes)
    if not isinstance(model.out_head, nn.Linear):
        raise Mismatch(f"after replace_head, model.out_head is a {type(model.out_head).__name__}, "
                       f"expected an nn.Linear")
    new = model.out_head
    out = {"returns model.out_head": head is new,
           "in_features, out_features": [new.in_features, new.out_features],
           "weight shape": list(new.weight.shape),
           "bias shape": None if new.bias is None else list(new.bias.shape),
           "head trainable (weight, bias)": [new.weight.requires_grad,
                                             None if new.bias is None else new.bias.requires_grad],
           "head dtype is the embedding's": new.weight.dtype == embedding.dtype,
           "the token embedding is the same Parameter": model.embedding.tok_emb.weight is embedding,
           "the head is not the token embedding": new.weight is not embedding,
           "parameter names": sorted(name for name, _ in model.named_parameters()),
           "flags of the other parameters unchanged": [n for n in trainable_names(model)
                                                       if not n.startswith("out_head.")] ==
                                                      [n for n in start if not n.startswith("out_head.")],
           "other values and buffers unchanged": unchanged(before, model, skip="out_head."),
           "train/eval modes unchanged": modes(model, skip="out_head") == mode,
           "config unchanged": dataclasses.asdict(model.config) == old_config}
    with torch.no_grad():  # given values, so the logits are comparable
        new.weight.copy_(rng.randn(num_classes, config.d_model, scale=config.d_model ** -0.5))
        if new.bias is not None:
            new.bias.copy_(rng.randn(num_classes, scale=0.5))
        model.eval()
        out["scores (batch, seq, num_classes) with given head values"] = model(
            rng.randint(0, config.vocab_size, (2, rng.integer(1, config.context_length))))
    return out


def head_dtype_device(t, rng: Rng) -> dict:
    """The head follows the model: a float64 model gets a float64 head, a model on meta a head on meta."""
    config = tiny_config(rng)
    wide = tiny_model(rng, config).to(torch.float64)
    t.replace_head(wide, 3)
    meta = on_meta(t18(), config)
    t.replace_head(meta, 2)
    return {"float64 model: head dtype": str(wide.out_head.weight.dtype),
            "meta model: head device": meta.out_head.weight.device.type,
            "meta model: bias device": None if meta.out_head.bias is None else meta.out_head.bias.device.type}


def head_errors(t, rng: Rng, config) -> list:
    """Class counts that are not ints >= 1: ``ValueError`` naming them, and the old head still in place."""
    model = tiny_model(rng, config)
    old = model.out_head
    out = []
    for bad, shown in ((0, "0"), (-rng.integer(1, 9), None), (2.5, "2.5"), (True, "True")):
        shown = str(bad) if shown is None else shown
        out.append(error_case(f"replace_head(model, {bad!r})", t.replace_head, model, bad, names=[shown]))
        out.append({f"old head still in place after replace_head(model, {bad!r})": model.out_head is old})
    return out


# ----------------------------------------------------------------------------- prepare_for_classification


def prepare_report(t, rng: Rng, config, **kwargs) -> dict:
    """Prepare a model with a random freeze pattern (``kwargs``: the arguments given, none for the defaults);
    what trains afterwards, and what stayed."""
    model = tiny_model(rng, config)
    random_flags(rng, model)
    embedding = model.embedding.tok_emb.weight
    before = values(model)
    returned = t.prepare_for_classification(model, **kwargs)
    head = model.out_head
    given = ", ".join(f"{k}={v}" for k, v in kwargs.items()) or "the defaults"
    return {"case": f"{config.num_layers} blocks, {given}",
            "returns the model itself": returned is model,
            "trainable parameters": trainable_names(model),
            "parameters that get a gradient": with_grads(model, rng, config),
            "head (out_features, bias)": [getattr(head, "out_features", None),
                                          getattr(head, "bias", None) is not None],
            "the token embedding is the same Parameter": model.embedding.tok_emb.weight is embedding,
            "values and buffers unchanged (but the head)": unchanged(before, model, skip="out_head.")}


def prepare_errors(t, rng: Rng, config) -> list:
    """Bad ``trainable_blocks`` and ``num_classes``: ``ValueError`` naming them, the model left as it was."""
    model = tiny_model(rng, config)
    start, old = random_flags(rng, model), model.out_head
    blocks = config.num_layers
    cases = [(dict(trainable_blocks=-1), ["-1", str(blocks)]),
             (dict(trainable_blocks=blocks + 1), [str(blocks + 1), str(blocks)]),
             (dict(num_classes=0), ["0"])]
    out = []
    for kwargs, names in cases:
        label = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        out.append(error_case(f"prepare_for_classification(model with {blocks} blocks, {label})",
                              t.prepare_for_classification, model, names=names, **kwargs))
        out.append({f"model unchanged after {label}": [trainable_names(model) == start, model.out_head is old]})
    return out


def gpt2_small_counts(t) -> dict:
    """GPT-2 small on the meta device, prepared two ways: how many parameters train."""
    config = gpt_config(**GPT2_SMALL, tie_weights=True)
    default = t.prepare_for_classification(on_meta(t18(), config))
    head_only = t.prepare_for_classification(on_meta(t18(), config), trainable_blocks=0, train_final_norm=False)
    return {"defaults (2 classes, last block, final norm)": t.count_trainable(default),
            "head only": t.count_trainable(head_only)}


# ----------------------------------------------------------------------------- checks


@check("set_trainable freezes and unfreezes a whole model and parts of it; nothing else changes")
def freeze_and_unfreeze(t, rng):
    return set_trainable_probe(t, rng, gpt_config(24, 6, 8, 2, 2, qkv_bias=True, tie_weights=True))


@check("set_trainable with a flag that is not a bool raises TypeError naming it")
def flag_not_bool(t, rng):
    return set_trainable_errors(t, rng, gpt_config(20, 4, 8, 2, 1))


@check("count_trainable: tied and untied, all trainable, all frozen, random patterns, a shared weight, on meta")
def counts(t, rng):
    return count_probe(t, rng)


@check("replace_head on a tied model: a trainable nn.Linear(d_model, 3) with a bias, the embedding untouched, "
       "scores (batch, seq, 3)")
def new_head(t, rng):
    config = gpt_config(30, 6, 12, 3, 2, qkv_bias=False, tie_weights=True)
    return head_report(t, rng, tiny_model(rng, config), config, 3)


@check("replace_head with num_classes 0 or negative raises ValueError naming it and keeps the old head")
def bad_num_classes(t, rng):
    return head_errors(t, rng, gpt_config(20, 4, 8, 2, 1))[:4]


@check("prepare_for_classification: exactly the head, the last block and the final norm train (defaults); "
       "only the head with trainable_blocks=0, train_final_norm=False")
def prepared(t, rng):
    config = gpt_config(25, 5, 8, 2, 3, qkv_bias=True, tie_weights=True)
    return [prepare_report(t, rng, config),
            prepare_report(t, rng, config, num_classes=2, trainable_blocks=0, train_final_norm=False)]


@check(f"GPT-2 small prepared with the defaults trains {GPT2_SMALL_ONE_BLOCK:,} parameters (on the meta device)")
def gpt2_small(t, rng):
    return gpt2_small_counts(t)

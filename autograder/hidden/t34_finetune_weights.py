"""Hidden checks for topic 34 - loading weights for finetuning (fresh seed every run).

Every run draws state dicts of random sizes (blocks 10 and up among them) with
their keys in a random order and the tied head shared, copied, absent or of its
own; loads them in float16, into frozen models and models in train mode; puts
the wrong key last, so that a key-by-key loader has already changed the model
when it notices; and writes every kind of foreign file.
"""

from __future__ import annotations

import dataclasses
import io

import torch

from checks.t18_gpt_model import gpt_config
from checks.t25_checkpoints import error_in, plant, scratch_folder
from checks.t34_finetune_weights import (
    HEAD,
    HEAD_MODES,
    POSITION_TABLE,
    TOKEN_TABLE,
    distinct_config,
    failing_load,
    file_name,
    fresh_model,
    gpt2_folder_probe,
    is_mask,
    load_model_probe,
    load_probe,
    named_values,
    report_config,
    save_t25_checkpoint,
    shape_words,
    shuffled,
    state_for,
    unchanged,
)
from llmkit.checks import check
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `load_finetune.py` (it imports": "where the code goes and what it builds on",
    "Given: the key names": "code handed out, not written by the learner",
    "Hints: `model.state_dict()` returns": "a hint about PyTorch",
    "`dataclasses.fields(GPTConfig)` lists": "a hint",
    "`torch.random.fork_rng(devices=[])` runs": "a hint",
}


def through_torch_save(state: dict) -> dict:
    """``state`` after ``torch.save`` and ``torch.load(weights_only=True)``: a shared head still shares memory."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def tied_twin(config):
    """The same sizes as ``config``, tied."""
    return gpt_config(config.vocab_size, config.context_length, config.d_model, config.num_heads, config.num_layers,
                      0.0, config.qkv_bias, True)


def random_config(rng, **kwargs):
    return distinct_config(rng, tied=kwargs.pop("tied", rng.coin()), qkv_bias=kwargs.pop("qkv_bias", rng.coin()),
                           **kwargs)


# ----------------------------------------------------------------------------- count_blocks, is_tied, infer_config


@check("count_blocks: 1-3 blocks, 10-13 blocks (compared as numbers), no block, and keys that mention blocks "
       "without starting with them",
       promises=["the number of transformer blocks: one more than the largest `i` among the keys that start with "
                 "`blocks.{i}.`.", "The indices are compared as numbers, so `blocks.10` comes after `blocks.9`.",
                 "Other keys are ignored;", "a state dict without any block key gives `0`"])
def blocks_random(t, rng):
    out = []
    for layers in (rng.integer(1, 3), rng.integer(10, 13)):
        config = random_config(rng, layers=layers)
        out.append(t.count_blocks(state_for(rng, config, rng.choice(HEAD_MODES))))
    config = random_config(rng, layers=rng.integer(1, 2))
    state = state_for(rng, config)
    state[f"adapter.blocks.{config.num_layers + rng.integer(2, 9)}.weight"] = rng.randn(3)  # not a block key
    out.append(t.count_blocks(shuffled(rng, state)))
    no_blocks = {TOKEN_TABLE: rng.randn(config.vocab_size, config.d_model),
                 POSITION_TABLE: rng.randn(config.context_length, config.d_model),
                 "final_norm.weight": rng.randn(config.d_model)}
    out.append(t.count_blocks(no_blocks))
    return out


@check("is_tied: a head shared with the token table (also after torch.save), an equal copy, no head, a head of its "
       "own, a head equal but for one value",
       promises=["`True` when the state dict has no `out_head.weight`, or when its `out_head.weight` has the shape of "
                 "`embedding.tok_emb.weight` and equal values (`torch.equal`), whether the two share memory or not;",
                 "`False` otherwise"])
def tied_random(t, rng):
    config = random_config(rng, tied=True)
    out = {head: t.is_tied(state_for(rng, config, head)) for head in HEAD_MODES}
    out["shared, after torch.save"] = t.is_tied(through_torch_save(state_for(rng, config, "shared")))
    almost = state_for(rng, config, "copy")
    head = almost[HEAD].clone()
    row, col = rng.integer(0, config.vocab_size - 1), rng.integer(0, config.d_model - 1)
    head[row, col] += 0.5
    almost[HEAD] = head
    out["equal but for one value"] = t.is_tied(almost)
    out["an untied config's state dict"] = t.is_tied(state_for(rng, random_config(rng, tied=False)))
    return out


@check("infer_config on random state dicts (tied in every way, untied, with and without qkv biases, 10-13 blocks, "
       "keys in a random order, through torch.save) and with overrides of inferred fields",
       promises=["the topic-13 `GPTConfig` of the model that made `state_dict`: `vocab_size` and `d_model` from the "
                 "shape of `embedding.tok_emb.weight`, `context_length` from the first dimension of "
                 "`embedding.pos_emb.table.weight`, `num_layers` from `count_blocks`, `qkv_bias` from whether "
                 "`blocks.0.attn.W_query.bias` is there, `tie_weights` from `is_tied`, `num_heads` as given and "
                 "`dropout=0.0`.", "Then each keyword of `overrides` replaces that field.",
                 "The keys may come in any order"])
def configs_random(t, rng):
    out = []
    for head in HEAD_MODES:
        config = random_config(rng, tied=True)
        out.append(report_config(t.infer_config(state_for(rng, config, head), config.num_heads)))
    for qkv_bias in (True, False):
        config = random_config(rng, tied=False, qkv_bias=qkv_bias, layers=rng.integer(10, 13))
        out.append(report_config(t.infer_config(state_for(rng, config), config.num_heads)))
    config = random_config(rng, tied=True)
    saved = through_torch_save(state_for(rng, config, "shared"))
    out.append(report_config(t.infer_config(saved, config.num_heads)))
    overrides = {"dropout": rng.choice([0.1, 0.25]), "tie_weights": False,
                 "context_length": config.context_length + rng.integer(1, 5)}
    out.append(report_config(t.infer_config(saved, config.num_heads, **overrides)))
    return out


@check("infer_config errors: no token table, no position table, no block; an override that is no GPTConfig field",
       promises=["A missing token or position table raises `ValueError` naming the key;",
                 "a state dict without blocks raises `ValueError`;",
                 "an override that is no field of `GPTConfig` raises `TypeError` naming it."])
def infer_errors(t, rng):
    config = random_config(rng)
    cases = []
    for key in (TOKEN_TABLE, POSITION_TABLE):
        state = state_for(rng, config, "absent")
        del state[key]
        cases.append(error_case(f"no {key}", t.infer_config, state, config.num_heads, names=[key]))
    state = {key: value for key, value in state_for(rng, config).items() if not key.startswith("blocks.")}
    cases.append(error_case("no block", t.infer_config, state, config.num_heads))
    unknown = rng.choice(["n_layer", "n_embd", "heads", "bias"])
    cases.append(error_case(f"override {unknown}=3", t.infer_config, state_for(rng, config), config.num_heads,
                            names=[unknown], **{unknown: 3}))
    return cases


# ----------------------------------------------------------------------------- check_state_dict


def drop_keys(rng, state: dict, keys: list[str]) -> dict:
    return shuffled(rng, {k: v for k, v in state.items() if k not in keys})


@check("check_state_dict on random models: fitting state dicts (a tied model with its head shared, copied or "
       "absent; an untied model given a tied model's state dict), missing keys from three parts of the model, "
       "unexpected keys, wrong shapes, an untied head for a tied model, all at once; the model is not changed",
       promises=["looks, changes nothing, and returns a dict of four lists, all empty when `state_dict` fits `model`.",
                 "`\"missing\"`: the keys of `model.state_dict()` that `state_dict` lacks, sorted;",
                 "a tied model (its `out_head.weight` is its `embedding.tok_emb.weight`) may lack `out_head.weight`.",
                 "`\"unexpected\"`: the keys of `state_dict` that the model does not have, sorted.",
                 "`\"shapes\"`: a `(key, found, expected)` triple for every key both have with different shapes, "
                 "`found` the state dict's shape and `expected` the model's, each a tuple of ints, sorted by key.",
                 "`\"conflicts\"`: `[\"out_head.weight\"]` when the model is tied and `state_dict` holds an "
                 "`out_head.weight` of the token table's shape whose values differ from its "
                 "`embedding.tok_emb.weight`, else `[]`"])
def problems_random(t, rng):
    config = random_config(rng, tied=True, layers=2)
    model = fresh_model(rng, config)
    before = named_values(model)
    d = config.d_model
    cases = {head: state_for(rng, config, head) for head in ("shared", "copy", "absent")}
    cases["own head (untied) for a tied model"] = state_for(rng, config, "own")
    # one key from the embedding, one from a block, one from the final norm: sorted order != the model's order
    lost = [rng.choice([TOKEN_TABLE, POSITION_TABLE]), f"blocks.{rng.integer(0, 1)}.ff.fc.weight",
            rng.choice(["final_norm.weight", "final_norm.bias"])]
    cases["three keys missing"] = drop_keys(rng, state_for(rng, config, "absent"), lost)
    extra = state_for(rng, config)
    extra[f"blocks.{config.num_layers}.norm1.weight"] = rng.randn(d)  # one block too many
    extra["lm_head.weight"] = rng.randn(config.vocab_size, d)
    cases["two unexpected keys"] = shuffled(rng, extra)
    wrong = state_for(rng, config, "copy")
    wrong["blocks.1.ff.proj.weight"] = rng.randn(4 * d, d)  # stored (in, out)
    wrong[POSITION_TABLE] = rng.randn(config.context_length + rng.integer(1, 3), d)
    cases["two wrong shapes"] = shuffled(rng, wrong)
    everything = drop_keys(rng, state_for(rng, config, "own"), ["blocks.0.norm2.bias"])
    everything["blocks.0.attn.rotary.inv_freq"] = rng.randn(2)
    everything["final_norm.bias"] = rng.randn(d + 1)
    cases["all at once"] = shuffled(rng, everything)
    out = {label: t.check_state_dict(model, state) for label, state in cases.items()}
    untied_config = random_config(rng, tied=False)
    untied = fresh_model(rng, untied_config)
    tied_state = state_for(rng, tied_twin(untied_config), "shared")
    out["untied model, a tied model's state dict"] = t.check_state_dict(untied, tied_state)
    out["untied model, no head"] = t.check_state_dict(untied, drop_keys(rng, state_for(rng, untied_config), [HEAD]))
    del tied_state[HEAD]
    out["untied model, a tied state dict without its head"] = t.check_state_dict(untied, tied_state)
    out["model unchanged"] = unchanged(model, before)
    return out


# ----------------------------------------------------------------------------- load_weights


@check("load_weights of fitting state dicts: tied models with the head shared, copied or absent; untied; in train "
       "mode; partly frozen; from float16; an untied model from a tied state dict - values, logits, same "
       "parameter objects, dtypes, requires_grad, mode and tying kept",
       promises=["Otherwise it copies every tensor in place into the model's tensor of that name:",
                 "the parameters stay the same objects, with their dtype and `requires_grad`, and a tied head stays "
                 "tied.", "The model's train/eval mode does not change.", "Returns `None`"])
def load_random(t, rng):
    out = {}
    for head in ("shared", "copy", "absent"):
        out[f"tied, head {head}"] = load_probe(t, rng, random_config(rng, tied=True), head)
    out["untied, train mode, partly frozen"] = load_probe(t, rng, random_config(rng, tied=False), "own",
                                                         train_mode=True, frozen=True)
    out["float16 values"] = load_probe(t, rng, random_config(rng), "shared", dtype=torch.float16)
    config = random_config(rng, tied=False)
    model = fresh_model(rng, config)
    tied_values = state_for(rng, tied_twin(config), "shared")
    t.load_weights(model, tied_values)
    out["untied model from a tied state dict"] = named_values(model)
    return out


@check("load_weights of state dicts that do not fit (the bad key last): a wrong shape, a missing key, an unexpected "
       "key, an untied head for a tied model, all at once - one ValueError naming every key, the model unchanged",
       promises=["copies `state_dict` into `model`, all of it or nothing.",
                 "When `check_state_dict` finds any problem it raises one `ValueError` naming every key concerned (for "
                 "a shape: the key, the shape found and the shape expected).",
                 "It raises before anything is copied, so the model's values are exactly as before."])
def load_failures(t, rng):
    config = random_config(rng, tied=True, layers=2)
    d, last = config.d_model, config.num_layers - 1
    out = []

    def last_key(state: dict, key: str, value=None) -> dict:
        """``state`` with ``key`` moved (or put) at the end: a key-by-key loader copies everything else first."""
        moved = {k: v for k, v in state.items() if k != key}
        moved[key] = state[key] if value is None else value
        return moved

    key = rng.choice([f"blocks.{last}.ff.proj.bias", "final_norm.bias", "final_norm.weight"])
    found = (d + rng.integer(1, 3),)
    out.append(failing_load(t, rng, f"{key} of shape {found}", fresh_model(rng, config),
                            last_key(state_for(rng, config, "absent"), key, rng.randn(*found)),
                            names=shape_words(key, found, (d,))))
    gone = rng.choice(["final_norm.bias", f"blocks.{last}.norm2.weight", TOKEN_TABLE])
    out.append(failing_load(t, rng, f"{gone} missing", fresh_model(rng, config),
                            drop_keys(rng, state_for(rng, config, "shared"), [gone]), names=[gone]))
    unknown = rng.choice(["lm_head.weight", f"blocks.{config.num_layers}.norm1.weight", "score.weight"])
    state = state_for(rng, config, "copy")
    state[unknown] = rng.randn(config.vocab_size, d)
    out.append(failing_load(t, rng, f"unexpected {unknown}", fresh_model(rng, config), state, names=[unknown]))
    out.append(failing_load(t, rng, "an untied head for a tied model", fresh_model(rng, config),
                            last_key(state_for(rng, config, "own"), HEAD), names=[HEAD]))
    everything = drop_keys(rng, state_for(rng, config, "absent"), ["blocks.0.norm1.bias"])
    everything["blocks.0.attn.extra.weight"] = rng.randn(d)
    everything = last_key(everything, "final_norm.weight", rng.randn(d + 2))
    out.append(failing_load(t, rng, "a missing, an unexpected and a reshaped key", fresh_model(rng, config),
                            everything, names=["blocks.0.norm1.bias", "blocks.0.attn.extra.weight",
                                               *shape_words("final_norm.weight", (d + 2,), (d,))]))
    untied = random_config(rng, tied=False)
    out.append(failing_load(t, rng, "an untied model without out_head.weight", fresh_model(rng, untied),
                            drop_keys(rng, state_for(rng, untied), [HEAD]), names=[HEAD]))
    return out


# ----------------------------------------------------------------------------- read_checkpoint


def read_report(t, path) -> dict:
    saved, state = t.read_checkpoint(path)
    # without the masks a learner's model may save (topic 10 lets it), so every correct model reads the same
    return {"config": saved, "state dict": {k: v for k, v in sorted(state.items()) if not is_mask(k)}
            if isinstance(state, dict) else state}


@check("read_checkpoint of random topic-25 checkpoints (str and Path, tied and untied): the config dict and the "
       "state dict",
       promises=["`(config, state_dict)` from a topic-25 checkpoint file: a dict that holds `\"config\"`, a dict of "
                 "`GPTConfig`'s fields, and `\"model\"`, the model's `state_dict()`, besides the optimizer state, the "
                 "step, the random states and the extras."])
def read_random(t, rng):
    out = []
    with scratch_folder() as folder:
        for i, tied in enumerate((True, False)):
            config = random_config(rng, tied=tied, dropout=rng.choice([0.0, 0.1]))
            path = save_t25_checkpoint(folder / f"run{i}" / file_name(rng), config,
                                       state_for(rng, config, rng.choice(["shared", "absent"])),
                                       step=rng.integer(1, 10**5))
            out.append(read_report(t, path if i else str(path)))
    return out


@check("read_checkpoint refuses every foreign file with an error naming it: missing, empty, text, random bytes, "
       "truncated, a torch file and a bare pickle that would run code (the code does not run), a bare state dict, "
       "a list, no config, a model that is not a dict",
       promises=["It reads with `torch.load(path, map_location=\"cpu\", weights_only=True)`, so a file whose "
                 "unpickling would call a function is refused before any of it runs.",
                 "A missing file raises `FileNotFoundError` naming the path.",
                 "A file that `torch.load` cannot read that way raises `ValueError` naming the path: text, random "
                 "bytes, an empty or truncated file, a pickle that names a function.",
                 "A torch file that is not a checkpoint also raises `ValueError` naming the path: a bare state dict, "
                 "a list, or a dict without a `\"config\"` or `\"model\"` dict"])
def read_errors(t, rng):
    config = random_config(rng)
    state = state_for(rng, config)
    with scratch_folder() as folder:
        def named(suffix=".pt"):  # each file is written before the next name is drawn
            return folder / file_name(rng, suffix, folder)

        files = {"missing": folder / file_name(rng, prefix="gone")}
        files["empty"] = named()
        files["empty"].write_bytes(b"")
        files["text"] = named(".txt")
        files["text"].write_text("step: 7\nmodel: gpt\n", encoding="utf-8")
        files["random bytes"] = named()
        # random bytes, the first one below 0x80 (a pickle's PROTO opcode: torch would warn about the "protocol")
        noise = rng.randint(0, 256, (rng.integer(64, 512),))
        noise[0] = noise[0] % 128
        files["random bytes"].write_bytes(bytes(noise.tolist()))
        whole = save_t25_checkpoint(named(), config, state).read_bytes()
        files["truncated"] = named()
        files["truncated"].write_bytes(whole[: len(whole) * rng.integer(2, 8) // 10])
        files["torch file that runs code"], files["pickle that runs code"] = named(), named(".pkl")
        plant(files["torch file that runs code"], folder / "torch-ran")
        plant(files["pickle that runs code"], folder / "pickle-ran", raw=True)
        files["bare state dict"] = named()
        torch.save(state, files["bare state dict"])
        files["a list"] = named()
        torch.save([state], files["a list"])
        files["no config"] = save_t25_checkpoint(named(), config, state, changes={"config": None})
        files["model not a dict"] = save_t25_checkpoint(named(), config, state, changes={"model": [state[TOKEN_TABLE]]})
        errors = [error_in(folder, label, t.read_checkpoint, path,
                           accept=("FileNotFoundError",) if label == "missing" else ("ValueError",), names=[path.name])
                  for label, path in files.items()]
        ran = sorted(p.name for p in folder.glob("*-ran"))
    return {"errors": errors, "code ran": ran}


# ----------------------------------------------------------------------------- load_model


@check("load_model of random topic-25 checkpoints (tied and untied, 1-2 heads, str and Path, device as a str and a "
       "torch.device, dropout replaced) and of random GPT-2 folders: config, eval mode, trainable, dtype, logits; "
       "the global random state kept",
       promises=["a topic-18 `GPTModel` ready to finetune.", "`source` (a `str` or a `Path`) is a folder or a file.",
                 "A folder is a Hugging Face GPT-2 folder, loaded by topic 26's `load_gpt2(source, dropout=dropout)`.",
                 "A file is a topic-25 checkpoint (`read_checkpoint`): the model is `GPTModel(GPTConfig(**config))` "
                 "with the config's `dropout` replaced by the argument, loaded with `load_weights`.",
                 "Torch's global random state after the call is what it was before, although building the model "
                 "draws a random initialization.",
                 "Either way the model is moved to `device` and returned in eval mode, with every parameter "
                 "trainable and PyTorch's default dtype."])
def load_model_random(t, rng):
    out = []
    for i, (tied, heads) in enumerate(((True, 2), (False, rng.integer(1, 2)))):
        config = distinct_config(rng, tied=tied, qkv_bias=rng.coin(), dropout=rng.choice([0.1, 0.2]), heads=heads)
        out.append(load_model_probe(t, rng, config, "shared" if tied else "own", dropout=rng.choice([0.0, 0.3]),
                                    as_path=bool(i), device=torch.device("cpu") if i else "cpu"))
    out.append(gpt2_folder_probe(t, rng, dropout=rng.choice([0.1, 0.2]), tied=rng.coin()))
    return out


@check("load_model errors: nothing at the path, a folder without config.json, a text file, a bare state dict, a "
       "config with a key GPTConfig lacks, weights that do not fit their config (a shorter position table)",
       promises=["Nothing at `source` raises `FileNotFoundError` naming it;",
                 "a folder without `config.json` raises `load_gpt2`'s `FileNotFoundError`;",
                 "a file that is no checkpoint raises `read_checkpoint`'s `ValueError`.",
                 "A config with a key that `GPTConfig` does not have raises `ValueError` naming the key, and weights "
                 "that do not fit their config raise `load_weights`' `ValueError`"])
def load_model_errors(t, rng):
    config = random_config(rng, layers=rng.integer(1, 2))
    state = state_for(rng, config)
    with scratch_folder() as folder:
        gone = folder / file_name(rng, prefix="gone")
        empty_folder = folder / f"gpt2-{rng.integer(100, 999)}"
        empty_folder.mkdir()
        text = folder / file_name(rng, ".json")
        text.write_text('{"n_layer": 2}', encoding="utf-8")
        bare = folder / file_name(rng, folder=folder)
        torch.save(state, bare)
        unknown = rng.choice(["n_embd", "n_layer", "bias"])
        odd_config = save_t25_checkpoint(folder / file_name(rng, folder=folder),
                                         {**dataclasses.asdict(config), unknown: 1}, state)
        longer = config.context_length + rng.integer(1, 4)
        wider = gpt_config(config.vocab_size, longer, config.d_model, config.num_heads, config.num_layers, 0.0,
                           config.qkv_bias, config.tie_weights)
        short = save_t25_checkpoint(folder / file_name(rng, folder=folder), wider, state)
        table = (config.context_length, config.d_model)
        return [error_in(folder, "nothing at the path", t.load_model, gone, names=[gone.name]),
                error_in(folder, "a folder without config.json", t.load_model, empty_folder, names=["config.json"]),
                error_in(folder, "a text file", t.load_model, text, names=[text.name]),
                error_in(folder, "a bare state dict", t.load_model, str(bare), names=[bare.name]),
                error_in(folder, f"a config with {unknown!r}", t.load_model, odd_config, names=[unknown]),
                error_in(folder, f"a checkpoint whose position table is shorter than its config's {longer}",
                         t.load_model, short, names=shape_words(POSITION_TABLE, table, (longer, config.d_model)))]

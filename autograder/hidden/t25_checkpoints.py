"""Hidden checks for topic 25 - saving and loading (fresh seed every run)."""

from __future__ import annotations

import dataclasses
import importlib
import types
from pathlib import Path

import torch

from checks.t18_gpt_model import model_params
from checks.t25_checkpoints import (
    OPTIMIZERS,
    T18,
    Watch,
    batch_list,
    checkpoint_name,
    disk_full_after,
    draws,
    error_in,
    listing,
    make_optimizer,
    model_from,
    peek,
    plain_steps,
    plant,
    read_back,
    resume_compare,
    resume_probe,
    rng_probe,
    round_trip_probe,
    same_state,
    same_tensors,
    saved_size,
    scramble,
    scratch_folder,
    seeded_all,
    snapshot,
    tiny_config,
)
from llmkit.checks import check
from llmkit.probing import Rng

NOT_BEHAVIOUR = {
    "In `checkpoint.py` (it imports": "where the code goes and what it builds on",
    "With CUDA it also holds every CUDA device's generator.": "the grader has no GPU to check it on",
    "The keys are yours.": "a freedom, not a behaviour",
    "other keys are yours.": "a freedom, not a behaviour",
    "Given: `is_plain(value)`": "code handed out, not written by the learner",
}

ANY_ERROR = ("Exception",)  # a failed write propagates whatever it raised


def seed_of(rng: Rng) -> int:
    return rng.integer(0, 2**31 - 1)


@check("capture_rng_state draws nothing and returns plain data; restore_rng_state, from a copy read back by "
       "torch.load(weights_only=True), makes torch's and Python's generators repeat their draws, every time",
       promises=["as a dict that holds torch's CPU generator and Python's `random` module.",
                 "The dict is plain data, which `torch.save` writes and `torch.load(weights_only=True)` reads back.",
                 "Capturing draws nothing: the generators go on as if they had not been read",
                 "sets the generators back to `state`: afterwards torch's CPU generator and Python's `random` draw "
                 "exactly what they drew right after `state` was captured.",
                 "It works on a `state` that went through `torch.save` and `torch.load(weights_only=True)`.",
                 "It does not change `state`, so the same state can be restored again and again"])
def rng_states(t, rng):
    return [rng_probe(t, rng) for _ in range(2)]


def random_object(rng: Rng, size: int) -> dict:
    """Plain data of about ``size`` floats: what atomic_save writes in a probe."""
    return {"step": rng.integer(0, 10**6), "weights": rng.randn(size),
            "history": {"loss": rng.randn(rng.integer(1, 5)).tolist()}, "name": f"run-{rng.integer(0, 99)}"}


@check("atomic_save: missing parent folders, overwrite, a pickling error and a disk that fills up midway (the "
       "previous file stays whole, no temporary file is left, the error propagates)",
       promises=["writes `obj` to `path` with `torch.save`, so that `torch.load(path, weights_only=True)` reads it "
                 "back, and creates missing parent folders.",
                 "It writes all or nothing: the bytes go to a temporary file in `path`'s folder, which is renamed "
                 "onto `path` with `os.replace` once it is complete.",
                 "When the write fails midway (an object that pickle cannot write, a disk that fills up), `path` is "
                 "untouched - a previous file there is still complete - the temporary file is deleted and the "
                 "exception propagates.",
                 "After a save, failed or not, the folder holds no file besides `path` that was not there before"])
def atomic_writes(t, rng):
    with scratch_folder() as root:
        folder = root.joinpath(*[f"d{i}" for i in range(rng.integer(1, 3))])
        path = folder / checkpoint_name(rng)
        out = {}
        first = random_object(rng, rng.integer(1, 50))
        t.atomic_save(first, path)
        out["first save"] = {"read back whole": same_state(read_back(path), first), "files": listing(folder)}
        (folder / "notes.txt").write_text("another file of this folder\n")  # must stay, and stay alone
        second = random_object(rng, rng.integer(1, 50))
        t.atomic_save(second, path)
        out["overwrite"] = {"read back whole": same_state(read_back(path), second), "files": listing(folder)}
        unpicklable = random_object(rng, 64) | {"callback": lambda step: step}  # pickle refuses a lambda
        out["pickling fails"] = error_in(root, "atomic_save of an object holding a lambda", t.atomic_save,
                                         unpicklable, path, accept=ANY_ERROR)
        out["after the pickling error"] = {"previous file whole": same_state(read_back(path), second),
                                           "files": listing(folder)}
        big = random_object(rng, rng.integer(100_000, 200_000))
        limit = saved_size(big) * rng.integer(25, 75) // 100
        with disk_full_after(limit):
            out["disk full"] = error_in(root, "atomic_save on a disk that fills up halfway through the file",
                                        t.atomic_save, big, path, accept=ANY_ERROR)
        out["after the full disk"] = {"previous file whole": same_state(read_back(path), second),
                                      "files": listing(folder)}
    return out


def partial_load_probe(t, rng: Rng, kind: str) -> dict:
    """A dict config, a path given as a str, a model in train mode; load_checkpoint without an optimizer and with
    restore_rng=False."""
    config = tiny_config(rng)
    as_dict = {"vocab_size": config.vocab_size, "context_length": config.context_length, "d_model": config.d_model,
               "num_heads": config.num_heads, "num_layers": config.num_layers, "dropout": config.dropout,
               "qkv_bias": config.qkv_bias, "tie_weights": config.tie_weights, "note": "given as a dict"}
    saved_config = dict(as_dict)
    model = model_from(config, model_params(rng, config))
    optimizer = make_optimizer(kind, model)
    with scratch_folder() as folder, seeded_all(seed_of(rng)):
        plain_steps(model, optimizer, batch_list(rng, config, 1))
        path = folder / checkpoint_name(rng)
        model.train()  # plain_steps left it so; the round trip above saves in eval mode
        t.save_checkpoint(str(path), model, optimizer, 0, as_dict)  # a path may be a str too
        still_training = model.training
        as_dict["note"] = "changed after saving"
        fresh = model_from(config, model_params(rng, config))
        scramble(rng)
        upcoming = peek()
        info = t.load_checkpoint(str(path), fresh, None, restore_rng=False)
        untouched = draws() == upcoming
    return {"step": info.get("step"), "config returned equals the dict saved": info.get("config") == saved_config,
            "weights loaded without an optimizer": same_tensors(fresh.state_dict(), model.state_dict()),
            "restore_rng=False left the generators alone": untouched,
            "saving left the model in train mode": still_training}


@check("save_checkpoint then load_checkpoint into fresh objects, with topic 22's AdamW and one other optimizer: "
       "weights, optimizer state, RNG states, step, config and extras come back; saving changes nothing; a dict "
       "config; loading without an optimizer and with restore_rng=False",
       promises=["saves, through `atomic_save`, everything needed to resume after `step` optimizer steps: "
                 "`model.state_dict()`, `optimizer.state_dict()`, `step`, `capture_rng_state()`, the config and "
                 "every `extra` keyword with its value.",
                 "The optimizer can be any `torch.optim.Optimizer`, topic 22's `AdamW` included.",
                 "A dataclass config (topic 13's `GPTConfig`) is stored as `dataclasses.asdict(config)`, a dict "
                 "config as a copy.",
                 "Saving changes nothing: not the model, not the optimizer, not any random generator.",
                 "It loads the optimizer state into `optimizer` unless that is `None`.",
                 "With `restore_rng=True` it puts the random generators back in the state they had when "
                 "`save_checkpoint` ran;", "with `restore_rng=False` it leaves them alone.",
                 "It returns a new dict that holds `\"step\"`, `\"config\"` (a dict) and every `extra` keyword "
                 "given to `save_checkpoint`, with its value."])
def round_trips(t, rng):
    return {"topic 22 AdamW": round_trip_probe(t, rng, OPTIMIZERS[0], dropout=rng.choice([0.0, 0.2])),
            "dict config, no optimizer, restore_rng=False": partial_load_probe(t, rng, rng.choice(OPTIMIZERS[1:]))}


def file_layout(path: Path, model, config: dict) -> dict:
    """What topic 34 needs of a checkpoint file read with ``torch.load(weights_only=True)``."""
    data = read_back(path)
    if not isinstance(data, dict):
        return {"the file is a dict": False}
    weights, saved_config = data.get("model"), data.get("config")
    return {"the file is a dict": True,
            '"model" is the model.state_dict()': isinstance(weights, dict) and same_tensors(weights,
                                                                                             model.state_dict()),
            '"config" is the config as a dict': type(saved_config) is dict and saved_config == config}


@check("the file save_checkpoint writes, read with torch.load(weights_only=True), is a dict holding \"model\" (the "
       "state_dict) and \"config\" (a GPTConfig as dataclasses.asdict, a dict config as it was): topic 34 reads "
       "both straight from the file",
       promises=["The file that `torch.load(path, weights_only=True)` reads back is a dict that holds at least "
                 "`\"model\"` (the `model.state_dict()`) and `\"config\"` (the config as a dict), which topic 34 "
                 "reads;"])
def checkpoint_file(t, rng):
    config = tiny_config(rng)
    model = model_from(config, model_params(rng, config))
    optimizer = make_optimizer(rng.choice(OPTIMIZERS), model)
    fields = dataclasses.asdict(config)
    given = {"a GPTConfig": (config, fields), "a dict config": (fields | {"note": "given as a dict"},) * 2}
    out = {}
    with scratch_folder() as folder, seeded_all(seed_of(rng)):
        for what, (config_given, expected) in given.items():
            path = folder / f"{len(out)}-{checkpoint_name(rng)}"
            t.save_checkpoint(path, model, optimizer, rng.integer(0, 1000), config_given, tokens_seen=7)
            out[what] = file_layout(path, model, expected)
    return out


@check("save_checkpoint's argument errors (step, config type, non-plain config or extra values) and a disk that "
       "fills up midway: each raises and leaves the previous checkpoint whole, with no temporary file",
       promises=["saves, through `atomic_save`",
                 "Some arguments are checked before anything is written, so that a previous checkpoint at `path` "
                 "stays as it was:",
                 "`step` must be an `int >= 0`, else `ValueError` naming it;",
                 "`config` must be a dataclass instance or a dict, else `TypeError` naming its type;",
                 "the config and every `extra` value must be plain data (the given `is_plain`), else `TypeError` "
                 "naming the keyword"])
def save_errors(t, rng):
    config = tiny_config(rng)
    model = model_from(config, model_params(rng, config))
    optimizer = make_optimizer(rng.choice(OPTIMIZERS), model)
    step = rng.integer(1, 1000)
    negative, fraction = -rng.integer(1, 50), rng.integer(1, 9) + 0.5
    with scratch_folder() as folder, seeded_all(seed_of(rng)):
        plain_steps(model, optimizer, batch_list(rng, config, 1))
        path = folder / checkpoint_name(rng)
        t.save_checkpoint(path, model, optimizer, step, config, tokens_seen=step * 10)
        before = path.read_bytes()

        def save(case, names, accept=(), step=step, config=config, **extra):
            return error_in(folder, case, t.save_checkpoint, path, model, optimizer, step, config,
                            names=names, accept=accept, **extra)

        cases = [save(f"step={negative}", [str(negative)], step=negative),
                 save(f"step={fraction}", [str(fraction)], step=fraction),
                 save("step=True", ["True"], step=True),
                 save("config given as a SimpleNamespace", ["SimpleNamespace"],
                      config=types.SimpleNamespace(vocab_size=config.vocab_size)),
                 save("config given as a str", ["str"], config="gpt2-small"),
                 save("a config dict holding a Path", ["config"],
                      config={"vocab_size": config.vocab_size, "data": Path("corpus.txt")}),
                 save("extra run_dir=Path(...)", ["run_dir"], run_dir=Path("runs")),
                 save("extra history holding a Path deep inside", ["history"],
                      history={"train": [1.0, 2.0], "files": [Path("a.txt")]}),
                 save("extra tokens=a SimpleNamespace", ["tokens"], tokens=types.SimpleNamespace(seen=3))]
        unchanged = [path.read_bytes() == before]
        files = [listing(folder)]
        with disk_full_after(len(before) // 2):
            cases.append(save("a disk that is full halfway through the new checkpoint", [], accept=ANY_ERROR,
                              step=step + 1))
        unchanged.append(path.read_bytes() == before)
        files.append(listing(folder))
        cases.append(save("step=0 (allowed)", [], step=0))
    return {"errors": cases, "previous checkpoint unchanged": unchanged, "files": files}


def foreign_files(t, rng: Rng, folder: Path, model, optimizer, config) -> list[tuple[str, Path, str]]:
    """Files load_checkpoint must refuse: ``(what, path, expected error)``; the good checkpoint to cut is written
    by the learner's own save_checkpoint."""
    good = folder / "good.pt"
    t.save_checkpoint(good, model, optimizer, 5, config)
    data = good.read_bytes()
    cut = len(data) * rng.integer(5, 95) // 100
    files = {
        "a torch file whose unpickling calls os.mkdir": lambda p: plant(p, folder / "torch-pickle-ran"),
        "a bare pickle that calls os.mkdir": lambda p: plant(p, folder / "bare-pickle-ran", raw=True),
        f"a checkpoint cut after {cut} of {len(data)} bytes": lambda p: p.write_bytes(data[:cut]),
        "an empty file": lambda p: p.write_bytes(b""),
        "a text file": lambda p: p.write_text('{"step": 5, "config": {}}\n'),
        # random bytes (the first one is not pickle's 0x80, which makes torch warn about the "protocol")
        "random bytes": lambda p: p.write_bytes(bytes(rng.randint(0, 128, (1,)).tolist()
                                                      + rng.randint(0, 256, (rng.integer(10, 500),)).tolist())),
        "a bare state_dict saved with torch.save": lambda p: torch.save(model.state_dict(), p),
    }
    out: list[tuple[str, Path, str]] = []
    for what, write in files.items():
        path = folder / f"{len(out)}-{checkpoint_name(rng)}"
        write(path)
        out.append((what, path, "ValueError"))
    out.append(("a path with no file", folder / f"missing-{checkpoint_name(rng)}", "FileNotFoundError"))
    return out


@check("load_checkpoint refuses pickles that would run code (nothing runs), truncated, empty, text, random and "
       "foreign torch files (ValueError) and a missing file (FileNotFoundError), naming the path and touching "
       "nothing",
       promises=["reads `path` with `torch.load(..., weights_only=True)`, so a file whose unpickling would call a "
                 "function is refused before any of it runs.",
                 "A missing file raises `FileNotFoundError`.",
                 "A file that is not a checkpoint written by `save_checkpoint` raises `ValueError`:",
                 "Each of these errors is one sentence naming the path, and leaves the model, the optimizer and the "
                 "random generators as they were"])
def refused_files(t, rng):
    config = tiny_config(rng, dropout=0.1)
    model = model_from(config, model_params(rng, config))
    optimizer = make_optimizer(rng.choice(OPTIMIZERS), model)
    with scratch_folder() as folder, seeded_all(seed_of(rng)):
        plain_steps(model, optimizer, batch_list(rng, config, 1))
        cases = foreign_files(t, rng, folder, model, optimizer, config)
        before = snapshot(model, optimizer)
        upcoming = peek()
        errors = []
        for what, path, kind in cases:
            errors.append(error_in(folder, f"{what} ({kind} expected)", t.load_checkpoint, path, model, optimizer,
                                   names=[path.name]))
        return {"errors": errors, "code ran": sorted(p.name for p in folder.glob("*-ran")),
                "model unchanged": same_tensors(model.state_dict(), before[0]),
                "optimizer unchanged": same_state(optimizer.state_dict(), before[1]),
                "generators unchanged": draws() == upcoming}


@check("load_checkpoint into a model that does not match the checkpoint (more layers, fewer layers, another "
       "d_model or vocabulary) raises RuntimeError or ValueError",
       promises=["It loads the weights into `model` with a strict `load_state_dict`: a model whose parameter names or "
                 "shapes differ from the checkpoint's raises `RuntimeError` (as `load_state_dict` does) or "
                 "`ValueError`."])
def mismatched_models(t, rng):
    config = tiny_config(rng, num_layers=2)
    model = model_from(config, model_params(rng, config))
    optimizer = make_optimizer(rng.choice(OPTIMIZERS), model)
    t18 = importlib.import_module(T18)
    fields = dict(vocab_size=config.vocab_size, context_length=config.context_length, d_model=config.d_model,
                  num_heads=config.num_heads, num_layers=2, dropout=0.0, qkv_bias=config.qkv_bias,
                  tie_weights=config.tie_weights)
    reshaped = rng.choice([("d_model doubled", dict(d_model=2 * config.d_model)),
                           ("a vocabulary 7 tokens larger", dict(vocab_size=config.vocab_size + 7))])
    others = {"3 layers instead of 2": dict(num_layers=3), "1 layer instead of 2": dict(num_layers=1),
              reshaped[0]: reshaped[1]}
    with scratch_folder() as folder, seeded_all(seed_of(rng)):
        path = folder / checkpoint_name(rng)
        t.save_checkpoint(path, model, optimizer, 1, config)
        out = []
        for what, change in others.items():
            other = t18.GPTModel(type(config)(**(fields | change)))
            out.append(error_in(folder, f"a checkpoint loaded into a model with {what}", t.load_checkpoint, path,
                                other, accept=("RuntimeError", "ValueError")))
        out.append(error_in(folder, "the same config (loads)", t.load_checkpoint, path,
                            t18.GPTModel(type(config)(**fields))))
    return out


def random_run(rng: Rng, num_steps: int) -> dict:
    """A checkpoint cadence that does not divide ``num_steps`` (so the save after the last step matters) and a
    crash after the first checkpoint."""
    save_every = rng.choice([k for k in (2, 3) if num_steps % k])
    return {"num_steps": num_steps, "save_every": save_every, "crash_at": rng.integer(save_every, num_steps - 1)}


RESUME_PROMISES = [
    "trains for `num_steps` optimizer steps in all.",
    "`batches(step)` returns the `(inputs, targets)` of step `step`, counted from 0.",
    "When `path` exists it first calls `load_checkpoint(path, model, optimizer)` and goes on from the checkpoint's "
    "`step`;", "otherwise it starts at step 0.",
    "After every step that makes the number of steps done a multiple of `save_every`, and after the last step, it "
    "calls `save_checkpoint(path, model, optimizer, steps_done, model.config, losses=...)` with the losses of all "
    "steps done so far.",
    "It returns the loss of every step `0 .. num_steps - 1`;",
    "the losses from before the resume point come from the checkpoint's `losses`.",
    "An exception raised during training (by `batches`, say) propagates, and the last checkpoint stays on disk."]


@check("train_with_checkpoints crashed at a random step (dropout on, a random optimizer, no schedule) and resumed "
       "with a fresh model, a fresh optimizer and moved generators equals uninterrupted training bit for bit",
       compare=resume_compare,
       promises=RESUME_PROMISES + [
           "with `lr=None` when there is no schedule.",
           "Training that is interrupted and resumed with a fresh model and a fresh optimizer equals uninterrupted "
           "training bit for bit on CPU, in its losses, weights and optimizer state, with dropout."])
def resume_bit_for_bit(t, rng):
    return resume_probe(t, rng, kind=rng.choice(OPTIMIZERS), dropout=rng.choice([0.1, 0.3]), schedule=False,
                        max_grad_norm=None, absolute=False, **random_run(rng, rng.choice([4, 5])))


@check("train_with_checkpoints' losses and learning rates equal the reference's (dropout 0, SGD with momentum, a "
       "schedule and gradient clipping), crashed and resumed",
       compare=resume_compare,
       promises=RESUME_PROMISES + [
           "Step `step` is topic 22's `train_step(model, inputs, targets, optimizer, device, "
           "lr=lr_schedule(step), max_grad_norm=max_grad_norm)`"])
def training_losses(t, rng):
    return resume_probe(t, rng, kind=OPTIMIZERS[2], dropout=0.0, schedule=True, max_grad_norm=rng.choice([0.1, 0.3]),
                        absolute=True, **random_run(rng, rng.choice([4, 5])))


@check("train_with_checkpoints with a checkpoint already at num_steps (gives its losses back, trains nothing), "
       "one past num_steps (ValueError naming both) and save_every < 1 (ValueError naming it)",
       promises=["A checkpoint already at `num_steps` gives its losses back and trains nothing;",
                 "one past `num_steps` raises `ValueError` naming both numbers.",
                 "`save_every < 1` raises `ValueError` naming it"])
def train_edges(t, rng):
    config = tiny_config(rng)
    params = model_params(rng, config)
    num_steps, save_every = rng.integer(2, 3), rng.integer(1, 2)
    data = batch_list(rng, config, num_steps)
    kind = rng.choice(OPTIMIZERS)
    with scratch_folder() as folder, seeded_all(seed_of(rng)):
        path = folder / checkpoint_name(rng)

        def train(steps, every, watch=None):
            model = model_from(config, params)
            return t.train_with_checkpoints(model, make_optimizer(kind, model), watch or Watch(data, path), steps,
                                            path, every)

        first = train(num_steps, save_every)
        saved = path.read_bytes()
        watch = Watch(data, path)
        again = train(num_steps, save_every, watch)
        out = {"number of losses": len(first), "losses given back unchanged": again == first,
               "steps trained the second time": watch.steps, "checkpoint unchanged": path.read_bytes() == saved}
        shorter = num_steps - rng.integer(1, num_steps - 1)
        out["errors"] = [
            error_in(folder, f"a checkpoint at step {num_steps}, num_steps={shorter}", train, shorter, save_every,
                     names=[str(num_steps), str(shorter)]),
            error_in(folder, "save_every=0", train, num_steps, 0, names=["0"]),
            error_in(folder, f"save_every={-save_every}", train, num_steps, -save_every, names=[str(-save_every)])]
    return out


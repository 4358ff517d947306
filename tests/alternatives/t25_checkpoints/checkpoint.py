"""A correct checkpoint module written from the README alone, differently from the reference."""

from __future__ import annotations

import dataclasses
import io
import os
import random
import tempfile
from collections import OrderedDict
from pathlib import Path

import torch

from course.t22_pretraining import train_step

MAGIC = "alt-checkpoint/1"


def is_plain(value):
    if value is None or type(value) in (bool, int, float, str) or isinstance(value, torch.Tensor):
        return True
    if type(value) in (list, tuple):
        return all(is_plain(v) for v in value)
    if type(value) in (dict, OrderedDict):
        return all(type(k) in (str, int) and is_plain(v) for k, v in value.items())
    return False


def sync_folder(folder):
    if os.name == "posix":
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def capture_rng_state():
    state = {"py": random.getstate(), "cpu": torch.random.get_rng_state()}
    if torch.cuda.is_available():
        state["gpu"] = [torch.cuda.get_rng_state(i) for i in range(torch.cuda.device_count())]
    return state


def restore_rng_state(state):
    random.setstate(state["py"])
    torch.random.set_rng_state(state["cpu"])
    for i, s in enumerate(state.get("gpu", [])):
        if torch.cuda.is_available() and i < torch.cuda.device_count():
            torch.cuda.set_rng_state(s, i)


def atomic_save(obj, path):
    target = Path(path)
    os.makedirs(target.parent, exist_ok=True)
    buffer = io.BytesIO()
    handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix="~", delete=False)
    try:
        with handle:
            torch.save(obj, buffer)  # a pickling error happens here, before the file has a byte
            handle.write(buffer.getbuffer())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    sync_folder(target.parent)


def _config_dict(config):
    if isinstance(config, dict):
        return {k: v for k, v in config.items()}
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    raise TypeError(f"the config of a checkpoint must be a dict or a dataclass instance, not {type(config).__name__}")


def save_checkpoint(path, model, optimizer, step, config, **extra):
    if type(step) is not int or step < 0:
        raise ValueError(f"the step {step!r} is not a non-negative int")
    cfg = _config_dict(config)
    if not is_plain(cfg):
        raise TypeError("config holds a value that is not plain data")
    bad = sorted(k for k, v in extra.items() if not is_plain(v))
    if bad:
        raise TypeError(f"extra value {bad[0]} is not plain data")
    # "model" and "config" are the keys topic 34 reads; the others are this module's own
    atomic_save({"magic": MAGIC, "counter": step, "config": cfg, "user": extra, "random": capture_rng_state(),
                 "model": model.state_dict(), "optim": optimizer.state_dict()}, path)


def load_checkpoint(path, model, optimizer=None, restore_rng=True):
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist")
    try:
        data = torch.load(path, weights_only=True, map_location="cpu")
        ok = isinstance(data, dict) and data.get("magic") == MAGIC
    except Exception as exc:
        raise ValueError(f"{path} could not be read as a checkpoint ({exc.__class__.__name__})") from None
    if not ok:
        raise ValueError(f"{path} is not a checkpoint of save_checkpoint")
    model.load_state_dict(data["model"], strict=True)
    if optimizer:
        optimizer.load_state_dict(data["optim"])
    if restore_rng:
        restore_rng_state(data["random"])
    result = dict(data["user"])
    result.update(step=data["counter"], config=data["config"])
    return result


def train_with_checkpoints(model, optimizer, batches, num_steps, path, save_every, device="cpu", lr_schedule=None,
                           max_grad_norm=None):
    if not save_every >= 1:
        raise ValueError(f"save_every={save_every} must be at least 1")
    history = []
    step = 0
    if os.path.exists(path):
        meta = load_checkpoint(path, model, optimizer)
        step, history = meta["step"], meta["losses"][:]
    if step > num_steps:
        raise ValueError(f"checkpoint step {step} > num_steps {num_steps}")
    while step < num_steps:
        x, y = batches(step)
        history.append(train_step(model, x, y, optimizer, device,
                                  lr=None if lr_schedule is None else lr_schedule(step),
                                  max_grad_norm=max_grad_norm))
        step += 1
        if step == num_steps or step % save_every == 0:
            save_checkpoint(path, model, optimizer, step, model.config, losses=list(history))
    return history

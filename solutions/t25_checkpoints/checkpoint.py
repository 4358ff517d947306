"""Topic 25 - saving and loading: checkpoints that resume training exactly.

Pretraining runs for hours or days. A crash, a pre-empted cloud machine or a
full disk must cost the steps since the last checkpoint, not the whole run. A
checkpoint therefore holds everything the *next* training step depends on:

* the model's weights                    ``model.state_dict()``
* the optimizer's state                  ``optimizer.state_dict()``: AdamW's two moving
                                         averages and step count per parameter, and the
                                         hyperparameters of every parameter group
* the step counter                        which batch comes next, where the learning-rate
                                         schedule stands
* the random number generators' states   the next dropout masks
* the model's config, as a plain dict    to rebuild the model before loading its weights

With all of them restored, a run that was interrupted and resumed computes bit
for bit what an uninterrupted run computes (on CPU). Forget one and the two runs
drift apart: without the optimizer state Adam restarts from zero moments (and its
bias correction from step 1), without the RNG states dropout drops other units.

**Atomic writes.** ``torch.save(obj, path)`` opens ``path`` and overwrites it as
it goes: a crash halfway leaves neither the old checkpoint nor the new one. So the
new checkpoint is written to a temporary file *in the same folder*, flushed to the
disk, and only then renamed onto ``path`` with ``os.replace``, which is atomic: at
every moment ``path`` holds the complete old file or the complete new one.

**Safe loading.** A ``.pt`` file is a pickle, and unpickling may call any Python
function the file names - a checkpoint downloaded from the internet could run
code on your machine. ``torch.load(path, weights_only=True)`` unpickles tensors
and plain containers only, and refuses everything else. That is why the config
goes in as a plain dict, never as a ``GPTConfig`` object.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from course.t22_pretraining import train_step  # your topic 22

FORMAT = "llmkit-checkpoint"  # a tag in every checkpoint: tells ours apart from any other torch file
KEYS = ("format", "step", "config", "model", "optimizer", "rng", "extra")  # what save_checkpoint writes


def is_plain(value: Any) -> bool:
    """Can ``torch.load(..., weights_only=True)`` read ``value`` back as it was?

    Plain means ``None``, ``bool``, ``int``, ``float``, ``str``, tensors, and lists,
    tuples and dicts (keys ``str`` or ``int``) of plain values. Subclasses do not
    count (a NumPy float, a named tuple, a ``defaultdict``): unpickling one would
    need its class.
    """
    if value is None or type(value) in (bool, int, float, str) or isinstance(value, torch.Tensor):
        return True
    if type(value) in (list, tuple):
        return all(is_plain(v) for v in value)
    if type(value) in (dict, OrderedDict):
        return all(type(k) in (str, int) and is_plain(v) for k, v in value.items())
    return False


def sync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (POSIX: fsync the folder itself; elsewhere nothing)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def capture_rng_state() -> dict[str, Any]:
    """The states of the global random number generators that training draws from, as plain data.

    Returns a dict with torch's CPU generator (``torch.get_rng_state()``), every CUDA
    device's generator (``torch.cuda.get_rng_state_all()``, an empty list without
    CUDA) and Python's ``random`` module (``random.getstate()``). The result is
    plain data (``is_plain``), so ``torch.load(weights_only=True)`` reads it back.
    Reading a state draws nothing: every generator goes on as if it had not been read.
    """
    ### BEGIN SOLUTION
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return {"torch": torch.get_rng_state(), "cuda": cuda, "python": random.getstate()}
    ### END SOLUTION


def restore_rng_state(state: dict[str, Any]) -> None:
    """Set every generator that :func:`capture_rng_state` reads back to ``state``.

    Afterwards torch's CPU generator and Python's ``random`` draw exactly what they
    drew right after ``state`` was captured (CUDA generators too, for the devices
    this machine has). ``state`` itself is not changed, so it can be restored again.
    """
    ### BEGIN SOLUTION
    torch.set_rng_state(state["torch"])
    if torch.cuda.is_available():
        for device, cuda_state in enumerate(state["cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state, device)
    random.setstate(state["python"])
    ### END SOLUTION


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj, path)``, all or nothing.

    Creates missing parent folders; writes ``obj`` with ``torch.save`` to a new
    temporary file in ``path``'s folder, flushes it and ``os.fsync``-s it, then
    ``os.replace``-s it onto ``path``. If anything fails on the way (an object
    pickle cannot write, a full disk), the temporary file is deleted, ``path`` is
    untouched - the previous file, if there was one, is still complete - and the
    exception propagates. Afterwards the folder holds no file besides ``path``
    that was not there before.
    """
    ### BEGIN SOLUTION
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)  # a first save into runs/new/ just works
    # the same folder as the target: os.replace is atomic only within one file system
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on the disk before any name points at them
        os.replace(tmp, path)  # readers see the whole old file or the whole new one, never a mix
    except BaseException:  # KeyboardInterrupt too: never leave a half-written temporary file
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    sync_folder(path.parent)  # the rename itself survives a power cut
    ### END SOLUTION


def save_checkpoint(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer, step: int,
                    config: Any, **extra: Any) -> None:
    """Write everything training needs to resume after ``step`` optimizer steps, atomically.

    The file (through :func:`atomic_save`) holds the model's ``state_dict()``, the
    optimizer's ``state_dict()``, ``step``, :func:`capture_rng_state`, the config
    as a plain dict (``dataclasses.asdict`` of a dataclass such as topic 13's
    ``GPTConfig``, or a copy of a dict) and every ``extra`` keyword with its value
    (``history=...``, ``tokens_seen=...``). Changes nothing: not the model, the
    optimizer or any random generator.

    The file, read back with ``torch.load(path, weights_only=True)``, is a dict
    that holds at least ``"model"`` (the ``model.state_dict()``) and ``"config"``
    (the config as a dict): topic 34 reads these two keys straight from the
    file. The other keys are yours.

    Checked before anything is written (so a previous checkpoint at ``path``
    stays): ``step`` must be an ``int >= 0`` (``ValueError`` naming it); ``config``
    a dataclass instance or a dict (``TypeError`` naming its type); the config
    and every ``extra`` value plain data (:func:`is_plain`; ``TypeError`` naming
    the keyword).
    """
    ### BEGIN SOLUTION
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"save_checkpoint: step must be an int >= 0, got step={step!r}")
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    elif isinstance(config, Mapping):
        config = dict(config)
    else:
        raise TypeError(f"save_checkpoint: config must be a dataclass or a dict, got a {type(config).__name__}")
    for name, value in {"config": config, **extra}.items():
        if not is_plain(value):
            # torch.save would pickle it happily, but torch.load(weights_only=True) could not read it back
            raise TypeError(f"save_checkpoint: {name} is not plain data (None, bool, int, float, str, tensors, "
                            f"and lists, tuples and dicts of them)")
    checkpoint = {"format": FORMAT, "step": step, "config": config, "model": model.state_dict(),
                  "optimizer": optimizer.state_dict(), "rng": capture_rng_state(), "extra": dict(extra)}
    atomic_save(checkpoint, path)
    ### END SOLUTION


def load_checkpoint(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    restore_rng: bool = True) -> dict[str, Any]:
    """Load a :func:`save_checkpoint` file into ``model`` (and ``optimizer``); return its other contents.

    Reads with ``torch.load(path, map_location="cpu", weights_only=True)``: nothing
    but tensors and plain containers is unpickled, so a file that would run code
    is refused. Then: the weights into ``model`` (strictly: every name and shape
    must match); the optimizer state into ``optimizer`` unless it is ``None``;
    the RNG states (:func:`restore_rng_state`) when ``restore_rng``.

    Returns a new dict: ``"step"``, ``"config"`` (a dict) and every ``extra``
    keyword given to ``save_checkpoint``, with its value.

    Errors, each one sentence naming the path: no file at ``path`` ->
    ``FileNotFoundError``; a file that is not a checkpoint written by
    ``save_checkpoint`` (truncated, not a torch file, an object pickle refuses,
    another torch file such as a bare ``state_dict``) -> ``ValueError``. A model
    that does not match the checkpoint's weights raises ``load_state_dict``'s
    ``RuntimeError``.
    """
    ### BEGIN SOLUTION
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_checkpoint: no checkpoint file at {path}")
    try:
        # weights_only: tensors and plain containers only - an object whose unpickling would run code is refused
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"load_checkpoint: cannot read {path} as a checkpoint (truncated, or not written by "
                         f"save_checkpoint): {type(exc).__name__}") from exc
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT or set(KEYS) - set(checkpoint):
        raise ValueError(f"load_checkpoint: {path} is a torch file but not a checkpoint written by save_checkpoint")
    model.load_state_dict(checkpoint["model"])  # strict: a missing, unexpected or reshaped weight raises
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    if restore_rng:
        restore_rng_state(checkpoint["rng"])
    return {"step": checkpoint["step"], "config": checkpoint["config"], **checkpoint["extra"]}
    ### END SOLUTION


def train_with_checkpoints(model: nn.Module, optimizer: torch.optim.Optimizer,
                           batches: Callable[[int], tuple[torch.Tensor, torch.Tensor]], num_steps: int,
                           path: str | os.PathLike, save_every: int, device: torch.device | str = "cpu",
                           lr_schedule: Callable[[int], float] | None = None,
                           max_grad_norm: float | None = None) -> list[float]:
    """Train for ``num_steps`` optimizer steps in all, checkpointing to ``path``; resume from it if it exists.

    ``batches(step)`` returns the ``(inputs, targets)`` of optimizer step ``step``
    (counted from 0), so the data order is fixed by the step and a resumed run
    sees the same batches. If ``path`` exists, first ``load_checkpoint(path,
    model, optimizer)`` (weights, optimizer, RNG states) and go on from its
    ``step``; else start at step 0. Each step is topic 22's ``train_step(model,
    inputs, targets, optimizer, device, lr=..., max_grad_norm=max_grad_norm)``
    with ``lr=lr_schedule(step)``, or ``lr=None`` without a schedule. After every
    step that makes the number of steps done a multiple of ``save_every``, and
    after the last step: ``save_checkpoint(path, model, optimizer, steps_done,
    model.config, losses=...)`` with the loss of every step done so far.

    Returns the losses of steps ``0 .. num_steps - 1``: those before the resume
    point come from the checkpoint. An exception (from ``batches``, say) propagates
    and leaves the last checkpoint on disk. ``save_every < 1`` -> ``ValueError``;
    a checkpoint already past ``num_steps`` -> ``ValueError`` naming both numbers.
    """
    ### BEGIN SOLUTION
    if save_every < 1:
        raise ValueError(f"train_with_checkpoints: save_every must be >= 1, got save_every={save_every}")
    start, losses = 0, []
    if Path(path).exists():
        info = load_checkpoint(path, model, optimizer)  # weights, moments and RNG as right after step info["step"]
        start, losses = info["step"], list(info["losses"])
        if start > num_steps:
            raise ValueError(f"train_with_checkpoints: the checkpoint is at step {start}, past "
                             f"num_steps={num_steps}")
    for step in range(start, num_steps):
        inputs, targets = batches(step)
        lr = lr_schedule(step) if lr_schedule is not None else None
        losses.append(train_step(model, inputs, targets, optimizer, device, lr=lr, max_grad_norm=max_grad_norm))
        done = step + 1
        if done % save_every == 0 or done == num_steps:
            save_checkpoint(path, model, optimizer, done, model.config, losses=losses)
    return losses
    ### END SOLUTION

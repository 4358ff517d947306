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
    raise NotImplementedError('t25 capture_rng_state: not implemented yet - write it in course/t25_checkpoints/checkpoint.py')


def restore_rng_state(state: dict[str, Any]) -> None:
    """Set every generator that :func:`capture_rng_state` reads back to ``state``.

    Afterwards torch's CPU generator and Python's ``random`` draw exactly what they
    drew right after ``state`` was captured (CUDA generators too, for the devices
    this machine has). ``state`` itself is not changed, so it can be restored again.
    """
    raise NotImplementedError('t25 restore_rng_state: not implemented yet - write it in course/t25_checkpoints/checkpoint.py')


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
    raise NotImplementedError('t25 atomic_save: not implemented yet - write it in course/t25_checkpoints/checkpoint.py')


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
    raise NotImplementedError('t25 save_checkpoint: not implemented yet - write it in course/t25_checkpoints/checkpoint.py')


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
    raise NotImplementedError('t25 load_checkpoint: not implemented yet - write it in course/t25_checkpoints/checkpoint.py')


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
    raise NotImplementedError('t25 train_with_checkpoints: not implemented yet - write it in course/t25_checkpoints/checkpoint.py')

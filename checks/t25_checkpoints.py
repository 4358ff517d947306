"""Public checks for topic 25 - saving and loading.

The helpers here are shared with the hidden checks of this topic: scratch folders,
reading files back, seeding every global generator, tiny GPT models and their
optimizers, files a loader must refuse, a disk that fills up midway, and the
probes of the generators' states and of resumed training.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import importlib
import io
import os
import pickle
import random
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from checks.t18_gpt_model import gpt_config, model_params
from llmkit.checks import check
from llmkit.probing import Rng, error_case, load_params
from llmkit.values import Mismatch, same

T18, T22 = "course.t18_gpt_model", "course.t22_pretraining"

# ----------------------------------------------------------------------------- files


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A new empty folder, deleted with everything in it afterwards."""
    with tempfile.TemporaryDirectory(prefix="t25-") as folder:
        yield Path(folder)


def listing(folder: Path) -> list[str]:
    """The names in ``folder`` (a temporary file left behind shows up here)."""
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def read_back(path: Path) -> Any:
    """What ``torch.load(path, weights_only=True)`` gives, or a short note when the file is gone or broken."""
    try:
        return torch.load(path, weights_only=True)
    except Exception as exc:
        return f"the file cannot be read back ({type(exc).__name__})"


def error_in(folder: Path, case: str, fn: Callable[..., Any], *args: Any, names=(), accept=(),
             **kwargs: Any) -> dict:
    """:func:`error_case`, with the scratch folder's own path (different in every run) left out of the message."""
    report = error_case(case, fn, *args, names=names, accept=accept, **kwargs)
    report["message"] = report["message"].replace(str(folder), "<folder>")
    return report


def checkpoint_name(rng: Rng) -> str:
    """A file name of its own in every run: an error message must name the path."""
    return f"ckpt-{rng.integer(1000, 9999)}.pt"


class Planted:
    """Unpickling this runs ``os.mkdir(marker)``: what an attacker's "checkpoint" would do with worse code."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def plant(path: Path, marker: Path, raw: bool = False) -> None:
    """Write a file whose unpickling would create ``marker``: a ``torch.save`` file, or a bare pickle."""
    if raw:
        path.write_bytes(pickle.dumps({"model": Planted(marker)}, protocol=2))
    else:
        torch.save({"format": "checkpoint", "step": 1, "model": Planted(marker)}, path)


@contextlib.contextmanager
def disk_full_after(limit: int) -> Iterator[None]:
    """Inside the block, writing past byte ``limit`` of any file fails with ``OSError`` (EFBIG), as on a disk
    that fills up in the middle of a write.

    POSIX: the process's file-size limit (``RLIMIT_FSIZE``), with ``SIGXFSZ`` ignored so that the write
    fails instead of the process being killed; whatever library writes the file hits it. Elsewhere (or
    off the main thread, where signals cannot be set): ``torch.save`` writes ``limit`` bytes, then raises.
    """
    try:
        import resource
        import signal

        previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    except (ImportError, AttributeError, ValueError):
        with _torch_save_fails_after(limit):
            yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


@contextlib.contextmanager
def _torch_save_fails_after(limit: int) -> Iterator[None]:
    real = torch.save

    def failing(obj, f, *args, **kwargs):
        buffer = io.BytesIO()
        real(obj, buffer, *args, **kwargs)
        if isinstance(f, (str, os.PathLike)):
            with open(f, "wb") as out:
                out.write(buffer.getvalue()[:limit])
        else:
            f.write(buffer.getvalue()[:limit])
        raise OSError(errno.ENOSPC, "No space left on device")

    torch.save = torch.serialization.save = failing
    try:
        yield
    finally:
        torch.save = torch.serialization.save = real


def saved_size(obj: Any) -> int:
    """How many bytes ``torch.save`` writes for ``obj``."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return len(buffer.getvalue())


# ----------------------------------------------------------------------------- random generators


@contextlib.contextmanager
def seeded_all(seed: int) -> Iterator[None]:
    """Torch's global generator and Python's ``random`` seeded with ``seed`` inside the block, restored after."""
    python_state = random.getstate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        random.seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)


def draws(n: int = 4) -> dict[str, list[int]]:
    """The next ``n`` draws of torch's CPU generator and of Python's ``random`` (integers: exact in every run)."""
    return {"torch": torch.randint(0, 2**31 - 1, (n,)).tolist(), "python": [random.getrandbits(31) for _ in range(n)]}


def peek() -> dict[str, list[int]]:
    """The next :func:`draws`, without consuming them."""
    python_state = random.getstate()
    with torch.random.fork_rng(devices=[]):
        upcoming = draws()
    random.setstate(python_state)
    return upcoming


def scramble(rng: Rng) -> None:
    """Move both generators somewhere else, as a new process would start them."""
    seed = rng.integer(0, 2**31 - 1)
    torch.manual_seed(seed)
    random.seed(seed)


def through_torch_load(value: Any, what: str) -> Any:
    """``value`` after ``torch.save`` and ``torch.load(weights_only=True)``, as a checkpoint keeps it."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    buffer.seek(0)
    try:
        return torch.load(buffer, weights_only=True)
    except Exception as exc:
        raise Mismatch(f"{what} is not plain data: torch.load(weights_only=True) cannot read it back "
                       f"({type(exc).__name__}) - keep tensors, numbers, strings, lists, tuples and dicts") from None


def rng_probe(t, rng: Rng) -> dict:
    """Capture, draw, move the generators elsewhere, restore (from a copy that went through torch.load), draw."""
    with seeded_all(rng.integer(0, 2**31 - 1)):
        upcoming = peek()
        state = t.capture_rng_state()
        first = draws()
        loaded = through_torch_load(state, "capture_rng_state()'s result")
        scramble(rng)
        t.restore_rng_state(loaded)
        again = draws()
        scramble(rng)
        t.restore_rng_state(loaded)
        once_more = draws()
    return {"draws had it not been captured": upcoming, "draws after capture": first,
            "draws after restore": again, "draws after restoring the same state again": once_more}


# ----------------------------------------------------------------------------- models and optimizers


def tiny_config(rng: Rng, dropout: float = 0.0, num_layers: int | None = None):
    """A topic-13 config small enough to train in milliseconds: vocab 20-60, d_model 4-16, context 4-8."""
    heads = rng.integer(1, 2)
    layers = rng.integer(1, 2) if num_layers is None else num_layers
    return gpt_config(rng.integer(20, 60), rng.integer(4, 8), heads * rng.choice([4, 8]), heads, layers, dropout,
                      rng.coin(), rng.coin())


def model_from(config, params: dict[str, torch.Tensor]):
    """The ``GPTModel`` of topic 18 (resolved like the learner's own import) holding ``params``."""
    return load_params(importlib.import_module(T18).GPTModel(config), params, "t18 GPTModel")


OPTIMIZERS = ("topic 22 AdamW", "torch.optim.AdamW", "torch.optim.SGD with momentum")


def make_optimizer(kind: str, model) -> torch.optim.Optimizer:
    """A fresh optimizer of ``kind``: checkpoints work with any ``torch.optim.Optimizer``."""
    if kind == "topic 22 AdamW":
        return importlib.import_module(T22).AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    if kind == "torch.optim.AdamW":
        return torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    return torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)


def batch_list(rng: Rng, config, n: int, batch: int = 2) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``n`` batches of random ids, ``(batch, context_length)`` each."""
    shape = (batch, config.context_length)
    return [(rng.randint(0, config.vocab_size, shape), rng.randint(0, config.vocab_size, shape)) for _ in range(n)]


def plain_steps(model, optimizer, batches) -> None:
    """The probe's own training loop (plain PyTorch): gives the optimizer a state worth saving."""
    model.train()
    for inputs, targets in batches:
        optimizer.zero_grad()
        F.cross_entropy(model(inputs).flatten(0, 1), targets.flatten()).backward()
        optimizer.step()


def same_tensors(a: dict, b: dict) -> bool:
    """Two state dicts hold the same keys and bit-for-bit equal tensors."""
    return set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


def same_state(a: Any, b: Any) -> bool:
    """Deep, bit-for-bit equality of nested state (an optimizer's ``state_dict()``)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype \
            and torch.equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(same_state(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_state(x, y) for x, y in zip(a, b))
    return a == b


def snapshot(model, optimizer) -> tuple[dict, dict]:
    """Deep copies of a model's and an optimizer's state, to compare with later."""
    def copy(value):
        if isinstance(value, torch.Tensor):
            return value.detach().clone()
        if isinstance(value, dict):
            return {k: copy(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(copy(v) for v in value)
        return value
    return copy(model.state_dict()), copy(optimizer.state_dict())


# ----------------------------------------------------------------------------- a round trip


def round_trip_probe(t, rng: Rng, kind: str, dropout: float = 0.0, train_mode: bool = False) -> dict:
    """Train a little, save with extras, load into a fresh model and optimizer: what came back, judged here
    (bit-for-bit equality with what was saved), so the answer depends on no float rounding."""
    config = tiny_config(rng, dropout)
    model = model_from(config, model_params(rng, config))
    optimizer = make_optimizer(kind, model)
    extra = {"history": {"train_loss": rng.randn(3).tolist(), "val_loss": rng.randn(3).tolist()},
             "tokens_seen": rng.integer(1, 10**6), "note": f"run {rng.integer(0, 99)}", "probe": rng.randn(2, 3),
             "pair": (rng.integer(0, 9), "x")}
    step = rng.integer(1, 10**5)
    with scratch_folder() as folder, seeded_all(rng.integer(0, 2**31 - 1)):
        plain_steps(model, optimizer, batch_list(rng, config, 2))
        path = folder / checkpoint_name(rng)
        model.train(train_mode)
        before, mode = snapshot(model, optimizer), model.training
        upcoming = peek()
        t.save_checkpoint(path, model, optimizer, step, config, **extra)
        after_save = draws()
        unchanged = same_tensors(model.state_dict(), before[0]) and same_state(optimizer.state_dict(), before[1]) \
            and model.training == mode
        fresh = model_from(config, model_params(rng, config))
        fresh_optimizer = make_optimizer(kind, fresh)
        scramble(rng)
        info = t.load_checkpoint(path, fresh, fresh_optimizer)
        after_load = draws()
        files = listing(folder)
    if not isinstance(info, dict):
        raise Mismatch(f"load_checkpoint returned a {type(info).__name__}, expected a dict")
    missing = [k for k in ("step", "config", *extra) if k not in info]
    if missing:
        raise Mismatch(f"load_checkpoint's dict lacks {missing}: it holds step, config and every extra keyword")
    return {"step returned": info["step"],
            "config returned is a dict equal to dataclasses.asdict(config)":
                type(info["config"]) is dict and info["config"] == dataclasses.asdict(config),
            "extras returned equal those saved": {k: same_state(info[k], v) for k, v in extra.items()},
            "saving changed nothing (model and its mode, optimizer)": unchanged,
            "saving drew no random numbers": after_save == upcoming,
            "loaded weights equal the saved ones": same_tensors(fresh.state_dict(), before[0]),
            "loaded optimizer state equals the saved one": same_state(fresh_optimizer.state_dict(), before[1]),
            "generators restored to their state at save": after_load == after_save,
            "files in the folder": files == [path.name]}


# ----------------------------------------------------------------------------- resumed training


class Interrupted(Exception):
    """The crash a probe simulates in the middle of training."""


class Watch:
    """The ``batches`` callable a probe hands to ``train_with_checkpoints``: records which steps asked for
    data, whether the checkpoint file changed since the previous request (a save), and can crash."""

    def __init__(self, data: list, path: Path, crash_at: int | None = None):
        self.data, self.path, self.crash_at = data, path, crash_at
        self.steps: list[int] = []
        self.saved_before: list[bool] = []
        self._last = self._bytes()

    def _bytes(self) -> bytes | None:
        return self.path.read_bytes() if self.path.exists() else None

    def changed(self) -> bool:
        now = self._bytes()
        changed, self._last = now != self._last, now
        return changed

    def __call__(self, step):
        self.steps.append(step)
        self.saved_before.append(self.changed())
        if step == self.crash_at:
            raise Interrupted(f"simulated crash at step {step}")
        return self.data[step]


def lr_recorder(optimizer, into: list) -> None:
    """Note every ``optimizer.step()``'s learning rate (group 0) in ``into``."""
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: into.append(opt.param_groups[0]["lr"]))


def first_difference(a: list, b: list) -> int | None:
    """The first position where two lists of floats differ bit for bit (or where one ends), else None."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def resume_probe(t, rng: Rng, *, kind: str, dropout: float, num_steps: int, save_every: int, crash_at: int,
                 schedule: bool, max_grad_norm: float | None, absolute: bool, num_layers: int = 1) -> dict:
    """Uninterrupted training vs the same training crashed at ``crash_at`` and resumed from the checkpoint
    with a fresh model (other weights), a fresh optimizer and the generators moved elsewhere.

    Judged here, bit for bit: the resumed run against the uninterrupted one, the learning rates against the
    schedule. ``absolute``: also return the losses and learning rates themselves, for the reference to judge
    (use with dropout 0: with dropout they depend on how the learner's topic-18 model draws its masks,
    which topic 18 leaves free).
    """
    config = tiny_config(rng, dropout, num_layers=num_layers)
    params = model_params(rng, config)
    data = batch_list(rng, config, num_steps)
    top = 0.2 if kind == OPTIMIZERS[2] else rng.choice([1e-2, 2e-2])
    lr_schedule = (lambda step: top * (step + 1) / num_steps) if schedule else None

    def scheduled(steps, lrs, optimizer_lr):
        wanted = [lr_schedule(s) for s in steps] if schedule else [optimizer_lr] * len(steps)
        return lrs == wanted

    seed = rng.integer(0, 2**31 - 1)
    runs: dict[str, Any] = {}
    with scratch_folder() as folder:
        straight_path, crashed_path = folder / "straight.pt", folder / checkpoint_name(rng)
        with seeded_all(seed):
            model = model_from(config, params)
            optimizer = make_optimizer(kind, model)
            own_lr = optimizer.param_groups[0]["lr"]
            straight_lrs: list[float] = []
            lr_recorder(optimizer, straight_lrs)
            watch = Watch(data, straight_path)
            losses = t.train_with_checkpoints(model, optimizer, watch, num_steps, straight_path, save_every,
                                              lr_schedule=lr_schedule, max_grad_norm=max_grad_norm)
            runs["uninterrupted"] = {"steps asked": watch.steps, "saved before each step": watch.saved_before,
                                     "saved at the end": watch.changed(),
                                     "learning rates as scheduled": scheduled(watch.steps, straight_lrs, own_lr)}
            straight = (list(losses), *snapshot(model, optimizer))
        with seeded_all(seed):
            model = model_from(config, params)
            optimizer = make_optimizer(kind, model)
            watch = Watch(data, crashed_path, crash_at=crash_at)
            try:
                t.train_with_checkpoints(model, optimizer, watch, num_steps, crashed_path, save_every,
                                         lr_schedule=lr_schedule, max_grad_norm=max_grad_norm)
                propagated = False
            except Interrupted:
                propagated = True
            runs["crashed"] = {"steps asked": watch.steps, "saved before each step": watch.saved_before,
                               "the crash propagated": propagated, "files": listing(folder)}
            scramble(rng)  # a new process: its generators start elsewhere, its model has other weights
            model = model_from(config, model_params(rng, config))
            optimizer = make_optimizer(kind, model)
            lrs: list[float] = []
            lr_recorder(optimizer, lrs)
            watch = Watch(data, crashed_path)
            losses = t.train_with_checkpoints(model, optimizer, watch, num_steps, crashed_path, save_every,
                                              lr_schedule=lr_schedule, max_grad_norm=max_grad_norm)
            runs["resumed"] = {"steps asked": watch.steps, "saved before each step": watch.saved_before,
                               "saved at the end": watch.changed(),
                               "learning rates as scheduled": scheduled(watch.steps, lrs, own_lr)}
            resumed = (list(losses), *snapshot(model, optimizer))
    out = {"runs": runs, "number of losses": [len(straight[0]), len(resumed[0])],
           "first step whose loss differs": first_difference(straight[0], resumed[0]),
           "weights equal bit for bit": same_tensors(straight[1], resumed[1]),
           "optimizer states equal bit for bit": same_state(straight[2], resumed[2])}
    if absolute:
        out |= {"losses": straight[0], "learning rates": straight_lrs}
    return out


def resume_compare(got: Any, expected: Any, *, reveal: bool) -> None:
    """Resumed training must equal uninterrupted training bit for bit; then everything else as the reference."""
    if isinstance(got, dict) and isinstance(got.get("runs"), dict) and "crashed" in got["runs"]:
        crashed = got["runs"]["crashed"]
        if crashed.get("the crash propagated") is False:
            raise Mismatch("an exception raised by batches(step) (a simulated crash) did not propagate out of "
                           "train_with_checkpoints")
        counts = got.get("number of losses")
        if isinstance(counts, list) and len(set(counts)) > 1:
            raise Mismatch(f"uninterrupted training returned {counts[0]} losses, interrupted and resumed training "
                           f"{counts[1]}: both return the loss of every step 0 .. num_steps - 1")
        step = got.get("first step whose loss differs")
        if step is not None:
            raise Mismatch(f"interrupted and resumed training differs from uninterrupted training from step {step} "
                           "on (its loss is not bit-for-bit equal): are the weights, the optimizer state, the "
                           "step and the random generators all saved and restored?")
        for key in ("weights equal bit for bit", "optimizer states equal bit for bit"):
            if got.get(key) is False:
                raise Mismatch(f"after interrupted and resumed training the {key.split(' equal')[0]} differ from "
                               "those of uninterrupted training")
    same(got, expected, reveal=reveal)


# ----------------------------------------------------------------------------- public checks


@check("capture_rng_state draws nothing; restore_rng_state (from a copy read back by torch.load(weights_only=True)) "
       "makes torch's and Python's generators repeat their draws, as often as it is called")
def rng_round_trip(t, rng):
    return rng_probe(t, rng)


@check("atomic_save: creates missing folders, overwrites, and when pickling fails midway keeps the previous file "
       "whole and leaves no temporary file")
def atomic_save_keeps_old_file(t, rng):
    with scratch_folder() as folder:
        path = folder / "runs" / checkpoint_name(rng)
        old = {"step": 1, "weights": rng.randn(4, 3)}
        t.atomic_save(old, path)
        first = {"read back whole": same_state(read_back(path), old), "files": listing(path.parent)}
        new = {"step": 2, "weights": rng.randn(5)}
        t.atomic_save(new, path)
        second = {"read back whole": same_state(read_back(path), new), "files": listing(path.parent)}
        broken = {"step": 3, "weights": rng.randn(100), "callback": lambda: None}  # pickle cannot write a lambda
        error = error_in(folder, "atomic_save of an object holding a lambda", t.atomic_save, broken, path,
                         accept=("Exception",))
        return {"first save": first, "overwrite": second, "failed save": error,
                "after the failed save": {"previous file whole": same_state(read_back(path), new),
                                          "files": listing(path.parent)}}


@check("save_checkpoint then load_checkpoint into a fresh model and optimizer: weights, AdamW state, RNG states, "
       "step, config as a dict and every extra keyword come back")
def save_and_load(t, rng):
    return round_trip_probe(t, rng, "torch.optim.AdamW", dropout=0.1)


@check("load_checkpoint refuses a pickle that would run code (nothing runs), a truncated file and a missing file, "
       "naming the path")
def unsafe_file_refused(t, rng):
    config = tiny_config(rng)
    model = model_from(config, model_params(rng, config))
    optimizer = make_optimizer("torch.optim.AdamW", model)
    with scratch_folder() as folder:
        marker = folder / "this-ran"
        planted = folder / checkpoint_name(rng)
        plant(planted, marker)
        good = folder / "good.pt"
        t.save_checkpoint(good, model, optimizer, 3, config)
        truncated = folder / "truncated.pt"
        truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        return {"planted": error_in(folder, "a file that would run os.mkdir when unpickled", t.load_checkpoint,
                                    planted, model, names=[planted.name]),
                "code ran": marker.exists(),
                "truncated": error_in(folder, "half of a checkpoint", t.load_checkpoint, truncated, model,
                                      names=[truncated.name]),
                "missing": error_in(folder, "a path with no file", t.load_checkpoint, folder / "nothing.pt", model,
                                    names=["nothing.pt"])}


@check("train_with_checkpoints crashed at a step and resumed (fresh model, fresh optimizer, dropout 0.2) equals "
       "uninterrupted training bit for bit", compare=resume_compare)
def resume_equals_uninterrupted(t, rng):
    return resume_probe(t, rng, kind="torch.optim.AdamW", dropout=0.2, num_steps=5, save_every=2, crash_at=3,
                        schedule=True, max_grad_norm=None, absolute=False)

"""``llmkit train``: pretrain a small GPT on the bundled Shakespeare, on the learner's own code.

Every piece that learns is the learner's: topic 02's BPE tokenizes, topic 03's
loader makes the batches, topic 18's ``GPTModel`` predicts, topic 21 measures
the loss, topic 22's ``AdamW``, schedule, clipping and ``train_step`` train,
topic 24's ``generate`` writes samples and topic 25 saves and resumes
checkpoints. This module only drives them: it picks the budget, shows progress,
records the history and draws the loss curve.

The default budget fits a laptop: a 4-layer model of width 128 over the
corpus's share of GPT-2's vocabulary, trained on windows of 64 tokens, 4 per
step, for ``minutes`` minutes of wall time (the number of steps is
fixed after the first few steps have been timed, so the learning-rate schedule
knows where it ends and a resumed run ends at the same step).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import signal
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from llmkit import data, registry, resolver
from llmkit.atomic import write_atomic

CHECKPOINT = "checkpoint.pt"
RUN_FILE = "run.json"  # the settings and the vocabulary: what --resume and `llmkit generate` rebuild from
CURVE = "loss_curve.png"
SAMPLE_PROMPT = "HAMLET:\n"
CALIBRATION_STEPS = 8  # steps timed before the total number of steps is fixed (with --minutes)...
WARMUP_UNTIMED = 2  # ...after these first ones, which pay one-off costs (allocations, CUDA kernels' start)


@dataclass
class TrainSettings:
    """Everything a run depends on. Defaults: about 4 minutes on 2 CPU cores."""

    minutes: float = 4.0  # wall-clock budget of the training loop (ignored when steps is set)
    steps: int | None = None  # a fixed number of optimizer steps instead of a time budget
    d_model: int = 128
    num_layers: int = 4
    num_heads: int = 4
    context_length: int = 64
    dropout: float = 0.0
    batch_size: int = 4  # small batches, many steps: the most learning per CPU minute (measured)
    max_lr: float = 2e-3
    min_lr: float = 2e-4
    warmup_steps: int = 50
    weight_decay: float = 0.1
    max_grad_norm: float = 1.0
    eval_every: int = 100  # steps between validation measurements
    eval_batches: int = 8
    final_eval_batches: int | None = None  # the closing verdict's batches; None: the whole validation text
    sample_every: int = 400  # steps between sample generations
    sample_tokens: int = 60
    temperature: float = 0.8
    top_k: int | None = 40
    checkpoint_every: int = 200
    train_ratio: float = 0.9
    plays: list[str] = field(default_factory=list)  # empty: every bundled play
    seed: int = 0
    device: str = "cpu"

    def model_fields(self) -> dict[str, Any]:
        return {"context_length": self.context_length, "d_model": self.d_model, "num_heads": self.num_heads,
                "num_layers": self.num_layers, "dropout": self.dropout}


# ----------------------------------------------------------------------------- the learner's topics


@dataclass
class Topics:
    """The learner's modules the run needs, loaded through the resolver."""

    bpe: Any
    loader: Any
    config: Any
    model: Any
    evaluation: Any
    training: Any
    generation: Any
    sampling: Any
    checkpoints: Any

    @classmethod
    def load(cls) -> Topics:
        numbers = {"bpe": 2, "loader": 3, "config": 13, "model": 18, "evaluation": 21, "training": 22,
                   "generation": 19, "sampling": 24, "checkpoints": 25}
        return cls(**{name: resolver.load(registry.get(n)) for name, n in numbers.items()})


class CorpusTokenizer:
    """GPT-2's BPE restricted to the tokens the corpus uses, renumbered ``0 .. n-1``.

    Shakespeare uses about 19,000 of GPT-2's 50,257 tokens. A model whose
    embedding and output head cover only those is three times faster on a CPU
    (the head is most of a small model's work) and learns the same language:
    a token that never occurs would only have its probability pushed to zero.
    ``encode`` and ``decode`` speak the compact ids, so the learner's loaders,
    ``text_to_ids`` and ``ids_to_text`` use it like any tokenizer. Each of the
    ``texts`` given here is encoded once (the loaders read the same texts again).

    ``extra_ids`` (GPT-2 ids) join the vocabulary even when no text uses them.
    When the vocabulary holds GPT-2's 256 single-byte tokens (``llmkit run``
    adds them), a token outside it is spelled out as its bytes instead of
    being refused: any text can be encoded, and decoding gives it back.
    """

    def __init__(self, tokenizer, texts: list[str], kept: list[int] | None = None, extra_ids: tuple[int, ...] = ()):
        self.inner = tokenizer
        # memo by identity, holding the text itself: the id of a freed string can be reused by another one
        self._memo: dict[int, tuple[str, list[int]]] = {}
        for text in texts:
            self._memo[id(text)] = (text, list(tokenizer.encode(text, allowed_special="all")))
        used = {i for _, ids in self._memo.values() for i in ids}
        self.kept = kept if kept is not None else sorted(used | set(extra_ids))
        self.index = {gpt2_id: i for i, gpt2_id in enumerate(self.kept)}
        self.byte_fallback = all(i in self.index for i in byte_token_ids())

    @property
    def vocab_size(self) -> int:
        return len(self.kept)

    def _encode_gpt2(self, text: str, allowed_special: Any = "all") -> list[int]:
        memo = self._memo.get(id(text))
        if memo is not None and memo[0] is text and allowed_special == "all":
            return memo[1]
        return list(self.inner.encode(text, allowed_special=allowed_special))

    def encode(self, text: str, allowed_special: Any = "all") -> list[int]:
        ids = self._encode_gpt2(text, allowed_special)
        try:
            return [self.index[i] for i in ids]
        except KeyError:
            pass
        missing = [i for i in ids if i not in self.index]
        if not self.byte_fallback:
            raise ValueError(f"{self.inner.decode(missing[:5])!r} never occurs in the training corpus, so the "
                             "model has no token for it: use words from the plays")
        byte_ids = byte_token_ids()
        out: list[int] = []
        for i in ids:
            if i in self.index:
                out.append(self.index[i])
            else:  # spelled out: one single-byte token per byte of the missing token
                out.extend(self.index[byte_ids[b]] for b in data.tiktoken_gpt2().decode_single_token_bytes(i))
        return out

    def decode(self, ids) -> str:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        return self.inner.decode([self.kept[i] for i in ids])


@functools.lru_cache(maxsize=1)
def byte_token_ids() -> tuple[int, ...]:
    """GPT-2's id of each single-byte token, indexed by the byte (0-255)."""
    encoding = data.tiktoken_gpt2()
    return tuple(encoding.encode_single_token(bytes([b])) for b in range(256))


@dataclass
class Vocabulary:
    """What joins the corpus's tokens in the model's vocabulary: the tokens of ``texts`` and the GPT-2
    ``ids`` (``llmkit run`` adds its finetuning texts, ``<|endoftext|>`` and the 256 byte tokens);
    ``note`` ends the line that reports the vocabulary's size."""

    texts: list[str] = field(default_factory=list)
    ids: tuple[int, ...] = ()
    note: str = ""


# ----------------------------------------------------------------------------- pieces of a run


def unigram_loss(train_ids: list[int], val_ids: list[int], vocab_size: int) -> float:
    """Validation loss (nats/token) of the train text's token frequencies, add-one smoothed.

    The baseline a model must beat: it knows which tokens are common, nothing of order.
    """
    counts = torch.bincount(torch.tensor(train_ids), minlength=vocab_size).double() + 1.0
    log_p = counts.log() - counts.sum().log()
    return -log_p[torch.tensor(val_ids)].mean().item()


def batches(loader, start_step: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless batches, epoch after epoch, positioned after ``start_step`` batches.

    The loader shuffles with its own seeded generator, which draws one new order
    per epoch; replaying the epochs from the start gives a resumed run the very
    batches the uninterrupted run would have seen.
    """
    if len(loader) == 0:
        raise ValueError("the training text gives no full batch: lower --batch-size or --context-length")
    seen = 0
    while True:
        for batch in loader:
            if seen >= start_step:
                yield batch
            seen += 1


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on matrices (and embeddings) only, as GPT-2's training did; not on biases or norms."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    plain = [p for p in model.parameters() if p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


def plot_curve(history: dict, baseline: float, path: Path) -> None:
    """Train and validation loss against tokens seen, with the unigram baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    ax.plot(history["tokens_seen"], history["train_loss"], label="train")
    ax.plot(history["tokens_seen"], history["val_loss"], label="validation")
    ax.axhline(baseline, color="gray", linestyle="--", label=f"unigram baseline {baseline:.2f}")
    ax.set_xlabel("tokens seen")
    ax.set_ylabel("cross-entropy (nats / token)")
    ax.set_title("pretraining on Shakespeare")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def empty_history() -> dict[str, list]:
    return {"step": [], "tokens_seen": [], "train_loss": [], "val_loss": []}


# ----------------------------------------------------------------------------- the run


class Run:
    """One pretraining run: data, model, optimizer and the loop around the learner's ``train_step``."""

    def __init__(self, settings: TrainSettings, out: Path, console: Console, kept: list[int] | None = None,
                 vocabulary: Vocabulary | None = None):
        self.s, self.out, self.console = settings, out, console
        self.vocabulary = vocabulary or Vocabulary()
        self.device = torch.device(settings.device)
        self.t = Topics.load()
        self.history = empty_history()
        self.step = 0
        self.total_steps: int | None = settings.steps
        self.tokens_seen = 0
        self._kept = kept  # the corpus vocabulary of a resumed run

    # -- set-up
    def prepare_data(self) -> None:
        s, t = self.s, self.t
        text = data.corpus(s.plays or None)
        with self.console.status("loading GPT-2's BPE (topic 02) and tokenizing the corpus"):
            train_text, val_text = t.evaluation.split_text(text, s.train_ratio)
            self.tokenizer = CorpusTokenizer(t.bpe.load_gpt2_tokenizer(),
                                             [train_text, val_text, *self.vocabulary.texts], self._kept,
                                             self.vocabulary.ids)
            train_ids, val_ids = self.tokenizer.encode(train_text), self.tokenizer.encode(val_text)
        self.vocab_size = self.tokenizer.vocab_size
        self.baseline = unigram_loss(train_ids, val_ids, self.vocab_size)

        def loader(part: str, shuffle: bool):
            return t.loader.create_dataloader(part, batch_size=s.batch_size, max_length=s.context_length,
                                              stride=s.context_length, shuffle=shuffle, drop_last=shuffle,
                                              tokenizer=self.tokenizer, seed=s.seed if shuffle else None)

        self.train_loader = loader(train_text, True)
        self.train_eval_loader = loader(train_text, False)  # evaluating never draws from the training order
        self.val_loader = loader(val_text, False)
        self.console.print(f"corpus: {len(text):,} characters -> {len(train_ids):,} training and {len(val_ids):,} "
                           f"validation tokens ({len(self.train_loader):,} batches of {s.batch_size} x "
                           f"{s.context_length} per epoch); the model's vocabulary: the {self.vocab_size:,} GPT-2 "
                           f"tokens the corpus uses{self.vocabulary.note}")
        self.console.print(f"baseline: the training text's unigram distribution scores a validation loss of "
                           f"[bold]{self.baseline:.3f}[/bold] nats/token (uniform over {self.vocab_size:,} tokens: "
                           f"{math.log(self.vocab_size):.3f})")
        self.console.print("goal: at least 1 nat below the baseline")

    def build(self) -> None:
        s, t = self.s, self.t
        torch.manual_seed(s.seed)
        self.config = t.config.GPTConfig(vocab_size=self.vocab_size, qkv_bias=True, tie_weights=True,
                                         **s.model_fields())
        self.model = t.model.GPTModel(self.config).to(self.device)
        self.optimizer = t.training.AdamW(param_groups(self.model, s.weight_decay), lr=s.max_lr,
                                          betas=(0.9, 0.95), weight_decay=s.weight_decay)
        write_run_file(self.out, self.s, self.tokenizer.kept)
        count = sum(p.numel() for p in self.model.parameters())
        self.console.print(f"model: GPT with {s.num_layers} blocks, d_model {s.d_model}, {s.num_heads} heads, "
                           f"context {s.context_length}: {count:,} parameters on {self.device}")

    def resume(self, path: Path) -> None:
        info = self.t.checkpoints.load_checkpoint(path, self.model, self.optimizer)
        self.step = int(info["step"])
        self.history = {k: list(v) for k, v in info.get("history", empty_history()).items()}
        self.tokens_seen = int(info.get("tokens_seen", self.step * self.s.batch_size * self.s.context_length))
        self.total_steps = int(info.get("total_steps") or self.total_steps or self.step)
        self.console.print(f"resumed from {path} at step {self.step:,} of {self.total_steps:,}")

    # -- pieces of the loop
    def autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def evaluate(self) -> tuple[float, float]:
        with self.autocast():
            train, val = self.t.evaluation.evaluate_model(self.model, self.train_eval_loader, self.val_loader,
                                                           self.device, self.s.eval_batches)
        for key, value in (("step", self.step), ("tokens_seen", self.tokens_seen), ("train_loss", float(train)),
                           ("val_loss", float(val))):
            self.history[key].append(value)
        return float(train), float(val)

    def sample(self, tokens: int | None = None) -> str:
        """A continuation of ``SAMPLE_PROMPT`` with the learner's ``generate`` (its own seeded generator)."""
        t, s = self.t, self.s
        ids = t.generation.text_to_ids(SAMPLE_PROMPT, self.tokenizer).to(self.device)
        generator = torch.Generator(device=self.device).manual_seed(s.seed + self.step)
        was_training = self.model.training
        self.model.eval()
        with self.autocast():
            out = t.sampling.generate(self.model, ids, max_new_tokens=tokens or s.sample_tokens,
                                      context_length=s.context_length, temperature=s.temperature, top_k=s.top_k,
                                      generator=generator)
        self.model.train(was_training)
        return t.generation.ids_to_text(out[0].cpu(), self.tokenizer)

    def save(self) -> Path:
        path = self.out / CHECKPOINT
        self.t.checkpoints.save_checkpoint(path, self.model, self.optimizer, self.step, self.config,
                                           history=self.history, tokens_seen=self.tokens_seen,
                                           total_steps=self.total_steps)
        return path

    def fix_total_steps(self, budget_s: float) -> None:
        """After the calibration steps: as many steps as the rest of the budget holds, evaluations included."""
        now = time.perf_counter()
        per_step = (now - self._calibration_clock) / CALIBRATION_STEPS
        eval_cost = self._eval_seconds / self.s.eval_every + self._sample_seconds / self.s.sample_every
        remaining = budget_s - (now - self._loop_start)
        self.total_steps = self.step + max(1, int(remaining / (per_step + eval_cost)))

    # -- the loop
    def train(self, progress: Progress) -> None:
        """Steps until ``total_steps``; Ctrl-C stops between two steps (:class:`Interrupted`)."""
        self._loop_start = time.perf_counter()
        if not self.history["step"]:  # the untrained model's loss starts the curve
            self.evaluate()
        self._eval_seconds = time.perf_counter() - self._loop_start
        start = time.perf_counter()
        self.sample(self.s.sample_tokens)  # timed, for the budget (and it fails early if generate is unwritten)
        self._sample_seconds = time.perf_counter() - start
        self.task = progress.add_task("training", total=self.total_steps, completed=self.step, loss=float("nan"),
                                      speed=0.0, val=self.history["val_loss"][-1])
        stream = batches(self.train_loader, self.step)
        self._window = (time.perf_counter(), 0)
        first = self.step
        with StopRequest() as stop:
            while self.total_steps is None or self.step < self.total_steps:
                if stop.requested:
                    raise Interrupted
                self.one_step(*next(stream), progress)
                if self.step - first == WARMUP_UNTIMED:
                    self._calibration_clock = time.perf_counter()
                if self.total_steps is None and self.step - first == WARMUP_UNTIMED + CALIBRATION_STEPS:
                    self.fix_total_steps(self.s.minutes * 60)

    def one_step(self, inputs: torch.Tensor, targets: torch.Tensor, progress: Progress) -> None:
        """One optimizer step by the learner's ``train_step``, then whatever is due at this step."""
        s, t = self.s, self.t
        total = self.total_steps or 10**9  # not fixed yet: still calibrating, inside the warm-up
        warmup = min(s.warmup_steps, total // 2)  # a very short run still gets a decay
        lr = t.training.lr_at(self.step, s.max_lr, s.min_lr, warmup, total)
        with self.autocast():
            loss = t.training.train_step(self.model, inputs, targets, self.optimizer, self.device, lr=lr,
                                         max_grad_norm=s.max_grad_norm)
        if not math.isfinite(loss):
            raise FloatingPointError(f"the training loss became {loss} at step {self.step}: try a lower --max-lr")
        self.step += 1
        self.tokens_seen += s.batch_size * s.context_length
        if self.step % s.eval_every == 0 or self.step == self.total_steps:
            self.evaluate()
        if self.step % s.sample_every == 0:
            sample = textwrap.indent(self.sample().strip(), "    ")
            progress.console.print(f"[dim]step {self.step:,}, sample:[/dim]\n{escape(sample)}", highlight=False)
        if self.step % s.checkpoint_every == 0:
            self.save()
        started, tokens = self._window
        tokens += s.batch_size * s.context_length
        self._window = (started, tokens)
        progress.update(self.task, completed=self.step, total=self.total_steps, loss=loss,
                        speed=tokens / max(1e-9, time.perf_counter() - started), val=self.history["val_loss"][-1])


class StopRequest:
    """Ctrl-C during training asks the loop to stop *between* steps, so the checkpoint it then saves
    holds a consistent state (weights, optimizer and step from the same moment). A second Ctrl-C
    interrupts at once, and nothing is saved."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class Interrupted(Exception):
    """The loop stopped between two steps because Ctrl-C asked it to."""


def progress_bar(console: Console) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("loss {task.fields[loss]:.3f}  val {task.fields[val]:.3f}  "
                               "{task.fields[speed]:,.0f} tok/s"),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console)


def pretrain(settings: TrainSettings, out: Path, console: Console, resume: bool = False,
             vocabulary: Vocabulary | None = None) -> int:
    """Run (or resume) pretraining and print the summary; return a process exit code.

    ``vocabulary`` adds tokens to the model's vocabulary beyond the corpus's (a
    resumed run keeps the vocabulary saved in its run file).
    """
    from llmkit.checks import describe_exception

    started = time.perf_counter()
    run = None
    try:
        kept = None
        if resume:
            if not (out / CHECKPOINT).exists():
                console.print(f"[red]--resume: no checkpoint in {out}; run without --resume first")
                return 2
            saved, kept = read_run_file(out)
            settings = dataclasses.replace(saved, device=settings.device)  # the run's own settings, any device
            console.print(f"resuming with the settings saved in {out / RUN_FILE}")
        out.mkdir(parents=True, exist_ok=True)
        run = Run(settings, out, console, kept, vocabulary)
        run.prepare_data()
        run.build()
        if resume:
            run.resume(out / CHECKPOINT)
        with progress_bar(console) as progress:
            run.train(progress)
        summarize(run, run.save(), time.perf_counter() - started)
        return 0
    except Interrupted:  # Ctrl-C, honoured between two steps: the state is consistent, keep it
        assert run is not None
        path = run.save()
        console.print(f"[yellow]Interrupted at step {run.step:,}: checkpoint saved to {path}; "
                      f"`llmkit train --resume --out {out}` continues exactly where this run stopped.")
        return 130
    except KeyboardInterrupt:  # a second Ctrl-C, or one outside the loop: nothing half-done is saved
        console.print(f"[yellow]Interrupted; the last periodic checkpoint in {out} (if any) is intact.")
        return 130
    except NotImplementedError as exc:
        console.print(f"[yellow]Pretraining needs: {exc}.[/yellow] Write it, then run `llmkit check` to test it.")
        return 1
    except Exception as exc:  # a learner's bug, a bad run folder: one line saying what and where
        console.print(f"[red]Pretraining stopped: {escape(describe_exception(exc))}")
        return 1


def summarize(run: Run, checkpoint: Path, seconds: float) -> None:
    """The closing table (losses, the baseline, a sample) and the loss-curve PNG."""
    console, history = run.console, run.history
    plot_curve(history, run.baseline, run.out / CURVE)
    # the curve's points measure the first eval_batches batches; the verdict uses the whole validation text
    # (or its first final_eval_batches batches, for a short run)
    run.model.eval()
    part = "whole" if run.s.final_eval_batches is None else f"first {run.s.final_eval_batches} batches of the"
    with torch.no_grad(), run.autocast(), console.status(f"validation loss over the {part} validation text"):
        final = float(run.t.evaluation.calc_loss_loader(run.val_loader, run.model, run.device,
                                                        run.s.final_eval_batches))
    table = Table(title="pretraining", show_header=False)
    table.add_column("what")
    table.add_column("result", overflow="fold")
    table.add_row("steps", f"{run.step:,} ({run.tokens_seen:,} tokens) in {seconds / 60:.1f} min")
    table.add_row("validation loss", f"{history['val_loss'][0]:.3f} (untrained) -> {final:.3f} nats/token over "
                                     f"the {part} validation text (perplexity {math.exp(final):,.1f})")
    gap = run.baseline - final
    table.add_row("vs unigram baseline", f"{run.baseline:.3f}: {gap:+.3f} nats "
                  + ("(beats it by more than 1 nat)" if gap >= 1.0 else "(not yet 1 nat better)"))
    table.add_row("sample", escape(run.sample(run.s.sample_tokens * 2).strip()))
    table.add_row("files", f"{checkpoint}, {run.out / CURVE}")
    console.print(table)
    console.print(f'Write with it: llmkit generate --checkpoint {checkpoint} --temperature 0.8 --top-k 40 "HAMLET:"')


def write_run_file(out: Path, settings: TrainSettings, vocabulary: list[int]) -> None:
    write_atomic(out / RUN_FILE, json.dumps({"settings": dataclasses.asdict(settings), "vocabulary": vocabulary}))


def read_run_file(out: Path) -> tuple[TrainSettings, list[int]]:
    """The settings and vocabulary of the run in ``out`` (a clear error if the file is not one of ours)."""
    path = out / RUN_FILE
    try:
        saved = json.loads(path.read_text())
        return TrainSettings(**saved["settings"]), [int(i) for i in saved["vocabulary"]]
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing: is {out} the --out folder of an `llmkit train` run?") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a run file written by `llmkit train` ({exc})") from None

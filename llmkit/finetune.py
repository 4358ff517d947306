"""``llmkit run``, Stage 5: finetune the learner's pretrained GPT to classify spam and follow instructions.

After pretraining (``llmkit.pretrain``) the run goes on, every step on the
learner's own code, driven through ``llmkit.resolver`` as pretraining is:

* classification: topic 34 loads the pretrained checkpoint, topic 27 swaps the
  head for two classes and freezes what should not train, topic 28 balances,
  splits and batches the SMS Spam Collection, topic 30 trains (topic 22's
  ``AdamW``) and classifies, topic 29 measures the accuracy;
* instructions: topic 31 formats and splits the kit's instruction set (or the
  user's Alpaca file), topic 33 batches it, topic 35 finetunes, generates the
  test responses (before and after) and saves them;
* evaluation: topic 36 scores the responses (offline by default: exact match
  and token F1; or an Ollama model as judge).

Every step saves what it produced in the run folder and records a key of its
inputs in ``progress.json``; a later ``llmkit run`` with the same settings reuses
finished steps (an interrupted pretraining resumes from its checkpoint), so an
interrupted run picks up where it stopped. The report folder holds the loss
curves, the spam confusion matrix, sample generations, the instruction
responses as JSON, and every number in ``report.json`` / ``report.md``.

Vocabulary. The pretrained model only knows the tokens it has embeddings for.
A fresh run's vocabulary is the tokens of the corpus, of the bundled spam
messages and instruction set (formatted in the Alpaca template), the
end-of-text token (the padding and end-of-response id) and GPT-2's 256
single-byte tokens. A token outside it - a user's ``--data`` or
``--instructions`` can bring new ones - is spelled out as its bytes
(``CorpusTokenizer``'s byte fallback): nothing is refused or lost, such text just
takes more tokens. The vocabulary never depends on the user's files, so
changing them reuses the pretrained model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from llmkit import finetune_data, registry, resolver
from llmkit.atomic import write_atomic
from llmkit.pretrain import (
    CHECKPOINT,
    RUN_FILE,
    CorpusTokenizer,
    TrainSettings,
    Vocabulary,
    byte_token_ids,
    pretrain,
    read_run_file,
)

PROGRESS_FILE = "progress.json"
EOT = "<|endoftext|>"
GPT2_EOT_ID = 50256
SPAM_LABELS = ("ham", "spam")
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)  # spam: train, validation, test
SAMPLE_PROMPTS = {"corpus": "HAMLET:\n", "gpt2": "Every effort moves you"}  # the base model's sample

# The Alpaca template, for the vocabulary only (the run formats examples with the learner's topic 31);
# tests/test_finetune.py keeps it equal to topic 31's reference.
_PREAMBLES = ("Below is an instruction that describes a task. Write a response that appropriately completes the "
              "request.", "Below is an instruction that describes a task, paired with an input that provides "
              "further context. Write a response that appropriately completes the request.")


@dataclass
class FinetuneSettings:
    """Everything Stage 5 depends on. Defaults: the measured default run (see :func:`course_settings`)."""

    # classification (spam)
    cls_balance: bool = True  # undersample ham to the number of spam messages (topic 28), as the book does
    cls_max_length: int | None = 64  # tokens per message (95% of spam fits); None: the model's context length
    cls_trainable_blocks: int | None = None  # the last N blocks train; None: all of them
    cls_train_embeddings: bool = True  # tokens Shakespeare lacks (most of SMS's) were never trained
    cls_epochs: int = 8  # 3 epochs at 5e-4 left the pretrained default at 85% (spam read as ham)
    cls_batch_size: int = 8
    cls_lr: float = 1e-3
    cls_weight_decay: float = 0.1
    cls_eval_every: int = 50
    cls_eval_batches: int = 5
    # instructions
    instr_epochs: int = 6
    instr_batch_size: int = 8
    instr_lr: float = 1e-3
    instr_weight_decay: float = 0.1
    instr_mask_prompt: bool = True  # the loss counts the response tokens only
    instr_eval_every: int = 50
    instr_eval_batches: int = 5
    max_new_tokens: int | None = None  # per response; None: the longest test answer's tokens + 2
    # evaluation
    judge: str = "offline"  # or "ollama"
    judge_model: str = "llama3.2"
    ollama_host: str = "http://localhost:11434"
    # smoke tests: at most this many examples/records in every split (None: all)
    max_examples: int | None = None
    seed: int = 0
    device: str = "cpu"

    def key(self, prefix: str) -> dict[str, Any]:
        """The settings whose names start with ``prefix`` (one stage's), plus the shared ones."""
        shared = ("max_examples", "seed", "device")
        return {k: v for k, v in dataclasses.asdict(self).items() if k.startswith(prefix) or k in shared}


def course_settings(quick: bool = False) -> tuple[TrainSettings, FinetuneSettings]:
    """The settings of ``llmkit run`` (``quick``: ``--quick``), chosen by measurement on 2 CPU cores.

    Pretraining needs windows of 128 tokens: a prompt in the Alpaca template
    with its response takes 30-70 tokens. Classification trains every block and
    the embeddings (the SMS tokens Shakespeare lacks were never trained: 75-88%
    test accuracy without them, 94-97% with them) on the first 64 tokens of a
    message (95% of spam fits; as accurate as 128 and twice as fast), for 8
    epochs at a learning rate of 1e-3 (on the default pretrained model: 96.1,
    97.3, 95.7% test accuracy for seeds 0-2; 3 epochs at 5e-4 gave 85.3%). The
    default run takes about 11 minutes, ``--quick`` under 3.
    """
    if quick:
        return (TrainSettings(minutes=0.75, context_length=128, eval_every=50, sample_every=10**9,
                              checkpoint_every=100, final_eval_batches=40),
                FinetuneSettings(cls_epochs=2, cls_lr=5e-4, instr_epochs=2))
    return (TrainSettings(minutes=6.0, context_length=128, eval_every=100),
            FinetuneSettings())


def weights_settings(finetune: FinetuneSettings) -> FinetuneSettings:
    """With ``--weights`` (GPT-2 124M and up, slow on a CPU): fewer epochs and smaller learning rates;
    only the last block, the final norm and the head train for classification (as in the book: GPT-2's
    embeddings already know every token)."""
    return dataclasses.replace(finetune, cls_trainable_blocks=1, cls_train_embeddings=False,
                               cls_epochs=min(finetune.cls_epochs, 2),
                               cls_lr=5e-5, instr_epochs=1, instr_lr=5e-5, instr_batch_size=4)


@dataclass
class CourseRun:
    """One ``llmkit run`` after Stages 1-3: where, with what data and settings."""

    out: Path
    pretrain: TrainSettings
    finetune: FinetuneSettings
    data: Path | None = None  # a user's spam file (label<TAB>text); None: the bundled SMS Spam Collection
    instructions: Path | None = None  # a user's Alpaca JSON; None: the kit's instruction set
    weights: Path | None = None  # GPT-2 weights (a folder) instead of the pretrained checkpoint
    fresh: bool = False  # forget finished steps, start over


# ----------------------------------------------------------------------------- the learner's topics


@dataclass
class StageTopics:
    """The learner's modules Stage 5 needs, loaded through the resolver one stage at a time (a learner who
    has written topics 27-30 gets the classifier before the run asks for topic 31)."""

    modules: dict[int, Any] = field(default_factory=dict)

    def __call__(self, number: int) -> Any:
        if number not in self.modules:
            self.modules[number] = resolver.load(registry.get(number))
        return self.modules[number]


# ----------------------------------------------------------------------------- progress and keys


def _fingerprint(path: Path | None, bundled: str) -> str:
    """What a data source is: ``bundled`` or the SHA-256 of the user's file (a changed file is new data)."""
    if path is None:
        return bundled
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _key(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


class StepRecord:
    """``progress.json``: per finished step, the key of its inputs and its numbers."""

    def __init__(self, out: Path, fresh: bool):
        self.path = out / PROGRESS_FILE
        self.steps: dict[str, dict] = {}
        if self.path.exists() and not fresh:
            try:
                self.steps = json.loads(self.path.read_text())
            except ValueError:
                self.steps = {}  # a damaged file: nothing counts as done

    def done(self, name: str, key: str) -> dict | None:
        step = self.steps.get(name)
        return step["result"] if step and step.get("key") == key else None

    def record(self, name: str, key: str, result: dict) -> None:
        self.steps[name] = {"key": key, "result": result}
        _write_json(self.path, self.steps)


def _write_json(path: Path, value: Any) -> None:
    write_atomic(path, json.dumps(value, indent=2, ensure_ascii=False, default=str))


# ----------------------------------------------------------------------------- progress bars


def stage_bar(console: Console) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=console)


@contextmanager
def bar(console: Console, description: str, total: int, losses: bool = False) -> Iterator[Callable[..., None]]:
    """A progress bar; yields ``advance(*args)`` for the topics' ``on_step(step, loss)`` (``losses``: the
    loss is shown) and ``on_item(i, item)`` callbacks."""
    with stage_bar(console) as progress:
        task = progress.add_task(description, total=total, info="")

        def advance(*args) -> None:
            info = f"loss {float(args[1]):.3f}" if losses and len(args) >= 2 else ""
            progress.update(task, advance=1, info=info)

        yield advance


# ----------------------------------------------------------------------------- data and vocabulary


@dataclass
class Data:
    spam: tuple[list[str], list[int]]
    entries: list[dict]
    spam_source: str
    entries_source: str


def read_data(run: CourseRun) -> Data:
    """The spam messages and the instruction records, checked before anything trains."""
    spam = finetune_data.read_spam(run.data)
    entries = finetune_data.read_alpaca(run.instructions) if run.instructions else finetune_data.instruction_set()
    return Data(spam, entries, _fingerprint(run.data, "bundled SMS Spam Collection"),
                _fingerprint(run.instructions, "the kit's instruction set"))


def _alpaca_text(entry: dict) -> str:
    """The whole training text of a record, for the vocabulary (the run formats with topic 31)."""
    if entry.get("input"):
        prompt = f"{_PREAMBLES[1]}\n\n### Instruction:\n{entry['instruction']}\n\n### Input:\n{entry['input']}"
    else:
        prompt = f"{_PREAMBLES[0]}\n\n### Instruction:\n{entry['instruction']}"
    return f"{prompt}\n\n### Response:\n{entry['output']}"


def run_vocabulary() -> Vocabulary:
    """The finetuning texts' tokens, end-of-text and the byte tokens join the corpus's (see the module doc).

    Built from the bundled data only, so a user's files never change the pretrained model."""
    texts, _ = finetune_data.read_spam()
    entries = finetune_data.instruction_set()
    return Vocabulary(texts=[*texts, *(_alpaca_text(e) for e in entries), EOT],
                      ids=(GPT2_EOT_ID, *byte_token_ids()),
                      note=", the finetuning data's, end-of-text and the 256 byte tokens")


# ----------------------------------------------------------------------------- the stages


class Stage5:
    """Classification, instruction finetuning, evaluation and the report, for one :class:`CourseRun`."""

    def __init__(self, run: CourseRun, steps: StepRecord, console: Console):
        self.run, self.s, self.console = run, run.finetune, console
        self.out = run.out
        self.report = run.out / "report"
        self.report.mkdir(parents=True, exist_ok=True)
        self.progress = steps
        self.t = StageTopics()
        self.device = torch.device(self.s.device)
        self.times: dict[str, float] = {}
        self.judge_error: str | None = None

    # -- pieces
    def cap(self, items: list) -> list:
        return items if self.s.max_examples is None else items[: self.s.max_examples]

    def load_model(self):
        """A fresh copy of the pretrained model (topic 34), in eval mode, on the run's device."""
        return self.t(34).load_model(self.source, device=self.s.device, dropout=0.0)

    # -- the base model and its tokenizer
    def base(self) -> None:
        """What the finetuning stages start from: the pretrained checkpoint (and the corpus tokenizer) or
        GPT-2's weights (and GPT-2's whole BPE, end-of-text 50256)."""
        if self.run.weights is None:
            self.source = self.out / "pretrain" / CHECKPOINT
            self.base_key = pretraining_key(self.run.pretrain)
            self.tokenizer, self.eos_id = corpus_tokenizer(self.out / "pretrain")
            self.prompt = SAMPLE_PROMPTS["corpus"]
        else:
            self.source = self.run.weights
            self.base_key = _fingerprint_folder(self.run.weights)
            self.tokenizer, self.eos_id = resolver.load(registry.get(2)).load_gpt2_tokenizer(), GPT2_EOT_ID
            self.prompt = SAMPLE_PROMPTS["gpt2"]

    def base_sample(self) -> str:
        """The base model continues a prompt greedily (topics 19 and 24), for the samples file."""
        from llmkit import textgen

        return textgen.continue_text(self.load_model(), self.tokenizer, self.prompt, max_new_tokens=40,
                                     device=self.s.device)

    # -- classification
    def classification(self, spam: tuple[list[str], list[int]], source: str) -> dict:
        s = self.s
        key = _key({"base": self.base_key, "data": source, "settings": s.key("cls_")})
        done = self.progress.done("classification", key)
        if done is not None:
            self.console.print(f"classification: reusing the finished step in {self.out / 'classify'} "
                               f"(test accuracy {done['test_accuracy']:.1%})")
            return done
        started = time.perf_counter()
        t28, t29 = self.t(28), self.t(29)
        texts, labels = spam
        if s.cls_balance:
            texts, labels = t28.balance_classes(texts, labels, seed=123 + s.seed)
        parts = [(self.cap(x), self.cap(y)) for x, y in t28.split_dataset(texts, labels, SPLIT_FRACTIONS,
                                                                          seed=123 + s.seed)]
        model = self.load_model()
        context = model.config.context_length
        max_length = min(s.cls_max_length or context, context)
        datasets = [t28.ClassificationDataset(x, y, self.tokenizer, max_length=max_length, pad_id=self.eos_id)
                    for x, y in parts]
        train_loader = t28.classification_loader(datasets[0], s.cls_batch_size, shuffle=True, seed=s.seed,
                                                 drop_last=len(datasets[0]) >= 2 * s.cls_batch_size)
        val_loader, test_loader = (t28.classification_loader(d, s.cls_batch_size) for d in datasets[1:])
        blocks = len(model.blocks) if s.cls_trainable_blocks is None else s.cls_trainable_blocks
        self.t(27).prepare_for_classification(model, num_classes=2, trainable_blocks=blocks, train_final_norm=True)
        if s.cls_train_embeddings:
            self.t(27).set_trainable(model.embedding, True)
        model.to(self.device)
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = self.t(22).AdamW(trainable, lr=s.cls_lr, weight_decay=s.cls_weight_decay)
        counts = Counter(parts[0][1])
        self.console.print(f"classification: {len(parts[0][0]):,} training messages ({counts[0]:,} ham, "
                           f"{counts[1]:,} spam), {len(parts[1][0]):,} validation, {len(parts[2][0]):,} test; "
                           f"{max_length} tokens per message; {self.t(27).count_trainable(model):,} trainable "
                           f"parameters (the last {blocks} of {len(model.blocks)} blocks, the final norm, a new "
                           "2-class head" + (", the embeddings)" if s.cls_train_embeddings else ")"))
        steps = s.cls_epochs * len(train_loader)
        eval_every = max(1, min(s.cls_eval_every, steps // 5))
        torch.manual_seed(s.seed)
        with bar(self.console, "classification", steps, losses=True) as advance:
            history = self.t(30).train_classifier(model, train_loader, val_loader, optimizer, s.device,
                                                  s.cls_epochs, eval_every=eval_every,
                                                  eval_batches=s.cls_eval_batches, on_step=advance)
        accuracy = {name: float(t29.calc_accuracy_loader(loader, model, s.device))
                    for name, loader in (("train", train_loader), ("validation", val_loader), ("test", test_loader))}
        matrix = confusion(model, test_loader, t29, self.device)
        examples = self.classified_examples(model, parts[2], max_length)
        self.t(25).save_checkpoint(self.out / "classify" / "classifier.pt", model, optimizer, steps, model.config,
                                   num_classes=2)
        plot_classification(history, eval_every, self.report / "classification_curves.png")
        plot_confusion(matrix, self.report / "spam_confusion.png")
        result = {"train_messages": len(parts[0][0]), "test_messages": len(parts[2][0]), "max_length": max_length,
                  "trainable_blocks": blocks, "steps": steps, "train_accuracy": accuracy["train"],
                  "validation_accuracy": accuracy["validation"], "test_accuracy": accuracy["test"],
                  "confusion": matrix, "examples": examples,
                  "history": {k: v for k, v in history.items() if isinstance(v, list)},
                  "seconds": time.perf_counter() - started}
        self.progress.record("classification", key, result)
        return result

    def classified_examples(self, model, test: tuple[list[str], list[int]], max_length: int) -> list[dict]:
        """Topic 30's ``classify`` on the first two ham and two spam test messages."""
        picked = [i for label in (0, 1) for i in [j for j, y in enumerate(test[1]) if y == label][:2]]
        return [{"text": test[0][i], "truth": SPAM_LABELS[test[1][i]],
                 "predicted": self.t(30).classify(test[0][i], model, self.tokenizer, self.s.device,
                                                  max_length=max_length, labels=SPAM_LABELS)} for i in picked]

    # -- instructions
    def instructions(self, entries: list[dict], source: str) -> dict:
        s = self.s
        key = _key({"base": self.base_key, "data": source, "settings": s.key("instr_"),
                    "max_new_tokens": s.max_new_tokens})
        done = self.progress.done("instructions", key)
        if done is not None:
            self.console.print(f"instructions: reusing the finished step in {self.out / 'instruct'} (exact match "
                               f"{done['exact_before']:.1%} before, {done['exact_after']:.1%} after)")
            return done
        started = time.perf_counter()
        t33, t35, t36 = self.t(33), self.t(35), self.t(36)
        train, val, test = (self.cap(part) for part in self.t(31).split_entries(entries, seed=123 + s.seed))
        model = self.load_model().to(self.device)
        context = model.config.context_length
        datasets = [t33.InstructionDataset(part, self.tokenizer) for part in (train, val)]
        lengths = [len(ids) + 1 for ids, _ in datasets[0]]
        options = {"pad_id": self.eos_id, "max_length": context, "mask_prompt": s.instr_mask_prompt}
        train_loader = t33.instruction_loader(datasets[0], s.instr_batch_size, shuffle=True, seed=s.seed,
                                              drop_last=len(train) >= 2 * s.instr_batch_size, **options)
        val_loader = t33.instruction_loader(datasets[1], s.instr_batch_size, **options)
        self.console.print(f"instructions: {len(train):,} training records, {len(val):,} validation, "
                           f"{len(test):,} test; {sum(lengths) / max(1, len(lengths)):.0f} tokens per example "
                           f"(longest {max(lengths, default=0)}, context {context})"
                           + ("; the loss counts the response tokens only" if s.instr_mask_prompt else ""))

        # greedy answers stop at end-of-text; a model that never writes it stops here
        longest = max((len(self.tokenizer.encode(e["output"])) for e in test), default=0)
        max_new_tokens = s.max_new_tokens or longest + 2

        def respond(description: str) -> list[dict]:
            with bar(self.console, description, len(test)) as advance:
                return t35.generate_responses(model, self.tokenizer, test, max_new_tokens=max_new_tokens,
                                              eos_id=self.eos_id, on_item=advance)

        before = respond("responses before finetuning")
        optimizer = self.t(22).AdamW(model.parameters(), lr=s.instr_lr, weight_decay=s.instr_weight_decay)
        steps = s.instr_epochs * len(train_loader)
        eval_every = max(1, min(s.instr_eval_every, steps // 5))
        torch.manual_seed(s.seed)
        with bar(self.console, "instruction finetuning", steps, losses=True) as advance:
            history = t35.train_instructions(model, train_loader, val_loader, optimizer, s.device, s.instr_epochs,
                                             eval_every=eval_every, eval_batches=s.instr_eval_batches,
                                             on_step=advance)
        after = respond("responses after finetuning")
        for entry, old in zip(after, before):
            entry["response_before_finetuning"] = old["model_response"]
        t35.save_responses(after, self.report / "instruction_responses.json")
        self.t(25).save_checkpoint(self.out / "instruct" / "model.pt", model, optimizer, steps, model.config)
        plot_instruction(history, self.report / "instruction_loss.png")
        result = {"train_records": len(train), "test_records": len(test), "steps": steps,
                  "exact_before": exact_share(before, t36), "exact_after": exact_share(after, t36),
                  "by_family": by_family(before, after, t36),
                  "history": {k: v for k, v in history.items() if isinstance(v, list)},
                  "examples": [{k: e.get(k) for k in ("instruction", "input", "output", "model_response",
                                                      "response_before_finetuning")} for e in after[:6]],
                  "seconds": time.perf_counter() - started}
        self.progress.record("instructions", key, result)
        return result

    # -- evaluation
    def evaluation(self) -> dict:
        """Scores of the saved responses: always the offline scorer, and the chosen judge."""
        s = self.s
        judges = ["offline"] + (["ollama"] if s.judge == "ollama" else [])
        key = _key({"responses": self.progress.steps["instructions"]["key"], "judges": judges,
                    "model": s.judge_model, "host": s.ollama_host})
        done = self.progress.done("evaluation", key)
        if done is not None:
            self.console.print("evaluation: reusing the finished scores")
            return done
        t36 = self.t(36)
        entries = json.loads((self.report / "instruction_responses.json").read_text(encoding="utf-8"))
        result: dict[str, Any] = {}
        for name in judges:
            judge = t36.OfflineJudge() if name == "offline" else t36.OllamaJudge(
                model=s.judge_model, host=s.ollama_host)
            try:
                with bar(self.console, f"judging ({judge.name})", len(entries)) as advance:
                    scores, summary = t36.judge_responses(entries, judge, on_item=advance)
            except t36.JudgeError as exc:  # the offline scores stand; a later run asks the judge again
                result[name] = {"judge": judge.name, "error": str(exc)}
                self.judge_error = f"{judge.name}: {exc}"
                continue
            result[name] = {"judge": judge.name, "summary": summary, "scores": scores}
        _write_json(self.report / "scores.json", result)
        if self.judge_error is None:
            self.progress.record("evaluation", key, result)
        return result


def _fingerprint_folder(folder: Path | None) -> str:
    """A weights folder's identity: its path and the sizes and times of its files."""
    if folder is None:
        return "none"
    return _key(sorted((p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in Path(folder).iterdir()))


@torch.no_grad()
def confusion(model, loader, t29, device) -> list[list[int]]:
    """``[[ham as ham, ham as spam], [spam as ham, spam as spam]]`` over ``loader`` (topic 29's classify_batch)."""
    was_training = model.training
    model.eval()
    matrix = [[0, 0], [0, 0]]
    for inputs, labels, lengths in loader:
        predicted = t29.classify_batch(model, inputs.to(device), lengths.to(device)).argmax(-1).cpu()
        for truth, guess in zip(labels.tolist(), predicted.tolist()):
            matrix[truth][guess] += 1
    model.train(was_training)
    return matrix


def exact_share(entries: list[dict], t36) -> float:
    """Fraction of responses equal to the reference output (topic 36's normalized ``exact_match``)."""
    if not entries:
        return math.nan
    return sum(bool(t36.exact_match(e["model_response"], e["output"])) for e in entries) / len(entries)


def by_family(before: list[dict], after: list[dict], t36) -> dict[str, list[float]]:
    """Per task family of the kit's records: ``[exact before, exact after, count]``."""
    families = sorted({e.get("family", "") for e in after} - {""})
    return {f: [exact_share([e for e in before if e.get("family") == f], t36),
                exact_share([e for e in after if e.get("family") == f], t36),
                sum(e.get("family") == f for e in after)] for f in families}


# ----------------------------------------------------------------------------- plots


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_classification(history: dict, eval_every: int, path: Path) -> None:
    """Train/validation loss and accuracy against optimizer steps."""
    plt = _pyplot()
    steps = history.get("steps") or [eval_every * (i + 1) for i in range(len(history.get("train_loss", [])))]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, metric, label in ((left, "loss", "cross-entropy"), (right, "acc", "accuracy")):
        for part in ("train", "val"):
            ax.plot(steps, history.get(f"{part}_{metric}", []), marker="o", label=part)
        ax.set_xlabel("optimizer steps")
        ax.set_ylabel(label)
        ax.legend()
    fig.suptitle("spam classification: finetuning")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(matrix: list[list[int]], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(matrix, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(j, i, str(matrix[i][j]), ha="center", va="center", fontsize=14)
    ax.set_xticks([0, 1], ["ham", "spam"])
    ax.set_yticks([0, 1], ["ham", "spam"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("spam test set")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_instruction(history: dict, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x = history.get("tokens_seen") or list(range(len(history.get("train_loss", []))))
    ax.plot(x, history.get("train_loss", []), marker="o", label="train")
    ax.plot(x, history.get("val_loss", []), marker="o", label="validation")
    ax.set_xlabel("tokens seen")
    ax.set_ylabel("cross-entropy (nats / token)")
    ax.set_title("instruction finetuning")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- the report


def write_report(stage: Stage5, results: dict, seconds: float) -> Table:
    """``report.json``, ``report.md`` and ``samples.txt`` in the report folder; returns the summary table."""
    report = stage.report
    cls, ins, ev = results.get("classification"), results.get("instructions"), results.get("evaluation")
    rows: list[tuple[str, str]] = []
    if cls:
        m = cls["confusion"]
        rows.append(("spam test accuracy", f"{cls['test_accuracy']:.1%} on {cls['test_messages']:,} messages "
                     f"(train {cls['train_accuracy']:.1%}, validation {cls['validation_accuracy']:.1%}); "
                     f"ham->spam {m[0][1]}, spam->ham {m[1][0]}"))
    if ins:
        rows.append(("instruction exact match", f"{ins['exact_before']:.1%} before finetuning -> "
                     f"{ins['exact_after']:.1%} after, on {ins['test_records']:,} test records"))
        for family, (before, after, count) in ins["by_family"].items():
            rows.append((f"  {family}", f"{before:.0%} -> {after:.0%} ({count})"))
    if ev:
        for scored in ev.values():
            summary = scored.get("summary")
            rows.append((f"judge ({scored['judge']})", ", ".join(f"{k} {_fmt(v)}" for k, v in summary.items())
                         if summary else f"failed: {scored.get('error')}"))
    rows.append(("time", f"{seconds / 60:.1f} min for Stage 5; "
                 + ", ".join(f"{k} {v:.0f} s" for k, v in stage.times.items())))
    rows.append(("files", f"{report}"))
    table = Table(title="finetuning", show_header=False)
    table.add_column("what")
    table.add_column("result", overflow="fold")
    for what, result in rows:
        table.add_row(what, escape(result))
    (report / "samples.txt").write_text("\n\n".join(sample_texts(results)) + "\n", encoding="utf-8")
    _write_json(report / "report.json", {"results": results, "times_s": stage.times, "stage5_s": seconds,
                                         "settings": dataclasses.asdict(stage.s)})
    lines = ["# llmkit run: report", "", "| what | result |", "|---|---|"]
    lines += [f"| {what.strip()} | {result} |" for what, result in rows]
    lines += ["", "Files: " + ", ".join(sorted(p.name for p in report.iterdir() if p.is_file()))]
    (report / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def sample_texts(results: dict) -> list[str]:
    """The samples file's sections: the base model's text, classified messages, instruction responses."""
    out = []
    if results.get("sample"):
        out.append("## The base model writes (greedy)\n" + results["sample"])
    cls = results.get("classification")
    if cls:
        out.append("## Spam classifier (topic 30's classify)\n" + "\n".join(
            f"[{e['predicted']:>4} | truth {e['truth']:>4}] {e['text']}" for e in cls["examples"]))
    ins = results.get("instructions")
    if ins:
        out.append("## Instruction responses (test records)\n" + "\n\n".join(
            f"instruction: {e['instruction']}\ninput: {e['input']}\nexpected: {e['output']}\n"
            f"before finetuning: {e['response_before_finetuning']!r}\nafter finetuning: {e['model_response']!r}"
            for e in ins["examples"]))
    return out


# ----------------------------------------------------------------------------- the whole run


def run_course(run: CourseRun, console: Console) -> int:
    """Stage 4 (pretraining, or GPT-2's weights) and Stage 5; return a process exit code.

    The user's files are read first, so a malformed one stops the run before
    anything trains (one sentence, exit code 2).
    """
    try:
        data_ = read_data(run)
    except (ValueError, FileNotFoundError) as exc:
        console.print(f"[red]{escape(str(exc))}")
        return 2
    run.out.mkdir(parents=True, exist_ok=True)
    steps = StepRecord(run.out, run.fresh)
    console.print(describe_sources(run, data_))
    if run.weights is None:
        code = pretraining(run, steps, console)
        if code != 0:
            return code
        console.print("[green]Done: Stage 4 (pretraining).[/green] Stage 5: finetuning.")
    else:
        console.print(f"Stage 4: GPT-2's weights from {run.weights} (topic 34) instead of pretraining.")
    return finetune(run, steps, data_, console)


def pretraining(run: CourseRun, steps: StepRecord, console: Console) -> int:
    """Pretrain (or resume an interrupted pretraining, or reuse a finished one) in ``out/pretrain``."""
    folder = run.out / "pretrain"
    key = pretraining_key(run.pretrain)
    if steps.done("pretraining", key) is not None and (folder / CHECKPOINT).exists():
        console.print(f"pretraining: reusing the finished checkpoint {folder / CHECKPOINT}")
        return 0
    resume = not run.fresh and resumable(folder, run.pretrain)
    code = pretrain(run.pretrain, folder, console, resume=resume, vocabulary=run_vocabulary())
    if code == 0:
        steps.record("pretraining", key, {"checkpoint": str(folder / CHECKPOINT)})
        copy_pretraining_curve(run.out)
    return code


def finetune(run: CourseRun, steps: StepRecord, data_: Data, console: Console) -> int:
    """Classification, instructions, evaluation and the report; return a process exit code.

    Whatever happens, the report holds the steps that finished.
    """
    from llmkit.checks import describe_exception

    started = time.perf_counter()
    stage = Stage5(run, steps, console)
    done = "pretraining" if run.weights is None else "loading the weights"
    results: dict[str, Any] = {}
    code = 0
    try:
        stage.base()
        for name, job in (("classification", lambda: stage.classification(data_.spam, data_.spam_source)),
                          ("instructions", lambda: stage.instructions(data_.entries, data_.entries_source)),
                          ("evaluation", stage.evaluation)):
            clock = time.perf_counter()
            results[name] = job()
            stage.times[name] = time.perf_counter() - clock
            done = name
        results["sample"] = stage.base_sample()
    except KeyboardInterrupt:
        console.print(f"[yellow]Interrupted after {done}; `llmkit run` with the same options reuses the finished "
                      f"steps in {run.out} and goes on from there.")
        code = 130
    except NotImplementedError as exc:
        console.print(f"[yellow]Stopped after {done}: {exc}.[/yellow] Write it, then run `llmkit check` to test it.")
        code = 1
    except ModuleNotFoundError as exc:  # a topic folder that is not there yet
        console.print(f"[yellow]Stopped after {done}: {escape(str(exc))}.")
        code = 1
    except Exception as exc:  # a learner's bug, a judge that cannot answer: one line saying what and where
        console.print(f"[red]Stopped after {done}: {escape(describe_exception(exc))}")
        code = 1
    if code == 0 and stage.judge_error:
        console.print(f"[red]The judge could not score: {escape(stage.judge_error)}[/red] (the offline scores are "
                      "in the report; `llmkit run` again asks the judge again)")
        code = 1
    if results:
        console.print(write_report(stage, results, time.perf_counter() - started))
    if code == 0:
        console.print(f"[green]Done: Stage 5 (finetuning and evaluation).[/green] Report: {stage.report / 'report.md'}")
    return code


def pretraining_key(settings: TrainSettings) -> str:
    return _key({k: v for k, v in dataclasses.asdict(settings).items() if k != "device"})


def resumable(folder: Path, settings: TrainSettings) -> bool:
    """Is there an interrupted pretraining with these settings in ``folder`` (its checkpoint and run file)?"""
    if not (folder / CHECKPOINT).exists() or not (folder / RUN_FILE).exists():
        return False
    try:
        saved, _ = read_run_file(folder)
    except (ValueError, FileNotFoundError, TypeError):
        return False
    return dataclasses.replace(saved, device=settings.device) == settings


def copy_pretraining_curve(out: Path) -> None:
    curve = out / "pretrain" / "loss_curve.png"
    if curve.exists():
        (out / "report").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(curve, out / "report" / "pretraining_loss.png")


def corpus_tokenizer(folder: Path) -> tuple[CorpusTokenizer, int]:
    """The pretrained model's tokenizer (vocabulary from its run file) and its end-of-text id."""
    _, kept = read_run_file(folder)
    tokenizer = CorpusTokenizer(resolver.load(registry.get(2)).load_gpt2_tokenizer(), [], kept)
    if GPT2_EOT_ID not in tokenizer.index:
        raise ValueError(f"{folder / RUN_FILE}: the vocabulary has no {EOT}: this checkpoint was pretrained by "
                         "`llmkit train`, not `llmkit run` (use another --out)")
    return tokenizer, tokenizer.index[GPT2_EOT_ID]


def describe_sources(run: CourseRun, data_: Data) -> str:
    spam, entries = data_.spam, data_.entries
    spam_from = run.data or "the bundled SMS Spam Collection"
    entries_from = run.instructions or "the kit's instruction set"
    return (f"finetuning data: {len(spam[0]):,} SMS ({Counter(spam[1])[1]:,} spam) from {spam_from}; "
            f"{len(entries):,} instruction records from {entries_from}")

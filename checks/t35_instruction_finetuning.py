"""Public checks for topic 35 - the instruction finetuning loop.

The helpers here are reused by the hidden checks of this topic:

* :class:`CharTokenizer` - characters as tokens plus one ``<|endoftext|>`` token
  whose id is not 50256 (every function must use the ``eos_id`` it is given);
* :class:`ScriptedModel` - a stand-in for a trained GPT that writes a planned
  continuation of each prompt, one token per forward pass, and records what it
  saw: every window of ids it was given (is it the last ``context_length`` ids
  of prompt + text so far?), its train/eval mode during each pass, the number of
  passes. Its logits favour the planned token by a margin of 2: greedy decoding
  follows the plan exactly, sampling would not;
* :class:`PlainSGD` - plain gradient descent with the parts of an optimizer that
  topic 22's ``train_step`` uses (``param_groups``, ``zero_grad``, ``step``);
* batches with ``-100`` targets on the prompt and the padding, as topic 33's
  loader makes them with ``mask_prompt=True``.
"""

from __future__ import annotations

import importlib
import json
import string
from pathlib import Path
from typing import Any

import torch
from torch import nn

from checks.t18_gpt_model import gpt_config, model_with
from checks.t25_checkpoints import disk_full_after, listing, scratch_folder
from llmkit.checks import check
from llmkit.probing import Rng, error_case

T18, T31, T33 = "course.t18_gpt_model", "course.t31_instruction_data", "course.t33_instruction_loaders"
EOT = "<|endoftext|>"
HEADER = "\n\n### Response:\n"  # what topic 31's format_response puts before the output
FILLER = "~"  # what a ScriptedModel writes when it is given a window it did not plan for
ALPHABET = "".join(c for c in string.printable if c not in "\t\r\x0b\x0c") + "éüñß中"
WORDS = ("apple", "river", "stone", "cloud", "seven", "green", "table", "music", "light", "bread", "horse", "paper",
         "window", "garden", "silver", "winter", "orange", "rocket", "pencil", "planet", "forest", "candle", "yellow",
         "island", "bridge", "castle", "tiger", "lemon", "ocean", "violin", "dragon", "mirror", "pepper", "saddle")

# ----------------------------------------------------------------------------- a tokenizer and records


class CharTokenizer:
    """Every character of :data:`ALPHABET` is a token, and ``<|endoftext|>`` is one token (``eos_id``).

    ``encode`` reads ``<|endoftext|>`` in a text as that one token; ``decode`` writes it back, so
    ``decode(encode(text)) == text`` for any text over the alphabet. A character outside the
    alphabet raises ``ValueError``.
    """

    def __init__(self, eos_position: int = 0):
        self.tokens = list(ALPHABET)
        self.tokens.insert(eos_position, EOT)
        self.index = {token: i for i, token in enumerate(self.tokens)}
        self.eos_id = self.index[EOT]

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for i, part in enumerate(text.split(EOT)):
            if i:
                ids.append(self.eos_id)
            for ch in part:
                if ch not in self.index:
                    raise ValueError(f"CharTokenizer: {ch!r} is not in the alphabet")
                ids.append(self.index[ch])
        return ids

    def decode(self, ids) -> str:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        return "".join(self.tokens[int(i)] for i in ids)


def random_tokenizer(rng: Rng) -> CharTokenizer:
    """A :class:`CharTokenizer` whose end-of-text id is somewhere inside the vocabulary, never 50256."""
    return CharTokenizer(rng.integer(1, len(ALPHABET) - 1))


def words(rng: Rng, low: int = 1, high: int = 3) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.integer(low, high)))


def random_entry(rng: Rng, with_input: bool, tag: int = 0) -> dict:
    """An Alpaca record of random words; ``tag`` ends the prompt with a number of its own (every prompt of a
    probe then ends differently)."""
    verb = rng.choice(["Sort", "Reverse", "Repeat", "Spell", "Name"])
    if with_input:
        return {"instruction": f"{verb} the words.", "input": f"{words(rng, 2, 3)} {tag}", "output": words(rng)}
    return {"instruction": f"{verb} these words: {words(rng, 2, 3)} {tag}", "input": "", "output": words(rng)}


def format_input(entry: dict) -> str:
    """Topic 31's prompt (resolved like the learner's own import)."""
    return importlib.import_module(T31).format_input(entry)


# ----------------------------------------------------------------------------- a model that follows a script


class ScriptedModel(nn.Module):
    """Writes ``continuations[j]`` after ``prompts[j]``, one token per forward pass; records what it saw.

    A pass whose window (the ids it is given, batch of one) is the last ``context_length`` ids of a prompt
    starts that prompt's script; a pass whose window is the last ``context_length`` ids of prompt + script so
    far gets the next planned token. Any other window gets :data:`FILLER`, and counts as unexpected. A window
    longer than ``context_length`` raises ``ValueError`` (a real GPTModel has no position for it).
    ``fail_at``: the pass (counted from 1) that raises ``RuntimeError``, as a model that runs out of memory.
    """

    def __init__(self, config, tokenizer: CharTokenizer, prompts: list[list[int]], continuations: list[list[int]],
                 fail_at: int | None = None):
        super().__init__()
        self.config = config
        self.anchor = nn.Parameter(torch.zeros(()))  # a parameter: the model has a device
        self.full = [p + c for p, c in zip(prompts, continuations)]
        self.lengths = [len(p) for p in prompts]
        self.starts = {tuple(p[-config.context_length:]): j for j, p in enumerate(prompts)}
        if len(self.starts) != len(prompts):
            raise ValueError("ScriptedModel: two prompts end with the same window")
        self.filler = tokenizer.index[FILLER]
        self.fail_at = fail_at
        self.current: int | None = None
        self.done = 0
        self.passes = 0
        self.unexpected = 0
        self.longest = 0
        self.modes: list[bool] = []

    def _expected(self) -> tuple[int, ...] | None:
        if self.current is None:
            return None
        end = self.lengths[self.current] + self.done
        return tuple(self.full[self.current][max(0, end - self.config.context_length):end])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        batch, width = ids.shape
        if width > self.config.context_length:
            raise ValueError(f"ScriptedModel: got {width} positions, more than context_length="
                             f"{self.config.context_length} (a GPTModel has no position embedding for them)")
        self.passes += 1
        if self.passes == self.fail_at:
            raise RuntimeError("ScriptedModel: a simulated failure in the middle of generation")
        self.modes.append(self.training)
        self.longest = max(self.longest, width)
        window = tuple(ids[0].tolist())
        if window != self._expected() and window in self.starts:  # a new prompt begins
            self.current, self.done = self.starts[window], 0
        planned = self.filler
        if window == self._expected() and self.lengths[self.current] + self.done < len(self.full[self.current]):
            planned = self.full[self.current][self.lengths[self.current] + self.done]
            self.done += 1
        else:
            self.unexpected += 1
        logits = torch.zeros(batch, width, self.config.vocab_size, device=ids.device)
        logits[:, -1, planned] = 2.0  # greedy follows the plan; sampling would stray (e^2 against ~100 others)
        return logits

    def report(self) -> dict:
        return {"forward passes": self.passes, "unexpected windows": self.unexpected,
                "longest window": self.longest, "modes during generation": sorted(set(self.modes)),
                "mode after": self.training}


TAIL = "zq" * 40  # what a script continues with after its end-of-text (the same for every prompt)


def continuation(answer: str, header: str = HEADER, eot: bool = True) -> str:
    """What a finetuned model writes after a prompt: the header, the answer, the end-of-text, then more."""
    return header + answer + (EOT if eot else "") + TAIL


def scripted(tokenizer: CharTokenizer, context: int, entries: list[dict], texts: list[str],
             fail_at: int | None = None) -> ScriptedModel:
    """A :class:`ScriptedModel` that writes ``texts[j]`` after ``format_input(entries[j])``."""
    config = gpt_config(tokenizer.vocab_size, context, 4, 1, 1)
    prompts = [tokenizer.encode(format_input(entry)) for entry in entries]
    return ScriptedModel(config, tokenizer, prompts, [tokenizer.encode(text) for text in texts], fail_at)


def response_probe(t, tokenizer: CharTokenizer, model: ScriptedModel, entry: dict, train_mode: bool, **kwargs) -> dict:
    """``generate_response`` with a scripted model: the answer and what the model saw."""
    model.train(train_mode)
    answer = t.generate_response(model, tokenizer, entry, **kwargs)
    return {"response": answer, **model.report()}


def failing_generation(t, tokenizer: CharTokenizer, model: ScriptedModel, entry: dict, train_mode: bool,
                       **kwargs) -> dict:
    """``generate_response`` with a model that raises mid-way: the error propagates, the mode is restored."""
    model.train(train_mode)
    report = error_case("a model that fails in its third forward pass", t.generate_response, model, tokenizer, entry,
                        **kwargs)
    return {"error": report, "mode after": model.training}


# ----------------------------------------------------------------------------- training


class PlainSGD:
    """``p -= lr * grad``, with what topic 22's ``train_step`` uses of an optimizer: ``param_groups``,
    ``zero_grad()`` and ``step()``. (No ``torch.optim.Optimizer``: building the first one in a process
    costs about a second of imports.)"""

    def __init__(self, params, lr: float):
        self.param_groups = [{"params": list(params), "lr": lr}]
        self.state: dict = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])


def masked_batches(rng: Rng, config, count: int, eos_id: int, batch: int = 2,
                   mask_prompt: bool = True) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``count`` batches laid out as topic 33's loader makes them: every row a prompt, a response, one
    end-of-text and padding; targets ``-100`` on the padding after the end-of-text and (``mask_prompt``) on
    the targets inside the prompt. Every row keeps at least two targets that count."""
    T, V = config.context_length, config.vocab_size
    out = []
    for _ in range(count):
        inputs, targets = rng.randint(0, V, (batch, T)), rng.randint(0, V, (batch, T))
        for row in range(batch):
            real = rng.integer(3, T)  # tokens of prompt + response: targets[real - 1] is the end-of-text
            prompt = rng.integer(1, real - 2)
            targets[row, real - 1] = eos_id
            targets[row, real:] = -100
            inputs[row, real:] = eos_id
            if mask_prompt:
                targets[row, :prompt - 1] = -100
        out.append((inputs, targets))
    return out


def tiny_model(rng: Rng, config):
    """Topic 18's GPTModel (resolved like the learner's own import), every parameter given."""
    return model_with(importlib.import_module(T18), rng, config)


def training_probe(t, rng: Rng, config, train, val, *, num_epochs: int, eval_every: int, eval_batches: int,
                   lr: float = 0.3) -> dict:
    """``train_instructions`` with :class:`PlainSGD`: its history, what ``on_step`` saw, the final vectors
    of the model, and whether the batches came through unchanged."""
    model = tiny_model(rng, config)
    copies = [(x.clone(), y.clone()) for x, y in [*train, *val]]
    calls: list[list] = []
    history = t.train_instructions(model, train, val, PlainSGD(model.parameters(), lr), "cpu", num_epochs,
                                   eval_every=eval_every, eval_batches=eval_batches,
                                   on_step=lambda step, loss: calls.append([step, loss]))
    unchanged = all(torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip([*train, *val], copies))
    return {"history": history, "on_step calls": calls, "batches unchanged": unchanged,
            "final vectors": {n: p.detach().clone() for n, p in model.named_parameters() if p.dim() == 1}}


def pipeline_probe(t, rng: Rng, entries: list[dict], tokenizer: CharTokenizer, *, num_epochs: int,
                   eval_every: int, d_model: int = 8) -> dict:
    """The real chain on ``entries``: topic 33's dataset and loaders (``mask_prompt=True``, ``pad_id`` the
    tokenizer's end-of-text), a tiny topic-18 GPT whose context holds the longest example, ``train_instructions``."""
    t33 = importlib.import_module(T33)
    dataset = t33.InstructionDataset(entries, tokenizer)
    longest = max(len(dataset[i][0]) for i in range(len(dataset)))
    config = gpt_config(tokenizer.vocab_size, longest + 1, d_model, 2, 1, 0.0, True, True)
    half = len(entries) // 2
    train = t33.instruction_loader(torch.utils.data.Subset(dataset, range(half)), 2, pad_id=tokenizer.eos_id,
                                   mask_prompt=True)
    val = t33.instruction_loader(torch.utils.data.Subset(dataset, range(half, len(entries))), 2,
                                 pad_id=tokenizer.eos_id, mask_prompt=True)
    return training_probe(t, rng, config, train, val, num_epochs=num_epochs, eval_every=eval_every,
                          eval_batches=len(val), lr=0.5)


# ----------------------------------------------------------------------------- saving


def read_report(path: Path) -> dict:
    """What a saved file is: UTF-8? JSON? its data, whether non-ASCII characters are written as themselves,
    whether it is indented."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"UTF-8": False}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {"UTF-8": True, "JSON": False}
    lines = text.splitlines()
    return {"UTF-8": True, "JSON": True, "data": data,
            "characters as themselves": all(ch in text for ch in "éü中") and "\\u" not in text,
            "indented": len(lines) > 3 and any(line.startswith(" ") for line in lines)}


def unicode_entries(rng: Rng, count: int) -> list[dict]:
    """Records with responses in several scripts, quotes, backslashes and newlines."""
    extras = ["café ünd ñ", "中文 答案", "emoji 🚀✨", 'a "quoted" word', "back\\slash", "two\nlines"]
    out = []
    for i in range(count):
        entry = random_entry(rng, rng.coin(), tag=i)
        entry["model_response"] = f"{words(rng)} {extras[i % len(extras)]}"
        out.append(entry)
    out[0]["model_response"] += " éü中"  # every file holds these three
    return out


def save_probe(t, rng: Rng, entries: list[dict]) -> dict:
    """``save_responses`` into a folder that does not exist yet, then over the file: what was written."""
    snapshot = json.dumps(entries)
    with scratch_folder() as folder:
        path = folder / "out" / f"responses-{rng.integer(100, 999)}.json"
        returned = t.save_responses(entries, path)
        first = read_report(path)
        again = entries[: max(1, len(entries) // 2)]
        t.save_responses(again, str(path))
        second = read_report(path)
        files = listing(path.parent) == [path.name]
    return {"returned": returned, "first save": first, "overwrite": second, "no other file": files,
            "entries unchanged": json.dumps(entries) == snapshot}


# ----------------------------------------------------------------------------- public checks


@check("extract_response: the header removed, cut at the first <|endoftext|>, stripped; no header; no "
       "end-of-text; an empty answer; a text that does not start with the prompt")
def extracted(t, rng):
    prompt = format_input({"instruction": "Name a fruit.", "input": ""})
    cases = [prompt + HEADER + "An apple.<|endoftext|>junk", prompt + " pear <|endoftext|>", prompt + HEADER + "kiwi",
             prompt + HEADER + "<|endoftext|>", prompt]
    out: list[Any] = [t.extract_response(text, prompt) for text in cases]
    out.append(error_case("a text that does not start with the prompt", t.extract_response, "Hello" + HEADER + "x",
                          prompt))
    return out


@check("generate_response with a scripted model: greedy, cropped to the context, stopped at the tokenizer's "
       "end-of-text, in eval mode, the mode restored")
def generated(t, rng):
    tokenizer = CharTokenizer(7)
    entry = {"instruction": "Reverse the words.", "input": "red green blue", "output": "blue green red"}
    model = scripted(tokenizer, 20, [entry], [continuation("blue green red")])
    return response_probe(t, tokenizer, model, entry, True, max_new_tokens=60, eos_id=tokenizer.eos_id)


@check("generate_responses: copies of the entries with model_response, in order, on_item after each")
def generated_many(t, rng):
    tokenizer = CharTokenizer(3)
    entries = [{"instruction": "Name a colour.", "input": "", "output": "red"},
               {"instruction": "Name a number.", "input": "", "output": "seven"}]
    model = scripted(tokenizer, 24, entries, [continuation("red"), continuation("seven")])
    seen: list = []
    out = t.generate_responses(model, tokenizer, entries, max_new_tokens=40, eos_id=tokenizer.eos_id,
                               on_item=lambda i, item: seen.append([i, item.get("model_response")]))
    return {"results": out, "on_item calls": seen, "entries unchanged": all("model_response" not in e for e in entries),
            "new dicts": all(a is not b for a, b in zip(out, entries)), **model.report()}


@check("train_instructions: history every 2 steps and after the last, on_step after each step, targets untouched")
def trained(t, rng):
    config = gpt_config(24, 6, 8, 2, 1, 0.0, True, True)
    train, val = masked_batches(rng, config, 3, eos_id=5), masked_batches(rng, config, 2, eos_id=5)
    return training_probe(t, rng, config, train, val, num_epochs=1, eval_every=2, eval_batches=1)


@check("save_responses: UTF-8 JSON, indented, characters as themselves, parent folders created, overwritten")
def saved(t, rng):
    return save_probe(t, rng, unicode_entries(rng, 3))


@check("save_responses fails atomically: an entry JSON cannot write and a disk that fills up keep the previous "
       "file and leave no temporary file")
def saved_atomically(t, rng):
    entries = unicode_entries(rng, 2)
    with scratch_folder() as folder:
        path = folder / "responses.json"
        t.save_responses(entries, path)
        before = path.read_bytes()
        bad = error_case("an entry holding a set", t.save_responses, [*entries, {"x": {1, 2}}], path)
        big = [{"model_response": "x" * 4000} for _ in range(4)]
        with disk_full_after(len(before) + 100):
            full = error_case("a disk that fills up", t.save_responses, big, path, accept=("OSError",))
        return {"unserializable": bad, "disk full": full, "previous file kept": path.read_bytes() == before,
                "files": listing(folder)}

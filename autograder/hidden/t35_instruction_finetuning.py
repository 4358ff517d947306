"""Hidden checks for topic 35 - the instruction finetuning loop (fresh seed every run).

Every run trains a random tiny GPT on masked batches for a random number of epochs
and evaluation cadence, and once through topic 33's real loader; answers with
scripted models of random context lengths (shorter and longer than the prompt),
with and without a stop, with a budget that ends mid-answer and with a model that
fails halfway; cuts answers with headers, spaces and end-of-text tokens in every
position; and saves files that cannot be written or do not fit on the disk.
"""

from __future__ import annotations

import copy
import json

import torch

from checks.t18_gpt_model import gpt_config
from checks.t25_checkpoints import disk_full_after, listing, scratch_folder
from checks.t35_instruction_finetuning import (
    EOT,
    HEADER,
    PlainSGD,
    continuation,
    failing_generation,
    format_input,
    masked_batches,
    pipeline_probe,
    random_entry,
    random_tokenizer,
    response_probe,
    save_probe,
    scripted,
    tiny_model,
    training_probe,
    unicode_entries,
    words,
)
from llmkit.checks import check
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `instr_train.py` (it imports": "where the code goes and what it builds on",
    "Given: `RESPONSE_HEADER`": "code handed out, not written by the learner",
    "Hints: `str.split(sep, 1)[0]`": "a hint",
    "`next(model.parameters()).device` is": "a hint",
    "`try`/`finally` restores the mode": "a hint",
    "For the atomic write, topic 25's": "a hint",
    "`tempfile.mkstemp(dir=path.parent)`, write,": "a hint",
}

TRAIN_PROMISES = [
    "finetunes `model` for `num_epochs` passes over `train_loader`.",
    "For every `(inputs, targets)` batch in order, it calls topic 22's `train_step(model, inputs, targets, optimizer, "
    "device)` with the targets exactly as the loader made them, neither rebuilt nor changed.",
    "Steps count from 1;", "`tokens_seen` adds `inputs.numel()` per step.",
    "After each step it calls `on_step(step, loss)` when given, with the loss `train_step` returned.",
    "After every step that is a multiple of `eval_every`, and after the last step when that one is not, it evaluates "
    "once with topic 21's `evaluate_model(model, train_loader, val_loader, device, eval_batches)`.",
    "It returns the history `{\"steps\": [...], \"tokens_seen\": [...], \"train_loss\": [...], \"val_loss\": [...]}`: "
    "one entry per evaluation, ints and floats,"]


def tiny_config(rng):
    heads = rng.integer(1, 2)
    return gpt_config(rng.integer(20, 40), rng.integer(5, 8), heads * rng.integer(4, 6), heads, rng.integer(1, 2),
                      0.0, rng.coin(), rng.coin())


# ----------------------------------------------------------------------------- train_instructions


@check("train_instructions on random masked batches: 2-3 epochs, an evaluation cadence that does not divide the "
       "steps (one more evaluation after the last step), eval_batches below the validation batches; history, "
       "on_step, weights and untouched targets as the reference's",
       promises=TRAIN_PROMISES)
def training_random(t, rng):
    config = tiny_config(rng)
    eos_id = rng.integer(0, config.vocab_size - 1)
    count, epochs = rng.integer(2, 3), rng.integer(2, 3)
    every = rng.choice([k for k in range(2, count * epochs) if (count * epochs) % k])
    train = masked_batches(rng, config, count, eos_id, batch=rng.integer(1, 3))
    val = masked_batches(rng, config, 3, eos_id)
    return training_probe(t, rng, config, train, val, num_epochs=epochs, eval_every=every,
                          eval_batches=rng.integer(1, 2))


@check("train_instructions at its boundaries: a cadence that divides the steps (no second evaluation at the end), "
       "one longer than the training (only the final evaluation), no epoch at all (empty history, no on_step); "
       "eval_every < 1 and num_epochs < 0 raise ValueError naming them",
       promises=TRAIN_PROMISES[4:] + ["all empty when no step ran.",
                                      "`eval_every < 1` or `num_epochs < 0` raises `ValueError` naming it"])
def training_boundaries(t, rng):
    config = tiny_config(rng)
    eos_id = rng.integer(0, config.vocab_size - 1)
    train, val = masked_batches(rng, config, 2, eos_id), masked_batches(rng, config, 1, eos_id)
    out = {"divides": training_probe(t, rng, config, train, val, num_epochs=2, eval_every=rng.choice([1, 2, 4]),
                                     eval_batches=1),
           "longer than training": training_probe(t, rng, config, train, val, num_epochs=1,
                                                  eval_every=rng.integer(3, 100), eval_batches=1),
           "no epoch": training_probe(t, rng, config, train, val, num_epochs=0, eval_every=1, eval_batches=1)}
    model = tiny_model(rng, config)
    optimizer = PlainSGD(model.parameters(), 0.1)
    bad_epochs = -rng.integer(1, 9)
    out["errors"] = [error_case(f"eval_every={bad}", t.train_instructions, model, train, val, optimizer, "cpu", 1,
                                eval_every=bad, names=[str(bad)]) for bad in (0, -rng.integer(1, 9))]
    out["errors"].append(error_case(f"num_epochs={bad_epochs}", t.train_instructions, model, train, val, optimizer,
                                    "cpu", bad_epochs, names=[str(bad_epochs)]))
    return out


@check("train_instructions through topic 33's loaders (mask_prompt=True, the tokenizer's end-of-text as pad_id) on "
       "random records: only the response tokens count, losses as the reference's",
       promises=TRAIN_PROMISES[1:3])
def pipeline_random(t, rng):
    tokenizer = random_tokenizer(rng)
    entries = [random_entry(rng, rng.coin(), tag=i) for i in range(6)]  # 2 training batches, 2 validation
    return pipeline_probe(t, rng, entries, tokenizer, num_epochs=1, eval_every=rng.integer(1, 2))


# ----------------------------------------------------------------------------- extract_response


@check("extract_response on random answers: with the header, without it, with spaces and newlines around it, the "
       "header words inside the answer, two end-of-text tokens, nothing after the prompt, an end-of-text right "
       "after the prompt, a prompt that itself holds the header, text that does not start with the prompt",
       promises=["the answer inside `generated_text`, which must start with `prompt_text`.",
                 "In order: take the text after `prompt_text`;",
                 "cut it before the first `<|endoftext|>`, leaving out everything after it;",
                 "remove leading whitespace, then a `### Response:` header at the very start (the same words later in "
                 "the answer stay);", "strip whitespace from both ends.",
                 "A `generated_text` that does not start with `prompt_text` raises `ValueError`"])
def extract_random(t, rng):
    entry = random_entry(rng, rng.coin())
    prompt = format_input(entry)
    a, b = words(rng), words(rng)
    cases = {
        "header, answer, end-of-text, more": prompt + HEADER + a + EOT + words(rng),
        "no header": prompt + " " + a + " " + EOT,
        "spaces and newlines around the header": prompt + "\n \n  ### Response:   " + a + " \n\n",
        "header without newlines": prompt + "### Response:" + a,
        "header words inside the answer": prompt + HEADER + a + " ### Response: " + b + EOT,
        "two end-of-text tokens": prompt + HEADER + a + EOT + HEADER + b + EOT,
        "nothing after the prompt": prompt,
        "an end-of-text right after the prompt": prompt + EOT + HEADER + a,
        "an empty answer": prompt + HEADER + EOT + a,
        "an answer over lines": prompt + HEADER + "\n" + a + "\n\n" + b + "\n" + EOT,
        "a budget that ended in the header": prompt + HEADER[: rng.integer(3, len(HEADER) - 2)],
    }
    out: dict = {label: t.extract_response(text, prompt) for label, text in cases.items()}
    tricky = "Explain the line ### Response: in a template."
    out["a prompt that holds the header"] = t.extract_response(tricky + HEADER + a + EOT, tricky)
    out["errors"] = [error_case("text that does not start with the prompt", t.extract_response,
                                "Hello" + HEADER + a, prompt),
                     error_case("the prompt with one character changed", t.extract_response,
                                prompt[:-1] + "#" + HEADER + a, prompt)]
    return out


# ----------------------------------------------------------------------------- generate_response(s)

GENERATE_PROMISES = [
    "the model's greedy answer to `entry`.",
    "It encodes `format_input(entry)` (the prompt, without the response) with `tokenizer.encode` into a `(1, n)` long "
    "tensor on the model's device.",
    "Then topic 24's `generate(model, ids, max_new_tokens, context_length=model.config.context_length, "
    "temperature=0.0, eos_id=eos_id)`: greedy, every step sees at most the last `context_length` ids, and generation "
    "stops once `eos_id` is written (`None`: no stop).",
    "It returns `extract_response` of the decoded ids (prompt and continuation) and the decoded prompt ids.",
    "The model generates in eval mode and is put back in the mode it had"]


@check("generate_response with scripted models: contexts shorter and longer than the prompt, train and eval mode, "
       "a stop at the tokenizer's end-of-text, no stop (eos_id=None), a budget that ends mid-answer, an answer "
       "without header, records with and without input; a model failing mid-way restores the mode",
       promises=GENERATE_PROMISES + ["also when generation raises"])
def generate_random(t, rng):
    tokenizer = random_tokenizer(rng)
    eos = tokenizer.eos_id
    out = {}

    def case(label, context, text, train_mode, entry=None, **kwargs):
        entry = entry or random_entry(rng, rng.coin())
        out[label] = response_probe(t, tokenizer, scripted(tokenizer, context, [entry], [text]), entry, train_mode,
                                    **kwargs)

    answer = words(rng, 1, 4)
    case("short context, train mode", rng.integer(8, 24), continuation(answer), True, max_new_tokens=70, eos_id=eos)
    entry = random_entry(rng, rng.coin())
    long_context = len(tokenizer.encode(format_input(entry))) + 100
    case("context longer than prompt and answer, eval mode", long_context, continuation(words(rng)), False, entry,
         max_new_tokens=60, eos_id=eos)
    case("no stop", rng.integer(8, 24), continuation(words(rng)), rng.coin(), max_new_tokens=rng.integer(40, 60),
         eos_id=None)
    case("a budget that ends mid-answer", rng.integer(8, 24), continuation("abcdefghij klmnop"), True,
         max_new_tokens=len(HEADER) + rng.integer(3, 8), eos_id=eos)
    case("no header", rng.integer(8, 24), continuation(words(rng), header=" "), False, max_new_tokens=50, eos_id=eos)
    case("input entry", rng.integer(8, 24), continuation(words(rng)), True, random_entry(rng, True),
         max_new_tokens=50, eos_id=eos)
    entry = random_entry(rng, False)
    failing = scripted(tokenizer, rng.integer(8, 24), [entry], [continuation(words(rng))], fail_at=3)
    out["a model that fails mid-way"] = failing_generation(t, tokenizer, failing, entry, True, max_new_tokens=30,
                                                           eos_id=eos)
    return out


@check("generate_response with a real topic-18 GPT whose context is shorter than the prompt: a string, the mode "
       "restored",
       promises=GENERATE_PROMISES[1:3] + GENERATE_PROMISES[4:])
def generate_real_model(t, rng):
    tokenizer = random_tokenizer(rng)
    config = gpt_config(tokenizer.vocab_size, rng.integer(6, 12), 8, 2, 1, 0.1, True, True)
    model = tiny_model(rng, config).train(rng.coin())
    mode = model.training
    answer = t.generate_response(model, tokenizer, random_entry(rng, rng.coin()), max_new_tokens=rng.integer(3, 8),
                                 eos_id=tokenizer.eos_id)
    return {"a str": isinstance(answer, str), "mode restored": model.training == mode}


@check("generate_responses on 2-4 random records (extra keys, an old model_response): new dicts in order, entries "
       "unchanged, on_item after each; an empty list",
       promises=["`generate_response` for every entry, in order.",
                 "Item `i` of the returned list is a new dict: a copy of `entries[i]` with every key, plus "
                 "`\"model_response\"`, the answer (an old `\"model_response\"` is replaced in the copy).",
                 "`entries` and its dicts are not changed.",
                 "After each item it calls `on_item(i, item)` when given, `i` counting from 0"])
def responses_random(t, rng):
    tokenizer = random_tokenizer(rng)
    entries = [random_entry(rng, rng.coin(), tag=i) for i in range(rng.integer(2, 4))]
    entries[0]["family"] = "test"
    entries[-1]["model_response"] = "an old answer"
    answers = [words(rng) for _ in entries]
    model = scripted(tokenizer, rng.integer(10, 24), entries, [continuation(a) for a in answers])
    before = copy.deepcopy(entries)
    seen: list = []
    results = t.generate_responses(model, tokenizer, entries, max_new_tokens=60, eos_id=tokenizer.eos_id,
                                   on_item=lambda i, item: seen.append([i, dict(item)]))
    empty = t.generate_responses(model, tokenizer, [], eos_id=tokenizer.eos_id, on_item=lambda i, item: seen.append(i))
    return {"results": results, "on_item calls": seen, "entries unchanged": entries == before,
            "new dicts": isinstance(results, list) and all(r is not e for r, e in zip(results, entries)),
            "no results for no entries": empty, **model.report()}


# ----------------------------------------------------------------------------- save_responses


@check("save_responses of random records in several scripts (emoji, quotes, backslashes, newlines) into a folder "
       "that does not exist yet, then over the file",
       promises=["writes `entries` to `path` as JSON in UTF-8, indented, with every character as itself "
                 "(`json.dumps(entries, indent=2, ensure_ascii=False)`), creating missing parent folders.",
                 "`entries` is not changed;", "returns `None`"])
def save_random(t, rng):
    return save_probe(t, rng, unicode_entries(rng, rng.integer(2, 6)))


@check("save_responses failures: entries JSON cannot write (a set, a tensor, an object), a disk that fills up - "
       "with and without a previous file; the previous file kept, no temporary file, the error propagates",
       promises=["It writes atomically: the text goes to a temporary file in `path`'s folder, which `os.replace` then "
                 "moves onto `path`.",
                 "When anything fails (an entry JSON cannot write, a disk that fills up), a previous file at `path` "
                 "is left as it was, no temporary file is left behind, and the exception propagates."])
def save_failures(t, rng):
    entries = unicode_entries(rng, rng.integer(2, 4))
    with scratch_folder() as folder:
        path = folder / f"responses-{rng.integer(100, 999)}.json"
        t.save_responses(entries, path)
        before = path.read_bytes()
        bad_value = rng.choice([{1, 2}, torch.zeros(2), object()])
        # the bad value comes last, after plenty of text: a streaming writer has written much of the file by then
        bad = [*entries, *unicode_entries(rng, 30), {"instruction": "x", "model_response": bad_value}]
        out = {"unserializable": error_case("an entry JSON cannot write", t.save_responses, bad, path,
                                            accept=("TypeError", "ValueError"))}
        out["kept after it"] = path.read_bytes() == before
        big = [{"model_response": words(rng) * 200} for _ in range(10)]
        with disk_full_after(len(before) + rng.integer(10, 200)):
            out["disk full"] = error_case("a disk that fills up", t.save_responses, big, path, accept=("OSError",))
        out["kept after the full disk"] = path.read_bytes() == before
        fresh = folder / "new" / "responses.json"
        with disk_full_after(rng.integer(10, 200)):
            out["disk full, no previous file"] = error_case("a disk that fills up on a first save", t.save_responses,
                                                            big, fresh, accept=("OSError",))
        out["files"] = listing(folder)
        out["new folder"] = listing(fresh.parent)
        out["previous file still reads"] = json.loads(path.read_text(encoding="utf-8")) == entries
    return out

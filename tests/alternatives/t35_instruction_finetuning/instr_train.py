"""A correct topic-35 module written from the README alone, differently from the reference."""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path

import torch

from course.t21_evaluation import evaluate_model
from course.t22_pretraining import train_step
from course.t24_top_k_top_p import generate
from course.t31_instruction_data import format_input

RESPONSE_HEADER = "### Response:"
END_OF_TEXT = "<|endoftext|>"


def train_instructions(model, train_loader, val_loader, optimizer, device, num_epochs, eval_every=50, eval_batches=5,
                       on_step=None):
    if num_epochs < 0:
        raise ValueError(f"num_epochs={num_epochs} is negative")
    if eval_every < 1:
        raise ValueError(f"eval_every={eval_every} must be at least 1")
    history = {"train_loss": [], "val_loss": [], "tokens_seen": [], "steps": []}
    done = seen = 0
    last_eval = 0
    epoch = 0
    while epoch < num_epochs:
        batches = iter(train_loader)
        while True:
            try:
                inputs, targets = next(batches)
            except StopIteration:
                break
            loss = train_step(model, inputs, targets, optimizer, device)
            done, seen = done + 1, seen + inputs.shape[0] * inputs.shape[1]
            if on_step:
                on_step(done, loss)
            if done - last_eval == eval_every:
                last_eval = done
                losses = evaluate_model(model, train_loader, val_loader, device, eval_batches)
                for key, value in zip(("train_loss", "val_loss", "tokens_seen", "steps"), (*losses, seen, done)):
                    history[key].append(value)
        epoch += 1
    if done > last_eval:
        losses = evaluate_model(model, train_loader, val_loader, device, eval_batches)
        for key, value in zip(("train_loss", "val_loss", "tokens_seen", "steps"), (*losses, seen, done)):
            history[key].append(value)
    return history


def extract_response(generated_text, prompt_text):
    if generated_text[: len(prompt_text)] != prompt_text:
        raise ValueError("the generated text should begin with the prompt")
    answer, _, _ = generated_text[len(prompt_text):].partition(END_OF_TEXT)
    answer = answer.lstrip()
    if answer[: len(RESPONSE_HEADER)] == RESPONSE_HEADER:
        answer = answer[len(RESPONSE_HEADER):]
    return answer.strip()


def generate_response(model, tokenizer, entry, max_new_tokens=64, eos_id=50256):
    prompt = tokenizer.encode(format_input(entry))
    device = next(iter(model.parameters())).device
    ids = torch.as_tensor(prompt, dtype=torch.long, device=device).unsqueeze(0)
    mode = model.training
    try:
        model.train(False)
        full = generate(model, ids, max_new_tokens, model.config.context_length, temperature=0.0, eos_id=eos_id)
    finally:
        model.train(mode)
    prompt_text = tokenizer.decode(prompt)
    return extract_response(prompt_text + tokenizer.decode(full[0, len(prompt):].tolist()), prompt_text)


def generate_responses(model, tokenizer, entries, max_new_tokens=64, eos_id=50256, on_item=None):
    out = []
    for index in range(len(entries)):
        item = copy.copy(dict(entries[index]))
        item["model_response"] = generate_response(model, tokenizer, entries[index], max_new_tokens=max_new_tokens,
                                                   eos_id=eos_id)
        out.append(item)
        if on_item:
            on_item(index, item)
    return out


def save_responses(entries, path):
    target = Path(path)
    os.makedirs(target.parent, exist_ok=True)
    data = json.dumps([dict(e) for e in entries], indent=4, ensure_ascii=False).encode("utf-8")
    handle = tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".partial")
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except BaseException:
        if os.path.exists(handle.name):
            os.remove(handle.name)
        raise

"""Planted bugs for topic 35. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "instr_train.py"

STEP = "            loss = train_step(model, inputs, targets, optimizer, device)\n"
FINAL = """    if step % eval_every != 0:  # the last step was not measured yet: the history ends where training ended
        evaluate()
"""
RESTORE = """    try:
        out = generate(model, ids, max_new_tokens, context_length=model.config.context_length, temperature=0.0,
                       eos_id=eos_id)
    finally:
        model.train(was_training)
"""
ATOMIC = """    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # same file system
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # the complete new file, or the complete old one: never half of either
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
"""

ITEM = ('        item = {**entry, "model_response": generate_response(model, tokenizer, entry, max_new_tokens, '
        'eos_id)}\n')

EOS = "temperature=0.0,\n                       eos_id=eos_id)"

MUTANTS = [
    # the bugs the issue names
    (F, "    rest = generated_text[len(prompt_text):]\n", "    rest = generated_text\n",
     "the response keeps the prompt"),
    (F, STEP, "            targets = torch.cat([inputs[:, 1:], inputs[:, -1:]], dim=1)  # rebuilt from the inputs\n"
              + STEP, "the loop rebuilds the targets from the inputs: the loss counts the prompt and the padding"),
    (F, STEP, "            targets = targets.clamp(min=0)  # -100 would crash the loss, so 0 it is\n" + STEP,
     "the -100 targets are replaced by a real id: the loss counts the prompt"),
    (F, STEP, "            targets = torch.where(targets == -100, inputs, targets)\n" + STEP,
     "masked targets filled with the inputs: the loss counts the prompt"),
    (F, STEP, "            targets.masked_fill_(targets == -100, 0)\n" + STEP,
     "the loader's targets are changed in place"),
    # train_instructions
    (F, "    for _ in range(num_epochs):\n", "    for _ in range(min(num_epochs, 1)):\n", "only one epoch"),
    (F, "            step += 1\n            tokens_seen += inputs.numel()\n",
     "            step += 1\n            tokens_seen += int((targets != -100).sum())\n",
     "tokens_seen counts the targets that count instead of the inputs"),
    (F, "                on_step(step, loss)\n", "                on_step(step - 1, loss)\n", "on_step counts from 0"),
    (F, "            if on_step is not None:\n                on_step(step, loss)\n", "",
     "on_step is never called"),
    (F, FINAL, "", "no evaluation after the last step"),
    (F, FINAL, "    evaluate()\n", "the last step is evaluated twice when it falls on the cadence"),
    (F, "            if step % eval_every == 0:\n", "            if step % eval_every == 1 or eval_every == 1:\n",
     "evaluations one step late"),
    (F, "evaluate_model(model, train_loader, val_loader, device, eval_batches)",
     "evaluate_model(model, train_loader, val_loader, device, None)", "eval_batches ignored: every batch measured"),
    (F, "evaluate_model(model, train_loader, val_loader, device, eval_batches)",
     "evaluate_model(model, val_loader, train_loader, device, eval_batches)", "train and validation losses swapped"),
    (F, "    if eval_every < 1:\n", "    if eval_every < 0:\n", "eval_every=0 not rejected"),
    (F, "    if num_epochs < 0:\n", "    if False:\n", "a negative num_epochs not rejected"),
    # extract_response
    (F, "    rest = rest.lstrip().removeprefix(RESPONSE_HEADER)  # only a header at the start: the template's\n",
     "    rest = rest.lstrip()\n", "the ### Response: header is not removed"),
    (F, "    rest = rest.lstrip().removeprefix(RESPONSE_HEADER)  # only a header at the start: the template's\n",
     "    rest = rest.replace(RESPONSE_HEADER, \"\")\n", "the header words are removed inside the answer too"),
    (F, "    rest = rest.split(END_OF_TEXT, 1)[0]  # the first end-of-text ends the answer\n", "",
     "the answer is not cut at <|endoftext|>"),
    (F, "    rest = rest.split(END_OF_TEXT, 1)[0]  # the first end-of-text ends the answer\n",
     "    rest = rest.rsplit(END_OF_TEXT, 1)[0] if END_OF_TEXT in rest else rest\n",
     "cut at the last end-of-text instead of the first"),
    (F, "    return rest.strip()\n", "    return rest\n", "the answer is not stripped"),
    (F, "    if not generated_text.startswith(prompt_text):\n", "    if False:\n",
     "a text that does not start with the prompt is cut anyway"),
    # generate_response
    (F, EOS, EOS.replace("eos_id=eos_id)", "eos_id=None)"), "generation without the eos stop"),
    (F, EOS, EOS.replace("eos_id=eos_id)", "eos_id=50256)"), "GPT-2's end-of-text id hard-coded instead of eos_id"),
    (F, "context_length=model.config.context_length, temperature=0.0",
     "context_length=ids.shape[1] + max_new_tokens, temperature=0.0", "the context is not cropped"),
    (F, "context_length=model.config.context_length, temperature=0.0",
     "context_length=ids.shape[1], temperature=0.0", "cropped to the prompt's length instead of the context"),
    (F, "temperature=0.0,\n", "temperature=1.0,\n", "sampling instead of greedy decoding"),
    (F, "        out = generate(model, ids, max_new_tokens,", "        out = generate(model, ids, 64,",
     "max_new_tokens ignored"),
    (F, RESTORE, RESTORE.replace("    finally:\n        model.train(was_training)\n", "    finally:\n        pass\n"),
     "the model is left in eval mode"),
    (F, RESTORE, RESTORE.replace("    try:\n", "    if True:\n").replace(
        "    finally:\n        model.train(was_training)\n", "    model.train(was_training)\n"),
     "the mode is not restored when generation raises"),
    (F, "    model.eval()  # no dropout while answering\n", "", "generation in train mode (dropout on)"),
    (F, "    prompt_ids = list(tokenizer.encode(format_input(entry)))\n",
     "    prompt_ids = list(tokenizer.encode(format_input(entry) + \"\\n\\n\"))\n",
     "the prompt gets extra newlines the model never saw in training"),
    # generate_responses
    (F, ITEM, '        item = entry\n        item["model_response"] = generate_response(model, tokenizer, entry, '
              'max_new_tokens, eos_id)\n', "the entries themselves are changed"),
    (F, "            on_item(i, item)\n", "            on_item(i + 1, item)\n", "on_item counts from 1"),
    (F, ITEM, '        item = {"model_response": generate_response(model, tokenizer, entry, max_new_tokens, eos_id), '
              '**entry}\n', "an old model_response wins over the new one"),
    # save_responses
    (F, ATOMIC, '    with open(path, "w", encoding="utf-8") as f:\n        json.dump(list(entries), f, indent=2, '
                'ensure_ascii=False)\n',
     "not atomic: json.dump streams straight into the path"),
    (F, ATOMIC, '    path.write_text(text, encoding="utf-8")\n',
     "not atomic: the whole text written straight onto the path (only a full disk shows it)"),
    (F, 'with os.fdopen(fd, "w", encoding="utf-8") as f:', 'with os.fdopen(fd, "w", encoding="latin-1") as f:',
     "not UTF-8"),
    (F, "json.dumps(list(entries), indent=2, ensure_ascii=False)", "json.dumps(list(entries), indent=2)",
     "non-ASCII characters escaped as \\uXXXX"),
    (F, "json.dumps(list(entries), indent=2, ensure_ascii=False)", "json.dumps(list(entries), ensure_ascii=False)",
     "not indented"),
    (F, "    path.parent.mkdir(parents=True, exist_ok=True)\n", "", "missing parent folders are not created"),
    (F, "        with contextlib.suppress(OSError):\n            os.unlink(tmp)\n", "        pass\n",
     "the temporary file is left behind when the write fails"),
    (F, "        with contextlib.suppress(OSError):\n            os.unlink(tmp)\n        raise\n",
     "        with contextlib.suppress(OSError):\n            os.unlink(tmp)\n",
     "a failed write is swallowed"),
]

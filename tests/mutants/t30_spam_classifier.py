"""Planted bugs for topic 30. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "spam.py"

ZERO_GRAD = "            optimizer.zero_grad()  # .backward() adds to .grad: start each step from nothing\n"
LOSS = "            loss = calc_loss_batch(inputs, labels, lengths, model, device)\n"
STEP = "            optimizer.step()\n"
FINAL = """    if step > 0 and (not history["steps"] or history["steps"][-1] != step):
        evaluate(step)  # the state training ends in is always measured
"""
KEEP = "    ids = ids[:limit]  # the start of the text, as in training (topic 28 keeps the first tokens too)\n"
FORWARD = """            inputs = torch.tensor([ids], dtype=torch.long, device=device)  # (1, n): one text, no padding
            scores = classify_batch(model, inputs, torch.tensor([len(ids)], device=device))[0]
"""

MUTANTS = [
    # the bugs the issue names
    (F, ZERO_GRAD, "", "no optimizer.zero_grad(): gradients pile up from step to step"),
    (F, LOSS, "            loss = calc_loss_batch(inputs, torch.zeros_like(labels), lengths, model, device)\n",
     "the labels are not used: the model learns to answer one class"),
    # the training loop
    (F, ZERO_GRAD + LOSS + "            loss.backward()\n" + STEP,
     LOSS + "            loss.backward()\n" + STEP + ZERO_GRAD,
     "zero_grad after the step: stale gradients from before the call leak into the first step"),
    (F, STEP, "", "no optimizer step: nothing learns"),
    (F, "            model.train()  # every step with dropout", "            model.eval()  # every step with dropout",
     "training in eval mode (no dropout)"),
    (F, "            model.train()  # every step with dropout, whatever mode the model came in (or evaluation "
        "left) in\n", "", "the model is never put in train mode: it trains in whatever mode it came in"),
    (F, "            if step % eval_every == 0:\n", "            if step % eval_every == 1 % eval_every:\n",
     "evaluations off by one step"),
    (F, FINAL, "", "no evaluation after the last step"),
    (F, FINAL, "    if step > 0:\n        evaluate(step)\n",
     "the last step is evaluated twice when it falls on the cadence"),
    (F, FINAL, "    evaluate(step)\n", "an evaluation even without any step"),
    (F, '            history["examples_seen"] += int(inputs.shape[0])\n', '            history["examples_seen"] += 1\n',
     "examples_seen counts batches"),
    (F, "                on_step(step, loss.item())\n", "                on_step(step - 1, loss.item())\n",
     "on_step counts steps from 0"),
    (F, "                on_step(step, loss.item())\n", "                on_step(step, loss)\n",
     "on_step gets a tensor instead of a float"),
    (F, "            if on_step is not None:\n                on_step(step, loss.item())\n", "",
     "on_step is never called"),
    (F, "evaluate_classifier(model, train_loader, val_loader, device, eval_batches).items()",
     "evaluate_classifier(model, train_loader, val_loader, device, None).items()", "eval_batches ignored"),
    (F, "evaluate_classifier(model, train_loader, val_loader, device, eval_batches).items()",
     "evaluate_classifier(model, val_loader, train_loader, device, eval_batches).items()",
     "the train and validation loaders swapped in the evaluation"),
    (F, '    history: dict[str, Any] = {"steps": [],', '    history: dict[str, Any] = {',
     "the steps of the evaluations are not kept (KeyError)"),
    (F, """    if num_epochs < 0:
        raise""", """    if num_epochs < -10**9:
        raise""", "num_epochs < 0 not rejected"),
    (F, """    if eval_every < 1:
        raise""", """    if eval_every < -10**9:
        raise""", "eval_every < 1 not rejected"),
    # classify
    (F, KEEP, "    ids = ids[-limit:]\n", "classify keeps the last tokens of a long text"),
    (F, "    limit = model.config.context_length if max_length is None else min(max_length, "
        "model.config.context_length)\n",
     "    limit = model.config.context_length if max_length is None else max_length\n",
     "max_length above the context length is not capped"),
    (F, "    limit = model.config.context_length if max_length is None else min(max_length, "
        "model.config.context_length)\n", "    limit = model.config.context_length\n", "max_length ignored"),
    (F, FORWARD, """            inputs = torch.tensor([ids + [0] * (limit - len(ids))], dtype=torch.long, device=device)
            scores = model(inputs)[0, -1]
""", "classify pads the text and reads the last position"),
    (F, FORWARD, """            inputs = torch.tensor([ids], dtype=torch.long, device=device)
            scores = model(inputs)[0, 0]
""", "classify reads the first token"),
    (F, "    return labels[int(scores.argmax())]\n", "    return labels[int(scores.argmin())]\n", "argmin"),
    (F, "    model.eval()  # no dropout: the same text always gets the same label\n", "",
     "classify runs in train mode (dropout)"),
    (F, """    finally:
        model.train(training_before)
    if scores.shape[-1] != len(labels):""", """    finally:
        pass
    if scores.shape[-1] != len(labels):""", "classify leaves the model in eval mode"),
    (F, """        with torch.no_grad():
            inputs = torch.tensor([ids]""", """        with torch.enable_grad():
            inputs = torch.tensor([ids]""", "classify builds a graph"),
    (F, """    if scores.shape[-1] != len(labels):
        raise""", """    if scores.shape[-1] < len(labels):
        raise""", "more labels than scores accepted"),
]

"""Planted bugs for topic 21. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "evaluate.py"

SPLIT = "    split_at = int(train_ratio * len(text))\n"
PARTS = "    return text[:split_at], text[split_at:]\n"
TRAIN = "                                     shuffle=True, drop_last=True, tokenizer=tokenizer, seed=seed)\n"
VAL = "                                   shuffle=False, drop_last=False, tokenizer=tokenizer)\n"
MOVE = "    inputs, targets = inputs.to(device), targets.to(device)\n"
LOSS = "    return cross_entropy(logits, targets)\n"
USED = "    used = len(loader) if num_batches is None else min(num_batches, len(loader))\n"
EMPTY = ("    if used == 0:\n"
         "        return math.nan                              # no batch: nothing to average (and no 0 / 0)\n")
LOOP = ("    for _, (inputs, targets) in zip(range(used), loader):\n"
        "        total += calc_loss_batch(inputs, targets, model, device).item()\n")
MEAN = "    return total / used\n"
EVAL = "    model.eval()\n"
NO_GRAD = ("        with torch.no_grad():\n"
           "            train_loss = calc_loss_loader(train_loader, model, device, num_batches=eval_iters)\n"
           "            val_loss = calc_loss_loader(val_loader, model, device, num_batches=eval_iters)\n")
RESTORE = "        model.train(training_before)                # as found: the caller decides the mode\n"

MUTANTS = [
    # split_text
    (F, SPLIT, "    split_at = int((1 - train_ratio) * len(text))\n", "split at the wrong index: 1 - train_ratio"),
    (F, SPLIT, "    split_at = round(train_ratio * len(text))\n", "split index rounded instead of int()"),
    (F, SPLIT, "    split_at = -(-train_ratio * len(text) // 1)\n    split_at = int(split_at)\n",
     "split index rounded up"),
    (F, PARTS, "    return text[:split_at], text[split_at + 1:]\n", "one character lost at the split"),
    (F, PARTS, "    return text[split_at:], text[:split_at]\n", "parts swapped: validation first"),
    (F, "    if not 0.0 < train_ratio < 1.0:\n", "    if not 0.0 <= train_ratio <= 1.0:\n",
     "train_ratio 0 and 1 accepted"),
    # train_val_loaders
    (F, "    stride = context_length if stride is None else stride\n", "    stride = stride or 1\n",
     "stride=None taken as 1 (overlapping windows)"),
    (F, TRAIN, "                                     shuffle=True, drop_last=False, tokenizer=tokenizer, seed=seed)\n",
     "train loader keeps a short last batch"),
    (F, TRAIN, "                                     shuffle=False, drop_last=True, tokenizer=tokenizer, seed=seed)\n",
     "train loader not shuffled"),
    (F, TRAIN, "                                     shuffle=True, drop_last=True, tokenizer=tokenizer)\n",
     "train loader's seed ignored"),
    (F, VAL, "                                   shuffle=True, drop_last=False, tokenizer=tokenizer, seed=0)\n",
     "val loader shuffled"),
    (F, VAL, "                                   shuffle=False, drop_last=True, tokenizer=tokenizer)\n",
     "val loader drops its short last batch"),
    # calc_loss_batch
    (F, MOVE, "    inputs = inputs.to(device)\n", "targets not moved to the device"),
    (F, MOVE, "    targets = targets.to(device)\n", "inputs not moved to the device"),
    (F, LOSS, "    return cross_entropy(logits, targets).detach()\n", "loss detached: backward() impossible"),
    (F, LOSS, "    return cross_entropy(logits, inputs)\n", "scored against the inputs instead of the targets"),
    (F, LOSS, "    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())\n",
     "PyTorch's cross_entropy instead of topic 20's"),
    (F, MOVE, MOVE + "    model.eval()\n", "calc_loss_batch switches the model to eval mode"),
    (F, "    logits = model(inputs)                          # (batch, seq, vocab_size)\n",
     "    logits = model(inputs)\n    logits = model(inputs)\n", "the model run twice"),
    # calc_loss_loader
    (F, MEAN, "    return total / len(loader)\n", "divides by len(loader) instead of the batches used"),
    (F, USED, "    used = len(loader)\n", "num_batches ignored"),
    (F, USED, "    used = len(loader) if num_batches is None else num_batches\n",
     "num_batches larger than the loader divides by num_batches"),
    (F, EMPTY, "", "empty loader: ZeroDivisionError instead of nan"),
    (F, EMPTY, "    if used == 0:\n        return 0.0\n", "empty loader gives 0.0"),
    (F, LOOP, "    losses = [calc_loss_batch(x, y, model, device).item() for x, y in loader]\n"
              "    total = sum(losses[:used])\n", "runs the model on every batch of the loader"),
    (F, LOOP + MEAN,
     "    tokens = 0\n"
     "    for _, (inputs, targets) in zip(range(used), loader):\n"
     "        total += calc_loss_batch(inputs, targets, model, device).item() * targets.numel()\n"
     "        tokens += targets.numel()\n"
     "    return total / tokens\n", "mean over tokens instead of over batches"),
    (F, LOOP, "    for _, (inputs, targets) in zip(range(used), loader):\n"
              "        total += calc_loss_batch(inputs, targets, model, device)\n", "returns a tensor, not a float"),
    # evaluate_model
    (F, EVAL, "", "evaluate_model leaves dropout on (no eval mode)"),
    (F, NO_GRAD, NO_GRAD.replace("        with torch.no_grad():\n", "        if True:\n"),
     "evaluate_model computes gradients (no torch.no_grad)"),
    (F, RESTORE, "        model.train()\n", "evaluate_model always returns to train mode"),
    (F, RESTORE, "        pass\n", "evaluate_model leaves the model in eval mode"),
    (F, "    try:\n" + NO_GRAD + "    finally:\n" + RESTORE,
     "    with torch.no_grad():\n"
     "        train_loss = calc_loss_loader(train_loader, model, device, num_batches=eval_iters)\n"
     "        val_loss = calc_loss_loader(val_loader, model, device, num_batches=eval_iters)\n"
     "    model.train(training_before)\n", "mode not restored when a loss computation raises"),
    (F, NO_GRAD, NO_GRAD.replace("num_batches=eval_iters", "num_batches=None"), "eval_iters ignored"),
    (F, "    return train_loss, val_loss\n", "    return val_loss, train_loss\n", "losses returned in the wrong order"),
]

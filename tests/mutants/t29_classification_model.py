"""Planted bugs for topic 29. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "cls_model.py"

GATHER = "    index = (lengths - 1).view(batch, 1, 1).expand(batch, 1, num_classes)\n"
RANGE_CHECK = """    bad = (lengths < 1) | (lengths > seq)
    if bool(bad.any()):
"""
LOSS = "    return F.cross_entropy(classify_batch(model, inputs, lengths), labels)\n"
ACCURACY_COUNT = ("                correct += int((predicted == labels).sum())  # counts, not a batch mean: "
                  "batches differ in size\n                seen += labels.shape[0]\n")
LOSS_LOOP = """    training_before = model.training
    model.eval()  # no dropout: the measurement must not depend on random masks
    try:
        total = 0.0
"""

MUTANTS = [
    # the bug the issue names: the last position (padding) instead of the last real token
    (F, "    return last_token_logits(model(inputs), lengths)\n", "    return model(inputs)[:, -1, :]\n",
     "classify_batch reads the last position, a pad token in padded rows"),
    (F, GATHER, "    index = torch.full((batch, 1, num_classes), seq - 1, device=logits.device)\n",
     "last_token_logits reads the last position whatever the length"),
    # last_token_logits
    (F, GATHER, "    index = lengths.clamp(max=seq - 1).view(batch, 1, 1).expand(batch, 1, num_classes)\n",
     "lengths off by one: the first padding token (the last token when the row is full)"),
    (F, GATHER, "    index = (lengths - 2).clamp(min=0).view(batch, 1, 1).expand(batch, 1, num_classes)\n",
     "lengths off by one: the token before the last real one"),
    (F, GATHER + "    return logits.gather(1, index).squeeze(1)\n",
     "    return logits.detach()[torch.arange(batch), lengths - 1]\n",
     "the scores are detached: no gradient reaches the model"),
    (F, RANGE_CHECK, "    bad = (lengths < 0) | (lengths > seq)\n    if bool(bad.any()):\n",
     "a length of 0 is accepted (it reads the last position)"),
    (F, RANGE_CHECK, "    bad = (lengths < 1) | (lengths > seq + 1)\n    if bool(bad.any()):\n",
     "a length above seq is not rejected"),
    (F, """    if tuple(lengths.shape) != (batch,):
        raise""", """    if lengths.shape[0] < batch:
        raise""", "too many lengths accepted"),
    # calc_loss_batch
    (F, LOSS, "    logits = model(inputs)\n    return F.cross_entropy(logits.flatten(0, 1), "
              "labels.repeat_interleave(logits.shape[1]))\n", "the loss over every position, padding included"),
    (F, LOSS, "    return F.cross_entropy(classify_batch(model, inputs, lengths), labels, reduction=\"sum\")\n",
     "the loss summed over the batch instead of averaged"),
    (F, LOSS, "    return F.cross_entropy(classify_batch(model, inputs, lengths), labels).detach()\n",
     "the loss is detached: backward() fails"),
    (F, LOSS, "    model.eval()\n" + LOSS, "calc_loss_batch switches the model to eval mode"),
    # calc_loss_loader
    (F, "    return len(loader) if num_batches is None else min(num_batches, len(loader))\n",
     "    return len(loader)\n", "num_batches ignored"),
    (F, "    return len(loader) if num_batches is None else min(num_batches, len(loader))\n",
     "    return len(loader) if not num_batches else min(num_batches, len(loader))\n",
     "num_batches=0 reads every batch"),
    (F, """    if used == 0:
        return math.nan  # nothing to average, and no 0 / 0
""", """    if used == 0:
        return 0.0
""", "no batch gives 0.0 instead of nan"),
    (F, "    model.eval()  # no dropout: the measurement must not depend on random masks\n", "",
     "the loss is measured in train mode (with dropout)"),
    (F, LOSS_LOOP, LOSS_LOOP.replace("    training_before = model.training\n", ""). replace(
        "    try:\n", "    training_before = True\n    try:\n"), "the model is always left in train mode"),
    (F, """        with torch.no_grad():
            # zip with a range""", """        with torch.enable_grad():
            # zip with a range""", "the loss loader builds graphs"),
    (F, "                total += calc_loss_batch(inputs, labels, lengths, model, device).item()\n"
        "    finally:\n        model.train(training_before)\n    return total / used\n",
     "                total += calc_loss_batch(inputs, labels, lengths, model, device).item()\n"
     "    except Exception:\n        raise\n    model.train(training_before)\n    return total / used\n",
     "the mode is not restored when an error is raised"),
    (F, "    return total / used\n", "    return total / max(used - 1, 1)\n", "the mean divides by one batch too few"),
    # calc_accuracy_loader
    (F, ACCURACY_COUNT, "                correct += float((predicted == labels).float().mean())\n"
                        "                seen += 1\n", "accuracy as the mean of per-batch accuracies"),
    (F, "                predicted = classify_batch(model, inputs, lengths).argmax(dim=-1)\n",
     "                predicted = classify_batch(model, inputs, lengths).argmin(dim=-1)\n", "argmin instead of argmax"),
    (F, "                predicted = classify_batch(model, inputs, lengths).argmax(dim=-1)\n",
     "                predicted = model(inputs)[:, -1, :].argmax(dim=-1)\n",
     "accuracy read at the last position (padding)"),
    (F, """    training_before = model.training
    model.eval()
    try:
        correct = seen = 0""", """    training_before = model.training
    try:
        correct = seen = 0""", "accuracy measured in train mode (with dropout)"),
    (F, """    finally:
        model.train(training_before)
    return correct / seen
""", """    finally:
        model.train()
    return correct / seen
""", "accuracy leaves the model in train mode"),
    (F, """    if used == 0:
        return math.nan
""", """    if used == 0:
        return 0.0
""", "accuracy of no batch is 0.0 instead of nan"),
    (F, "            for _, (inputs, labels, lengths) in zip(range(used), loader):\n"
        "                inputs, labels, lengths = inputs.to(device), labels.to(device), lengths.to(device)\n",
     "            for inputs, labels, lengths in loader:\n"
     "                inputs, labels, lengths = inputs.to(device), labels.to(device), lengths.to(device)\n",
     "accuracy reads every batch whatever num_batches says"),
]

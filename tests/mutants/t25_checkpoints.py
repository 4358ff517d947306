"""Planted bugs for topic 25. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "checkpoint.py"

ATOMIC_BODY = """    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on the disk before any name points at them
        os.replace(tmp, path)  # readers see the whole old file or the whole new one, never a mix
    except BaseException:  # KeyboardInterrupt too: never leave a half-written temporary file
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
"""
CLEANUP = """        with contextlib.suppress(OSError):
            os.unlink(tmp)
"""
CONFIG_CHECKS = """    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    elif isinstance(config, Mapping):
        config = dict(config)
    else:
        raise TypeError(f"save_checkpoint: config must be a dataclass or a dict, got a {type(config).__name__}")
    for name, value in {"config": config, **extra}.items():
"""
LOAD_OPTIMIZER = """    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
"""
RESTORE = """    if restore_rng:
        restore_rng_state(checkpoint["rng"])
"""
FORMAT_CHECK = ("    if not isinstance(checkpoint, dict) or checkpoint.get(\"format\") != FORMAT or set(KEYS) - "
                "set(checkpoint):\n")
MISSING_CHECK = """    if not path.is_file():
        raise FileNotFoundError(f"load_checkpoint: no checkpoint file at {path}")
"""
PAST_END = """        if start > num_steps:
            raise ValueError(f"train_with_checkpoints: the checkpoint is at step {start}, past "
                             f"num_steps={num_steps}")
"""
SAVE_EVERY_CHECK = """    if save_every < 1:
        raise ValueError(f"train_with_checkpoints: save_every must be >= 1, got save_every={save_every}")
"""

MUTANTS = [
    # the bugs the issue names
    (F, LOAD_OPTIMIZER, "", "the optimizer state is never restored (AdamW restarts from zero moments)"),
    (F, RESTORE, "", "the RNG states are never restored (other dropout masks after a resume)"),
    (F, '        start, losses = info["step"], list(info["losses"])\n', '        start, losses = 0, []\n',
     "the step is not used: a resumed run starts again at step 0"),
    (F, ATOMIC_BODY, "    torch.save(obj, path)\n", "not atomic: torch.save straight onto the path"),
    (F, ATOMIC_BODY, "    import io\n    buffer = io.BytesIO()\n    torch.save(obj, buffer)\n"
                     "    path.write_bytes(buffer.getvalue())\n",
     "pickled in memory first, then written straight onto the path: only a disk that fills up shows it"),
    (F, "weights_only=True", "weights_only=False", "torch.load(weights_only=False): a planted pickle runs code"),
    (F, CONFIG_CHECKS, '    for name, value in extra.items():\n',
     "the config saved as a GPTConfig object: weights_only loading cannot read it back"),
    (F, 'model.load_state_dict(checkpoint["model"])', 'model.load_state_dict(checkpoint["model"], strict=False)',
     "strict=False: a model with missing or unexpected weights loads silently"),
    # random generators
    (F, "    random.setstate(state[\"python\"])\n", "", "Python's random generator not restored"),
    (F, 'torch.set_rng_state(state["torch"])', 'torch.set_rng_state(state.pop("torch"))',
     "restore_rng_state consumes its state: it cannot be restored twice"),
    (F, "    if restore_rng:\n", "    if True:\n", "restore_rng=False ignored"),
    (F, '    return {"torch": torch.get_rng_state(), "cuda": cuda, "python": random.getstate()}\n',
     '    return {"torch": torch.get_rng_state(), "cuda": cuda, "python": random.getstate(), '
     '"now": torch.rand(1)}\n', "capturing the state draws a random number"),
    # atomic writes
    (F, CLEANUP, "        pass\n", "the temporary file is left behind when the write fails"),
    (F, CLEANUP + "        raise\n", CLEANUP + "        return\n", "a failed write is swallowed: no exception"),
    (F, "    path.parent.mkdir(parents=True, exist_ok=True)  # a first save into runs/new/ just works\n", "",
     "missing parent folders are not created"),
    (F, "    sync_folder(path.parent)  # the rename itself survives a power cut\n",
     "    torch.save(obj, path.with_name(path.name + \".bak\"))  # a backup nobody asked for\n",
     "a second file written next to the checkpoint"),
    # save_checkpoint
    (F, "    if isinstance(step, bool) or not isinstance(step, int) or step < 0:\n", "    if False:\n",
     "step not checked: a negative, float or bool step is saved"),
    (F, "    for name, value in {\"config\": config, **extra}.items():\n",
     "    for name, value in {\"config\": config}.items():\n",
     "extra values not checked: a Path goes into the checkpoint, which then cannot be loaded"),
    (F, "    elif isinstance(config, Mapping):\n        config = dict(config)\n    else:\n",
     "    elif True:\n        config = dict(vars(config)) if hasattr(config, \"__dict__\") else {\"value\": config}\n"
     "    else:\n", "a config of another type is accepted"),
    (F, '"optimizer": optimizer.state_dict(), "rng": capture_rng_state()',
     '"optimizer": optimizer.state_dict(), "rng": (model.train(), capture_rng_state())[1]',
     "saving switches the model to train mode"),
    (F, '"step": step, "config": config, "model": model.state_dict()',
     '"step": step, "config": config, "model": {k: v for k, v in model.state_dict().items() if "bias" not in k}',
     "biases left out of the saved weights"),
    (F, '"model"', '"weights"',
     "the state dict saved (and loaded) under \"weights\": round trips work, but topic 34 cannot read the file"),
    # load_checkpoint
    (F, MISSING_CHECK, "", "a missing file raises ValueError instead of FileNotFoundError"),
    (F, FORMAT_CHECK, "    if not isinstance(checkpoint, dict):\n",
     "a torch file that is not a checkpoint (a bare state_dict) is not recognised"),
    (F, '    return {"step": checkpoint["step"], "config": checkpoint["config"], **checkpoint["extra"]}\n',
     '    return {"step": checkpoint["step"], "config": checkpoint["config"]}\n',
     "the extra keywords are not returned"),
    (F, 'f"load_checkpoint: cannot read {path} as a checkpoint (truncated',
     'f"load_checkpoint: cannot read the file as a checkpoint (truncated',
     "the error for an unreadable file does not name the path"),
    # train_with_checkpoints
    (F, "        if done % save_every == 0 or done == num_steps:\n", "        if done % save_every == 0:\n",
     "no checkpoint after the last step unless it falls on the cadence"),
    (F, "        lr = lr_schedule(step) if lr_schedule is not None else None\n",
     "        lr = lr_schedule(step - start) if lr_schedule is not None else None\n",
     "the schedule restarts at 0 after a resume"),
    (F, "        lr = lr_schedule(step) if lr_schedule is not None else None\n",
     "        lr = lr_schedule(step + 1) if lr_schedule is not None else None\n",
     "the schedule is read one step ahead"),
    (F, "        lr = lr_schedule(step) if lr_schedule is not None else None\n",
     "        lr = lr_schedule(step) if lr_schedule is not None else 0.001\n",
     "without a schedule the learning rate is overwritten"),
    (F, "        start, losses = info[\"step\"], list(info[\"losses\"])\n",
     "        start, losses = info[\"step\"], []\n", "the losses before the resume point are dropped"),
    (F, "lr=lr, max_grad_norm=max_grad_norm))", "lr=lr))", "max_grad_norm not passed on to train_step"),
    (F, PAST_END, "", "a checkpoint past num_steps is not an error"),
    (F, SAVE_EVERY_CHECK, "", "save_every < 1 not rejected"),
    (F, "        inputs, targets = batches(step)\n",
     "        try:\n            inputs, targets = batches(step)\n"
     "        except Exception:\n            return losses\n",
     "an exception during training is swallowed (the crash looks like the end of training)"),
    (F, "    if Path(path).exists():\n", "    if False:\n", "never resumes: an existing checkpoint is ignored"),
]

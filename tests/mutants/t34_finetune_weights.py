"""Planted bugs for topic 34. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "load_finetune.py"

COUNT = ("    return max(indices) + 1 if indices else 0"
         "  # int(): \"10\" > \"9\" as numbers, not as strings\n")
TIED = "    return table is not None and head.shape == table.shape and torch.equal(head, table)\n"
LOAD_CHECK = """    problems = check_state_dict(model, state_dict)
    if any(problems.values()):
        raise ValueError(f"load_weights: the state dict does not fit the model: {describe(problems)}")
"""
LOAD_COPY = """    own = model.state_dict()  # detached tensors that share memory with the parameters and buffers
    with torch.no_grad():
        for key, value in state_dict.items():
            own[key].copy_(value)  # in place: same Parameter, its dtype and device (copy_ casts and moves)
"""
READ_SHAPE = ("    if not isinstance(checkpoint, dict) or not all(isinstance(checkpoint.get(k), dict) "
              "for k in CHECKPOINT_KEYS):\n")
UNKNOWN_KEYS = """        if unknown:
            raise ValueError(f"load_model: the config in {source} has keys GPTConfig does not know: "
                             f"{', '.join(map(str, unknown))}")
"""

MUTANTS = [
    # the bugs the issue names
    (F, LOAD_CHECK + LOAD_COPY, "    model.load_state_dict(state_dict, strict=False)\n",
     "strict=False: missing and unexpected keys are skipped silently"),
    (F, LOAD_CHECK + LOAD_COPY, "    model.load_state_dict(state_dict)\n",
     "PyTorch's strict load: RuntimeError, after copying every tensor that fits"),
    (F, LOAD_CHECK + LOAD_COPY,
     """    own = model.state_dict()
    with torch.no_grad():
        for key, value in state_dict.items():
            if key not in own or own[key].shape != value.shape:
                raise ValueError(f"load_weights: {key} does not fit the model")
            own[key].copy_(value)
""", "loads tensor by tensor and fails halfway: the model is left half-changed"),
    (F, COUNT, "    return len(indices)\n", "num_layers counted as the number of block keys"),
    (F, COUNT, "    return max(indices) if indices else 0\n", "num_layers = the largest block index (off by one)"),
    (F, "    indices = [int(m.group(1)) for key in state_dict if (m := BLOCK_KEY.match(key))]\n" + COUNT,
     "    indices = [m.group(1) for key in state_dict if (m := BLOCK_KEY.match(key))]\n"
     "    return int(max(indices)) + 1 if indices else 0\n",
     "block indices compared as strings: blocks.9 after blocks.10"),
    (F, "(m := BLOCK_KEY.match(key))", "(m := BLOCK_KEY.search(key))",
     "a key that only mentions blocks.{i}. somewhere counts as a block"),
    (F, "    head = state_dict.get(HEAD)\n    if head is None:\n        return True\n",
     "    head = state_dict.get(HEAD)\n    if head is None:\n        return True\n    return False\n",
     "tie detection by the head's absence: a tied model's own state_dict reads as untied"),
    (F, TIED, "    return table is not None and head is table\n",
     "tie detection by identity: a copied tied state dict reads as untied"),
    (F, TIED, "    return table is not None and head.shape == table.shape\n",
     "tie detection by shape only: every untied GPT reads as tied"),
    (F, '"context_length": int(state_dict[POSITION_TABLE].shape[0])', '"context_length": int(vocab_size)',
     "context length taken from the token table (the vocabulary size)"),
    (F, '"context_length": int(state_dict[POSITION_TABLE].shape[0])', '"context_length": int(d_model)',
     "context length taken from the width"),
    (F, '"qkv_bias": QUERY_BIAS in state_dict', '"qkv_bias": "blocks.0.attn.out_proj.bias" in state_dict',
     "qkv_bias read from the output projection's bias (always there)"),
    (F, '"num_layers": num_layers, "dropout": 0.0,', '"num_layers": num_layers, "dropout": 0.1,',
     "dropout defaults to GPT-2's 0.1"),
    (F, "    return GPTConfig(**(fields | overrides))", "    return GPTConfig(**(overrides | fields))",
     "the inferred values win over the overrides"),
    (F, "    for key in (TOKEN_TABLE, POSITION_TABLE):\n        if key not in state_dict:\n",
     "    for key in ():\n        if key not in state_dict:\n",
     "no check for the tables: a KeyError instead of a ValueError naming the key"),
    # check_state_dict
    (F, "    optional = {HEAD} if tied else set()", "    optional = set()",
     "a tied model requires out_head.weight"),
    (F, "    optional = {HEAD} if tied else set()", "    optional = {HEAD}",
     "an untied model may lack its head: the head keeps its old values"),
    (F, "    missing = sorted(set(own) - set(state_dict) - optional)",
     "    missing = [k for k in own if k not in state_dict and k not in optional]",
     "missing keys in the model's order, not sorted"),
    (F, "    shapes = [(key, tuple(state_dict[key].shape), tuple(own[key].shape))",
     "    shapes = [(key, tuple(own[key].shape), tuple(state_dict[key].shape))",
     "found and expected shapes swapped"),
    (F, "            conflicts.append(HEAD)  # an untied head", "            pass  # an untied head",
     "an untied head for a tied model is not a conflict: whichever name is copied last wins"),
    (F, "    own = model.state_dict()\n    tied = shares_head(model)\n",
     "    own = dict(model.named_parameters())\n    tied = shares_head(model)\n",
     "named_parameters instead of state_dict: a tied model's out_head.weight is unexpected"),
    # load_weights
    (F, LOAD_COPY,
     "    model.load_state_dict(dict(state_dict) | ({HEAD: state_dict[TOKEN_TABLE]} if shares_head(model) else {}),"
     " assign=True)\n",
     "assign=True: new parameter objects (an optimizer built before is cut off), the file's dtype, tying broken"),
    (F, 'raise ValueError(f"load_weights: the state dict does not fit the model: {describe(problems)}")',
     'raise ValueError("load_weights: the state dict does not fit the model")',
     "the error names no key"),
    (F, '    if any(problems.values()):\n', '    if problems["missing"] or problems["unexpected"]:\n',
     "a wrong shape is not checked before copying"),
    (F, LOAD_COPY, LOAD_COPY + "    for param in model.parameters():\n        param.requires_grad_(True)\n",
     "loading unfreezes every parameter"),
    # read_checkpoint
    (F, "weights_only=True)", "weights_only=False)", "weights_only=False: a planted pickle runs code"),
    (F, READ_SHAPE, "    if not isinstance(checkpoint, dict):\n",
     "a dict that is not a checkpoint (a bare state dict) is not recognised"),
    (F, '    if not path.is_file():\n'
        '        raise FileNotFoundError(f"read_checkpoint: no checkpoint file at {path}")\n',
     "", "a missing file raises ValueError instead of FileNotFoundError"),
    (F, 'raise ValueError(f"read_checkpoint: {path} cannot be read as a checkpoint',
     'raise ValueError(f"read_checkpoint: the file cannot be read as a checkpoint',
     "the error for an unreadable file does not name it"),
    # load_model
    (F, "    return model.to(device).eval()", "    return model.to(device)",
     "a checkpoint's model is returned in train mode"),
    (F, '        config = GPTConfig(**(saved | {"dropout": dropout}))', "        config = GPTConfig(**saved)",
     "the dropout argument is ignored for a checkpoint"),
    (F, '        config = GPTConfig(**(saved | {"dropout": dropout}))',
     "        config = infer_config(state, 1, dropout=dropout)",
     "the checkpoint's config ignored: the number of heads guessed"),
    (F, "        with torch.random.fork_rng(devices=[]):  # the random init is overwritten: keep the caller's stream\n"
        "            model = GPTModel(config)\n", "        model = GPTModel(config)\n",
     "building the model moves the caller's random state"),
    (F, "    if source.is_dir():\n        model = load_gpt2(source, dropout=dropout)\n    elif source.is_file():\n",
     "    if source.exists():\n", "a GPT-2 folder is read as a checkpoint file"),
    (F, "        model = load_gpt2(source, dropout=dropout)", "        model = load_gpt2(source)",
     "the dropout argument is ignored for a GPT-2 folder"),
    (F, UNKNOWN_KEYS, "", "an unknown config key gives GPTConfig's TypeError"),
    (F, "        load_weights(model, state)\n", "        model.load_state_dict(state, strict=False)\n",
     "load_model loads without checking: a position table of another length loads silently"),
    (F, '        raise FileNotFoundError(f"load_model: nothing at {source}',
     '        raise ValueError(f"load_model: nothing at {source}', "nothing at the path raises ValueError"),
]

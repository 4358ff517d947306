"""Planted bugs for topic 27. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "freeze.py"

FREEZE_ALL = "    set_trainable(model, False)\n"
HEAD = "    replace_head(model, num_classes)  # after freezing: the new head must stay trainable\n"
UNFREEZE_BLOCKS = """    for index in range(num_blocks - trainable_blocks, num_blocks):
        set_trainable(model.blocks[index], True)
"""
FINAL_NORM = """    if train_final_norm:
        set_trainable(model.final_norm, True)
"""
BLOCKS_CHECK = """    if isinstance(trainable_blocks, bool) or not isinstance(trainable_blocks, int) \\
            or not 0 <= trainable_blocks <= num_blocks:
        raise ValueError(f"prepare_for_classification: trainable_blocks must be an int from 0 to the number of "
                         f"blocks, {num_blocks}; got trainable_blocks={trainable_blocks!r}")
"""
NEW_HEAD = """    head = nn.Linear(model.config.d_model, num_classes, bias=True, device=reference.device,
                     dtype=reference.dtype)
"""

MUTANTS = [
    # the bug the issue names: parameters left trainable that should be frozen
    (F, FREEZE_ALL, "    set_trainable(model.blocks, False)\n",
     "only the blocks are frozen: the embeddings (and a tied head's weight) stay trainable"),
    (F, FREEZE_ALL, "", "nothing is frozen first: earlier blocks and the embedding keep their old flags"),
    (F, FREEZE_ALL, "    set_trainable(model.blocks, False)\n    set_trainable(model.embedding.tok_emb, False)\n",
     "the position embedding is left trainable"),
    # prepare_for_classification
    (F, FINAL_NORM, "", "the final norm is never unfrozen"),
    (F, FINAL_NORM, "    set_trainable(model.final_norm, True)\n", "train_final_norm=False ignored"),
    (F, FREEZE_ALL + HEAD, HEAD + FREEZE_ALL, "the head is replaced before freezing: the new head is frozen"),
    (F, UNFREEZE_BLOCKS, "    for block in model.blocks[-trainable_blocks:]:\n        set_trainable(block, True)\n",
     "blocks[-k:] with k = 0 unfreezes every block"),
    (F, "range(num_blocks - trainable_blocks, num_blocks)", "range(num_blocks - trainable_blocks - 1, num_blocks)",
     "trainable_blocks off by one: one block too many"),
    (F, "range(num_blocks - trainable_blocks, num_blocks)", "range(trainable_blocks)",
     "the first blocks are unfrozen instead of the last"),
    (F, "    return model\n", "    return None\n", "prepare_for_classification returns None"),
    (F, BLOCKS_CHECK, "", "trainable_blocks out of range not rejected"),
    (F, "not 0 <= trainable_blocks <= num_blocks", "not 0 <= trainable_blocks < num_blocks",
     "trainable_blocks = len(model.blocks) rejected"),
    (F, BLOCKS_CHECK + """    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"prepare_for_classification: num_classes must be an int >= 1, got "
                         f"num_classes={num_classes!r}")
    set_trainable(model, False)
""", "    set_trainable(model, False)\n" + BLOCKS_CHECK,
     "the arguments are checked after freezing: a rejected call leaves the model frozen"),
    # replace_head
    (F, NEW_HEAD, "    head = nn.Linear(model.config.d_model, num_classes, bias=False, device=reference.device,\n"
                  "                     dtype=reference.dtype)\n", "the new head has no bias"),
    (F, NEW_HEAD, "    head = nn.Linear(model.config.d_model, num_classes + 1, device=reference.device,\n"
                  "                     dtype=reference.dtype)\n", "the head has one output too many"),
    (F, NEW_HEAD, "    head = nn.Linear(model.config.d_model, num_classes)\n",
     "the head ignores the model's dtype and device"),
    (F, "    model.out_head = head\n    return head\n",
     "    model.out_head = head\n    head.requires_grad_(False)\n    return head\n", "the new head is frozen"),
    (F, "    model.out_head = head\n    return head\n",
     "    model.out_head = head\n    model.embedding.tok_emb.weight.requires_grad_(True)\n    return head\n",
     "replacing the head unfreezes the token embedding"),
    (F, "    model.out_head = head\n    return head\n",
     "    old = model.out_head\n    old.weight.data = head.weight.data\n    old.bias = head.bias\n"
     "    old.out_features = num_classes\n    return old\n",
     "the old head's weight is overwritten in place: a tied embedding is overwritten too"),
    (F, "    model.out_head = head\n    return head\n", "    model.out_head = head\n    return model\n",
     "replace_head returns the model instead of the head"),
    (F, """    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"replace_head: num_classes must be""", """    if False:
        raise ValueError(f"replace_head: num_classes must be""", "num_classes not checked in replace_head"),
    # set_trainable
    (F, "    for param in module.parameters():\n", "    for param in module.parameters(recurse=False):\n",
     "set_trainable reaches only the module's own parameters, not its submodules'"),
    (F, """    if not isinstance(trainable, bool):
        raise TypeError""", """    if trainable is None:
        raise TypeError""", "a flag that is not a bool (0, 'no') is accepted"),
    # count_trainable
    (F, "    return sum(p.numel() for p in model.parameters() if p.requires_grad)\n",
     "    return sum(p.numel() for _, p in model.named_parameters(remove_duplicate=False) if p.requires_grad)\n",
     "tied weights counted twice"),
    (F, "    return sum(p.numel() for p in model.parameters() if p.requires_grad)\n",
     "    return sum(p.numel() for p in model.parameters())\n", "frozen parameters counted"),
    (F, "    return sum(p.numel() for p in model.parameters() if p.requires_grad)\n",
     "    return sum(1 for p in model.parameters() if p.requires_grad)\n", "tensors counted instead of values"),
    (F, "    return sum(p.numel() for p in model.parameters() if p.requires_grad)\n",
     "    return sum(v.numel() for v in model.state_dict().values())\n",
     "the state dict counted: buffers and both names of a tied weight"),
]

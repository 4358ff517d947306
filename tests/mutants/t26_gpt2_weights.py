"""Planted bugs for topic 26. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "load_gpt2.py"

TRANSPOSED = '''            out[b + ours] = state[h + theirs].T  # Conv1D (in, out) -> nn.Linear (out, in)'''
QKV_WEIGHTS = '''            out[f"{b}{ours}.weight"] = part.T'''
QKV_SPLIT = "    query, key, value = torch.split(fused, width // 3, dim=-1)"
BUFFER_TEST = "        if parts[0] == \"h\" and len(parts) == 3 and parts[2] in MASK_BUFFERS:"
UNKNOWN = '''        if key not in expected:
            raise ValueError(f"unexpected key {key!r} in the GPT-2 checkpoint: no parameter takes it")'''
SHAPE = '''        if tuple(state[key].shape) != shape:'''
AS_STORED_LN = '''        as_stored = {"ln_1.weight": "norm1.weight", "ln_1.bias": "norm1.bias",
                     "ln_2.weight": "norm2.weight", "ln_2.bias": "norm2.bias",'''

MUTANTS = [
    # the two bugs the issue names
    (F, TRANSPOSED, "            out[b + ours] = state[h + theirs]",
     "Conv1D weights not transposed (c_proj is square: only the values show it)"),
    (F, QKV_WEIGHTS, '            out[f"{b}{ours}.weight"] = part',
     "c_attn's q, k, v parts not transposed (square d x d)"),
    (F, QKV_SPLIT, "    key, query, value = torch.split(fused, width // 3, dim=-1)",
     "q/k/v split in the wrong order (k | q | v)"),
    (F, QKV_SPLIT, "    query, value, key = torch.split(fused, width // 3, dim=-1)",
     "q/k/v split in the wrong order (q | v | k)"),
    # more ways to get the mapping wrong
    (F, QKV_SPLIT, "    query, key, value = torch.split(fused, fused.shape[0] // 3, dim=0)",
     "c_attn split along the first dimension instead of the last"),
    (F, QKV_SPLIT,
     "    query, key, value = fused.reshape(*fused.shape[:-1], width // 3, 3).unbind(-1)",
     "c_attn read as interleaved q, k, v columns instead of three blocks"),
    (F, '''            for ours, part in zip(projections, split_qkv(state[h + "attn.c_attn.bias"])):
                out[f"{b}{ours}.bias"] = part''',
     '''            for ours in projections:
                out[f"{b}{ours}.bias"] = state[h + "attn.c_attn.bias"][: config.d_model]''',
     "c_attn's bias not split: the query part given to all three projections"),
    (F, '''    out = {"embedding.tok_emb.weight": state["wte.weight"],''',
     '''    out = {"embedding.tok_emb.weight": state["wte.weight"].T,''',
     "the token embedding transposed like a Conv1D weight"),
    (F, AS_STORED_LN, '''        as_stored = {"ln_1.weight": "norm2.weight", "ln_1.bias": "norm2.bias",
                     "ln_2.weight": "norm1.weight", "ln_2.bias": "norm1.bias",''',
     "ln_1 and ln_2 swapped"),
    (F, '''        h, b = f"h.{i}.", f"blocks.{i}."''', '''        h, b = "h.0.", f"blocks.{i}."''',
     "every block loaded from h.0"),
    (F, '''           "final_norm.weight": state["ln_f.weight"], "final_norm.bias": state["ln_f.bias"]}''',
     '''           "final_norm.weight": state["ln_f.bias"], "final_norm.bias": state["ln_f.weight"]}''',
     "ln_f's weight and bias swapped"),
    (F, '''        out["out_head.weight"] = state["lm_head.weight"]''',
     '''        out["out_head.weight"] = state["wte.weight"]''',
     "untied head loaded from wte.weight instead of lm_head.weight"),
    # names around the weights
    (F, "        name = key.removeprefix(PREFIX)", "        name = key",
     "transformer. prefix not stripped"),
    (F, "        name = key.removeprefix(PREFIX)", "        name = key[len(PREFIX):]",
     "the first 12 characters cut from every key, prefixed or not"),
    (F, "        name = key.removeprefix(PREFIX)", "        name = key.split(\".\", 1)[1]",
     "the first part of every key dropped, whether it is the prefix or not"),
    (F, BUFFER_TEST, "        if name.endswith(\"attn.bias\") or name.endswith(\"attn.masked_bias\"):",
     "mask buffers matched by suffix: c_attn.bias dropped with them"),
    (F, BUFFER_TEST, "        if parts[0] == \"h\" and len(parts) == 3 and parts[2] == \"attn.bias\":",
     "attn.masked_bias loaded as a weight"),
    (F, BUFFER_TEST, "        if False:", "mask buffers loaded as weights"),
    (F, '''        if name in renamed:
            raise ValueError''', '''        if False:
            raise ValueError''', "a key present with and without the prefix silently overwritten"),
    (F, '''        state.pop("lm_head.weight", None)''', "        pass",
     "a tied file's lm_head.weight rejected as unknown"),
    # checks that keep a bad file from loading silently
    (F, UNKNOWN, "        pass", "unknown keys silently ignored (strict=False)"),
    (F, SHAPE, "        if False:", "no shape check: a wrong shape converts silently"),
    (F, '''        if key not in state:
            raise ValueError(f"missing key {key!r} in the GPT-2 checkpoint")''', '''        if key not in state:
            raise KeyError(key)''', "a missing key raises KeyError, not ValueError"),
    (F, '''    if width % 3 != 0:''', "    if False:", "split_qkv accepts a width 3 does not divide"),
    (F, '''            shapes[h + "attn.c_attn.bias"] = (3 * d,)''',
     '''            shapes[h + "attn.c_attn.bias"] = (d, 3)''',
     "c_attn.bias expected as (d, 3)"),
    (F, '''        shapes[h + "mlp.c_fc.weight"], shapes[h + "mlp.c_fc.bias"] = (d, 4 * d), (4 * d,)''',
     '''        shapes[h + "mlp.c_fc.weight"], shapes[h + "mlp.c_fc.bias"] = (4 * d, d), (4 * d,)''',
     "c_fc expected in nn.Linear layout"),
    (F, '''        if config.qkv_bias:
            shapes''', '''        if True:
            shapes''', "c_attn.bias expected without qkv_bias"),
    (F, '''    if not config.tie_weights:  # an untied head is stored on its own, nn.Linear layout
        shapes["lm_head.weight"] = (v, d)''', "", "lm_head.weight never expected: untied files rejected"),
    (F, '''    return shapes
    ### END SOLUTION''', '''    return {key: list(shape) for key, shape in shapes.items()}
    ### END SOLUTION''', "gpt2_shapes returns lists, not tuples"),
    # the config
    (F, '''    if "n_positions" not in values and "n_ctx" in values:''', "    if False:",
     "n_ctx ignored: old config files rejected"),
    (F, '''CONFIG_KEYS = {"vocab_size": "vocab_size", "n_positions": "context_length",''',
     '''CONFIG_KEYS = {"vocab_size": "vocab_size", "n_ctx": "context_length",''',
     "context_length read from n_ctx, which new files lack"),
    (F, '''                     tie_weights=bool(values.get("tie_word_embeddings", True)))''',
     '''                     tie_weights=True)''', "tie_word_embeddings ignored"),
    (F, '''                     tie_weights=bool(values.get("tie_word_embeddings", True)))''',
     '''                     tie_weights=bool(values.get("tie_word_embeddings", False)))''',
     "an absent tie_word_embeddings read as untied"),
    (F, '''    return GPTConfig(**sizes, dropout=dropout, qkv_bias=True,''',
     '''    return GPTConfig(**sizes, dropout=values.get("resid_pdrop", dropout), qkv_bias=True,''',
     "dropout taken from the file's resid_pdrop"),
    (F, '''    if activation not in TANH_GELUS:''', '''    if not activation.startswith("gelu"):''',
     "the exact (erf) GELU accepted"),
    (F, '''    if not math.isclose(eps, LAYER_NORM_EPS, rel_tol=1e-6):''', "    if False:",
     "another layer_norm_epsilon accepted"),
    (F, '''    activation = values.get("activation_function", "gelu_new")''',
     '''    activation = values["activation_function"]''', "a config without activation_function rejected"),
    # load_gpt2
    (F, "    return model.eval()\n    ### END SOLUTION", "    return model\n    ### END SOLUTION",
     "model left in training mode"),
    (F, '''    with torch.random.fork_rng(devices=[]):  # the throw-away init must not move the caller's random stream
        model = GPTModel(config)''', '''    model = GPTModel(config)''',
     "the global random state moved by the throw-away init"),
    (F, '''            params[name].copy_(value)  # casts to the model's dtype''',
     '''            params[name].data = value''', "parameters take the file's dtype (float16)"),
    (F, '''            params[name].copy_(value)  # casts to the model's dtype''',
     '''            params[name].copy_(value)
            params[name].requires_grad_(False)''', "loaded parameters frozen"),
    (F, '''    config = config_from_hf(json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")), dropout)''',
     '''    config = config_from_hf(json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")))''',
     "the dropout argument ignored"),
]

"""Hidden checks for topic 26 - loading OpenAI GPT-2 weights (fresh seed every run).

Every run writes random GPT-2 checkpoints of random sizes in Hugging Face's layout
(``checks.t26_gpt2_weights``): with and without the ``transformer.`` prefix, with
the mask buffers, with a tied file's redundant ``lm_head.weight``, untied, without
qkv biases, in float16; and every error case of the README.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from checks.t26_gpt2_weights import (
    PUBLISHED,
    Dims,
    config_fields,
    hf_config,
    hf_layout,
    layout_of,
    load_error_case,
    load_probe,
    model_report,
    normalize_report,
    published_config,
    random_checkpoint,
    random_dims,
    shape_names,
    write_checkpoint,
)
from llmkit.checks import check
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `load_gpt2.py` (it imports": "where the code goes and what it builds on",
    "Given: `PREFIX`": "code handed out, not written by the learner",
    "Hints: `str.removeprefix`": "a hint",
    "`torch.split(x, n, dim=-1)` or `x.chunk(3, dim=-1)`": "a hint",
    "The transpose `.T` of a weight is a view": "a hint about PyTorch",
    "Check every key *before* you convert anything": "advice on the order of the work; the errors it leads to "
                                                     "are promised (and checked) in the contract",
}

SIZE_KEYS = ("vocab_size", "n_positions", "n_embd", "n_head", "n_layer")


def random_sizes(rng) -> dict:
    """Random values for the five size keys of a config.json (n_embd divisible by n_head)."""
    heads = rng.integer(1, 16)
    return {"vocab_size": rng.integer(2, 60000), "n_positions": rng.integer(1, 4096),
            "n_embd": heads * rng.integer(1, 64), "n_head": heads, "n_layer": rng.integer(1, 48)}


def sized_config(sizes: dict, **changes) -> dict:
    return hf_config(sizes["vocab_size"], sizes["n_positions"], sizes["n_embd"], sizes["n_head"], sizes["n_layer"],
                     **changes)


@check("config_from_hf: the published sizes and random ones; n_ctx when n_positions is absent; tie_word_embeddings "
       "false, true and absent; the dropout argument whatever the file's *_pdrop; both tanh GELU names; absent "
       "activation and epsilon",
       promises=["a topic-13 `GPTConfig` from a Hugging Face GPT-2 `config.json` read as a dict: `vocab_size` from "
                 "`vocab_size`, `context_length` from `n_positions`, `d_model` from `n_embd`, `num_heads` from "
                 "`n_head` and `num_layers` from `n_layer`.",
                 "A file without `n_positions` gives `n_ctx` instead.", "`qkv_bias` is `True`;",
                 "`tie_weights` is the file's `tie_word_embeddings`, `True` when that key is absent;",
                 "`dropout` is the argument (the file's `resid_pdrop`, `embd_pdrop` and `attn_pdrop` are ignored).",
                 "Every other key is ignored", "(absent means `gelu_new`)", "(absent means `1e-5`)"])
def config_random(t, rng):
    out = [config_fields(t.config_from_hf(published_config(repo))) for repo in PUBLISHED]
    pdrop = rng.choice([0.0, 0.1, 0.3])
    for tie in (None, True, False):  # None: the key is absent
        sizes = random_sizes(rng)
        config = sized_config(sizes, tie_word_embeddings=tie, resid_pdrop=pdrop, embd_pdrop=pdrop,
                              attn_pdrop=pdrop, activation_function=rng.choice(["gelu_new", "gelu_pytorch_tanh"]),
                              extra_key_of_another_library=[1, 2])
        dropout = rng.choice([0.0, 0.05, 0.2, 0.5])
        out.append(config_fields(t.config_from_hf(config, dropout=dropout)))
    sizes = random_sizes(rng)
    old = sized_config(sizes, n_positions=None, n_ctx=sizes["n_positions"], activation_function=None,
                       layer_norm_epsilon=None)
    out.append(config_fields(t.config_from_hf(old)))  # GPT-2's first files: n_ctx only; defaults for the rest
    return out


@check("config_from_hf errors: each of the five size keys missing; an activation that is not the tanh GELU; "
       "another layer_norm_epsilon",
       promises=["A missing size key raises `ValueError` naming it",
                 "an `activation_function` other than `gelu_new` or `gelu_pytorch_tanh`",
                 "raises `ValueError` naming the key and its value",
                 "a `layer_norm_epsilon` other than `1e-5`", "raises `ValueError` naming the key."])
def config_errors_random(t, rng):
    sizes = random_sizes(rng)
    cases = []
    for key in SIZE_KEYS:
        # without n_positions the file must not have n_ctx either, or n_ctx would stand in
        config = sized_config(sizes, **{key: None}, n_ctx=None)
        cases.append(error_case(f"config.json without {key}", t.config_from_hf, config, names=[key]))
    for activation in ("gelu", rng.choice(["relu", "silu", "gelu_accurate", "quick_gelu"])):  # gelu: the erf one
        cases.append(error_case(f"activation_function={activation!r}", t.config_from_hf,
                                sized_config(sizes, activation_function=activation),
                                names=["activation_function", activation]))
    eps = rng.choice([1e-6, 1e-12, 1e-3])
    cases.append(error_case(f"layer_norm_epsilon={eps}", t.config_from_hf, sized_config(sizes, layer_norm_epsilon=eps),
                            names=["layer_norm_epsilon"]))
    return cases


@check("normalize_keys: prefixed, plain and mixed keys, mask buffers dropped, c_attn.bias kept, values unchanged; "
       "a key present with and without the prefix raises ValueError naming it",
       promises=["a new dict of the same tensors under GPT-2's plain names: a leading `transformer.` is removed "
                 "from every key that has one, and keys without it stay as they are.",
                 "The mask buffers `h.{i}.attn.bias` and `h.{i}.attn.masked_bias` are left out;",
                 "every other key is kept, `h.{i}.attn.c_attn.bias` included.", "The values are unchanged.",
                 "Two keys that become the same name (`wte.weight` and `transformer.wte.weight`) raise `ValueError` "
                 "naming it"])
def normalize_random(t, rng):
    out = []
    for prefix in (True, False):
        dims = random_dims(rng, layers=2, tied=prefix)
        state = random_checkpoint(rng, dims, prefix=prefix, buffers=True, lm_head=True)
        out.append(normalize_report(t.normalize_keys(state), state))
    # half the keys prefixed: a file saved by hand from a mix of models
    state = random_checkpoint(rng, random_dims(rng), buffers=rng.coin())
    mixed = {("transformer." + key if rng.coin() else key): value for key, value in state.items()}
    out.append(normalize_report(t.normalize_keys(mixed), mixed))
    twice = dict(random_checkpoint(rng, random_dims(rng), prefix=True))
    key = rng.choice(sorted(twice))
    plain = key.removeprefix("transformer.")
    twice[plain] = twice[key].clone()
    out.append(error_case(f"both {key} and {plain}", t.normalize_keys, twice, names=[plain]))
    return out


def shapes_report(shapes) -> dict:
    """The learner's table, and whether every shape is a tuple of ints."""
    tuples = isinstance(shapes, dict) and all(
        isinstance(s, tuple) and all(isinstance(n, int) and not isinstance(n, bool) for n in s)
        for s in shapes.values())
    return {"shapes": layout_of(shapes), "tuples of ints": tuples}


@check("gpt2_shapes on random configs: tied and untied, with and without qkv biases, 1-4 blocks",
       promises=["a dict from every key that a GPT-2 checkpoint for `config` holds (plain names, no mask buffers) "
                 "to its shape as a tuple of ints, in Hugging Face's layout",
                 "`wte.weight` `(V, d)` and `wpe.weight` `(C, d)`;",
                 "for each block `i` in `0..num_layers-1`, `h.{i}.ln_1.weight`",
                 "`h.{i}.attn.c_attn.bias` `(3d,)` only with `config.qkv_bias`",
                 "`ln_f.weight` and `ln_f.bias` `(d,)`;",
                 "and `lm_head.weight` `(V, d)` only without `config.tie_weights`.", "Nothing else"])
def shapes_random(t, rng):
    out = []
    for tied, qkv_bias in ((True, True), (False, False), (rng.coin(), rng.coin())):
        dims = random_dims(rng, layers=rng.integer(1, 4), tied=tied, qkv_bias=qkv_bias)
        out.append(shapes_report(t.gpt2_shapes(dims.gpt_config())))
    return out


@check("split_qkv: weights (d, 3d) and biases (3d,) of random widths; a width 3 does not divide raises ValueError "
       "naming it",
       promises=["`fused` is `c_attn`'s weight `(d, 3d)` or its bias `(3d,)`.",
                 "Returns the tuple `(query, key, value)`: the first, second and third `d` entries along the "
                 "**last** dimension, of shape `(d, d)` (still Conv1D layout, `(in, out)`) or `(d,)`.",
                 "A last dimension that 3 does not divide raises `ValueError` naming it"])
def split_random(t, rng):
    out = []
    for d in (rng.integer(1, 4), rng.integer(5, 20)):
        parts = t.split_qkv(rng.randn(d, 3 * d))
        out.append({"is a tuple": isinstance(parts, tuple), "parts": list(parts)})
        out.append({"parts": list(t.split_qkv(rng.randn(3 * d)))})
    width = 3 * rng.integer(1, 20) + rng.choice([1, 2])
    out.append(error_case(f"split_qkv of a ({width // 3}, {width}) weight", t.split_qkv, rng.randn(width // 3, width),
                          names=[str(width)]))
    out.append(error_case(f"split_qkv of a ({width},) bias", t.split_qkv, rng.randn(width), names=[str(width)]))
    return out


@check("convert_state_dict on random checkpoints: tied with prefix, mask buffers and a redundant lm_head.weight; "
       "untied without prefix; no qkv biases; 2-3 blocks",
       promises=["GPT-2's tensors under `GPTModel(config)`'s parameter names.",
                 "The keys first go through `normalize_keys`;",
                 "with `config.tie_weights` an `lm_head.weight` is dropped (it is `wte.weight`).",
                 "The result's keys are exactly the names that `GPTModel(config).named_parameters()` yields",
                 "untied: `out_head.weight` is `lm_head.weight` as stored).",
                 "The Conv1D weights are transposed: the query, key and value parts of `h.{i}.attn.c_attn.weight`",
                 "Every other tensor keeps its values and its shape: the parts of `h.{i}.attn.c_attn.bias` become"])
def convert_random(t, rng):
    out = []
    for tied, prefix, qkv_bias in ((True, True, True), (False, False, True), (rng.coin(), rng.coin(), False)):
        dims = random_dims(rng, layers=rng.integer(2, 3), tied=tied, qkv_bias=qkv_bias)
        state = random_checkpoint(rng, dims, prefix=prefix, buffers=prefix, lm_head=True)
        out.append(t.convert_state_dict(state, dims.gpt_config()))
    return out


def drop_prefix(key: str) -> str:
    return key.removeprefix("transformer.")


@check("convert_state_dict errors: a random key missing; lm_head.weight missing when untied; a Conv1D weight stored "
       "the nn.Linear way; a random tensor with one size changed; an unknown key; an extra block",
       promises=["The remaining keys must then be exactly those of `gpt2_shapes(config)`, each with its shape:",
                 "an unknown key raises `ValueError` naming it;", "a missing key raises `ValueError` naming it;",
                 "a tensor of the wrong shape raises `ValueError` naming the key, the shape found and the shape "
                 "expected."])
def convert_errors_random(t, rng):
    cases = []
    dims = random_dims(rng, layers=2)
    config = dims.gpt_config()

    def fresh(**layout):
        return random_checkpoint(rng, dims, **layout)

    state = fresh(prefix=rng.coin())
    key = rng.choice(sorted(state))
    del state[key]
    cases.append(error_case(f"missing {drop_prefix(key)}", t.convert_state_dict, state, config,
                            names=[drop_prefix(key)]))
    untied = Dims(dims.vocab, dims.context, dims.d, dims.heads, dims.layers, tied=False)
    state = random_checkpoint(rng, untied)
    del state["lm_head.weight"]
    cases.append(error_case("untied, missing lm_head.weight", t.convert_state_dict, state, untied.gpt_config(),
                            names=["lm_head.weight"]))

    state = fresh()
    layer = rng.choice(["mlp.c_fc.weight", "mlp.c_proj.weight"])  # (d, 4d) / (4d, d): a transpose changes the shape
    key = f"h.{rng.integer(0, 1)}.{layer}"
    state[key] = state[key].T
    cases.append(error_case(f"{key} stored as (out, in)", t.convert_state_dict, state, config,
                            names=shape_names(key, tuple(state[key].shape), hf_layout(dims)[key])))

    state = fresh(prefix=True)
    key = rng.choice(sorted(state))
    shape = list(state[key].shape)
    axis = rng.integer(0, len(shape) - 1)
    shape[axis] += rng.integer(1, 3)
    state[key] = rng.randn(*shape)
    cases.append(error_case(f"{drop_prefix(key)} of shape {tuple(shape)}", t.convert_state_dict, state, config,
                            names=shape_names(drop_prefix(key), tuple(shape), hf_layout(dims)[drop_prefix(key)])))

    state = fresh()
    unknown = rng.choice(["h.0.attn.rotary_emb.inv_freq", "score.weight", "h.1.mlp.c_gate.weight", "ln_g.weight"])
    state[unknown] = rng.randn(dims.d)
    cases.append(error_case(f"unknown key {unknown}", t.convert_state_dict, state, config, names=[unknown]))

    state = fresh()
    extra = f"h.{dims.layers}.ln_1.weight"  # one block more than the config has
    state[extra] = rng.randn(dims.d)
    cases.append(error_case(f"unknown key {extra}", t.convert_state_dict, state, config, names=[extra]))
    return cases


@check("load_gpt2 on random checkpoint folders (str and Path): tied with prefix, buffers and lm_head; untied without; "
       "a random dropout; logits of the reference at full and shorter lengths; eval mode, trainable, random state kept",
       promises=["`folder` (a `str` or a `Path`) holds `config.json` and `model.safetensors`.",
                 "Returns your topic-18 `GPTModel(config_from_hf(config, dropout))` holding the checkpoint's values:",
                 "The model is in eval mode and every parameter is trainable (`requires_grad`).",
                 "Torch's global random state after the call is what it was before"])
def load_random(t, rng):
    dims = random_dims(rng, layers=2)
    seqs = [dims.context, rng.integer(1, dims.context - 1)]
    out = [load_probe(t, rng, dims, dropout=rng.choice([0.1, 0.4]), as_path=True, seqs=seqs, prefix=True,
                      buffers=True, lm_head=True)]
    dims = random_dims(rng, tied=False)
    out.append(load_probe(t, rng, dims, dropout=rng.choice([0.0, 0.2]), seqs=[dims.context]))
    return out


@check("load_gpt2 on a float16 file: the parameters have the default dtype and the logits of the reference",
       promises=["Its parameters have PyTorch's default dtype (float32 unless you changed it), whatever the file's "
                 "dtype."])
def load_half_random(t, rng):
    dims = random_dims(rng, tied=rng.coin())
    state = {key: value.half() for key, value in random_checkpoint(rng, dims, prefix=rng.coin()).items()}
    with tempfile.TemporaryDirectory() as tmp:
        model = t.load_gpt2(write_checkpoint(Path(tmp) / "gpt2", dims.config_json(), state))
    report = model_report(model, rng, dims, [dims.context])
    report["default dtype"] = all(p.dtype == torch.get_default_dtype() for p in model.parameters())
    return report


@check("load_gpt2 errors: no config.json, no model.safetensors (a pytorch_model.bin instead), a checkpoint with a "
       "wrong shape and one with an unknown key",
       promises=["A missing `config.json` or `model.safetensors` raises `FileNotFoundError` naming the missing file;",
                 "a checkpoint that does not fit raises `convert_state_dict`'s `ValueError`"])
def load_errors_random(t, rng):
    dims = random_dims(rng)
    state = random_checkpoint(rng, dims, prefix=rng.coin())
    cases = [load_error_case(t, "a folder without config.json", None, state, names=["config.json"]),
             load_error_case(t, "a folder without model.safetensors", dims.config_json(), None,
                             names=["model.safetensors"])]
    with tempfile.TemporaryDirectory() as tmp:  # a pickled checkpoint is never read
        folder = write_checkpoint(Path(tmp) / "gpt2", dims.config_json(), None)
        (folder / "pytorch_model.bin").write_bytes(b"not read")
        cases.append(error_case("only pytorch_model.bin", t.load_gpt2, folder, names=["model.safetensors"]))
    wrong = dict(state)
    key = rng.choice([k for k in sorted(wrong) if k.endswith("wpe.weight") or k.endswith("c_fc.bias")])
    shape = list(wrong[key].shape)
    shape[0] += 1
    wrong[key] = rng.randn(*shape)
    cases.append(load_error_case(t, f"{drop_prefix(key)} of shape {tuple(shape)}", dims.config_json(), wrong,
                                 names=[drop_prefix(key)]))
    unknown = dict(state)
    unknown["h.0.attn.q_norm.weight"] = rng.randn(dims.d)
    cases.append(load_error_case(t, "unknown key h.0.attn.q_norm.weight", dims.config_json(), unknown,
                                 names=["h.0.attn.q_norm.weight"]))
    return cases

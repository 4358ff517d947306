"""Topic 26 - loading OpenAI's GPT-2 weights into your own GPTModel.

A checkpoint is two things: a config (the numbers that shape the model) and a
flat table of named tensors. Loading one into a model written by someone else
is therefore a *translation*: rename every tensor, and reshape it where the two
codebases store the same layer differently. Nothing is learned or computed.

Hugging Face publishes GPT-2 as ``config.json`` plus ``model.safetensors``
(a JSON header of names, dtypes and shapes, then raw bytes: unlike a pickled
``.bin`` file, reading it can never run code). Its names follow OpenAI's code
(``wte``, ``h.0.attn.c_attn`` ...), and three habits differ from ours:

* **Conv1D.** GPT-2 stores every linear layer of a block as a ``Conv1D`` whose
  weight is ``(in_features, out_features)``: the transpose of ``nn.Linear``'s
  ``(out_features, in_features)``. Each such weight is transposed on the way in.
  For a square ``d x d`` matrix the shapes cannot tell whether this was done,
  only the values can.
* **A fused attention projection.** ``c_attn`` computes query, key and value
  in one layer of width ``3 * d_model``; its output columns are q | k | v, in
  that order. It is split into our three ``W_query``, ``W_key``, ``W_value``.
* **Names around the weights.** A ``GPT2LMHeadModel`` prefixes its keys with
  ``transformer.`` (the hub's own file for ``gpt2`` does not); older files carry
  the causal-mask buffers ``h.{i}.attn.bias`` / ``h.{i}.attn.masked_bias``,
  which are not weights; and ``lm_head.weight`` is the token table itself
  (tied), so there is nothing to load for our ``out_head``.

A loader that silently skips what it does not recognise produces a model that
runs and talks nonsense. So every key must be used, every expected key must be
there, every shape must fit, and a mismatch stops with an error naming the key.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from safetensors.torch import load_file

from course.t13_gpt_config import GPTConfig  # your topic 13
from course.t18_gpt_model import GPTModel  # your topic 18

PREFIX = "transformer."  # GPT2LMHeadModel's name for its GPT2Model part
MASK_BUFFERS = ("attn.bias", "attn.masked_bias")  # in block h.{i}: Hugging Face's causal masks, not weights
TANH_GELUS = ("gelu_new", "gelu_pytorch_tanh")  # Hugging Face's names for GPT-2's tanh GELU (topic 15)
LAYER_NORM_EPS = 1e-5  # what topic 14's LayerNorm uses inside GPTModel
CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
# config.json key -> GPTConfig field
CONFIG_KEYS = {"vocab_size": "vocab_size", "n_positions": "context_length", "n_embd": "d_model",
               "n_head": "num_heads", "n_layer": "num_layers"}


def config_from_hf(hf_config: dict, dropout: float = 0.0) -> GPTConfig:
    """A topic-13 ``GPTConfig`` from a Hugging Face GPT-2 ``config.json`` (as a dict).

    ``vocab_size``, ``n_positions``, ``n_embd``, ``n_head`` and ``n_layer`` give
    ``vocab_size``, ``context_length``, ``d_model``, ``num_heads`` and ``num_layers``
    (a file without ``n_positions`` gives ``n_ctx``, as GPT-2's first files did);
    ``qkv_bias=True``; ``tie_weights`` from ``tie_word_embeddings`` (``True`` when
    absent); ``dropout`` is the argument (the file's ``*_pdrop`` rates are ignored).
    Every other key is ignored, except two that ``GPTModel`` cannot follow:
    ``activation_function`` must be a tanh GELU (:data:`TANH_GELUS`, the default
    when absent) and ``layer_norm_epsilon`` 1e-5 (the default). A missing size key or
    a value GPTModel cannot follow -> ``ValueError`` naming the key.
    """
    ### BEGIN SOLUTION
    values = dict(hf_config)
    if "n_positions" not in values and "n_ctx" in values:  # GPT-2's first config files
        values["n_positions"] = values["n_ctx"]
    for key in CONFIG_KEYS:
        if key not in values:
            raise ValueError(f"the GPT-2 config has no {key!r}: it is needed for the model's shape")
    activation = values.get("activation_function", "gelu_new")
    if activation not in TANH_GELUS:
        raise ValueError(f"activation_function={activation!r}: GPTModel computes the tanh GELU "
                         f"({' or '.join(TANH_GELUS)}) only")
    eps = values.get("layer_norm_epsilon", LAYER_NORM_EPS)
    if not math.isclose(eps, LAYER_NORM_EPS, rel_tol=1e-6):
        raise ValueError(f"layer_norm_epsilon={eps!r}: GPTModel's LayerNorm uses {LAYER_NORM_EPS}")
    sizes = {ours: values[theirs] for theirs, ours in CONFIG_KEYS.items()}
    return GPTConfig(**sizes, dropout=dropout, qkv_bias=True,
                     tie_weights=bool(values.get("tie_word_embeddings", True)))
    ### END SOLUTION


def normalize_keys(hf_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors under GPT2Model's own names, without the mask buffers.

    A leading ``transformer.`` is removed from every key that has one (keys
    without it, such as the hub's ``gpt2`` file, stay as they are); the buffers
    ``h.{i}.attn.bias`` and ``h.{i}.attn.masked_bias`` are left out (our attention
    builds its mask from ``context_length``; ``h.{i}.attn.c_attn.bias`` is a weight
    and stays). The values are unchanged. Two keys that are
    the same once the prefix is removed -> ``ValueError`` naming the key.
    """
    ### BEGIN SOLUTION
    renamed: dict[str, torch.Tensor] = {}
    for key, value in hf_state.items():  # the file's order, whatever it is
        name = key.removeprefix(PREFIX)
        parts = name.split(".", 2)  # "h", block index, the rest
        if parts[0] == "h" and len(parts) == 3 and parts[2] in MASK_BUFFERS:
            continue
        if name in renamed:
            raise ValueError(f"the checkpoint holds {name!r} twice, with and without the prefix {PREFIX!r}")
        renamed[name] = value
    return renamed
    ### END SOLUTION


def gpt2_shapes(config: GPTConfig) -> dict[str, tuple[int, ...]]:
    """Every key a GPT-2 checkpoint for ``config`` holds (after :func:`normalize_keys`), with its shape.

    Hugging Face's layout: ``wte.weight`` ``(V, d)``, ``wpe.weight`` ``(C, d)``, per
    block ``h.{i}.``: ``ln_1`` / ``ln_2`` weight and bias ``(d,)``,
    ``attn.c_attn.weight`` ``(d, 3d)`` and, with ``qkv_bias``, ``attn.c_attn.bias``
    ``(3d,)``, ``attn.c_proj.weight`` ``(d, d)`` and bias ``(d,)``, ``mlp.c_fc.weight``
    ``(d, 4d)`` and bias ``(4d,)``, ``mlp.c_proj.weight`` ``(4d, d)`` and bias ``(d,)``
    (Conv1D weights are ``(in, out)``); ``ln_f`` weight and bias ``(d,)``; and
    ``lm_head.weight`` ``(V, d)`` only without ``tie_weights``. Shapes are tuples of ints.
    """
    ### BEGIN SOLUTION
    v, c, d = config.vocab_size, config.context_length, config.d_model
    shapes: dict[str, tuple[int, ...]] = {"wte.weight": (v, d), "wpe.weight": (c, d)}
    for i in range(config.num_layers):  # block i's keys all start with h.{i}.
        h = f"h.{i}."
        shapes[h + "ln_1.weight"] = shapes[h + "ln_1.bias"] = (d,)
        shapes[h + "attn.c_attn.weight"] = (d, 3 * d)       # Conv1D: (in, out), out = q | k | v
        if config.qkv_bias:
            shapes[h + "attn.c_attn.bias"] = (3 * d,)
        shapes[h + "attn.c_proj.weight"], shapes[h + "attn.c_proj.bias"] = (d, d), (d,)
        shapes[h + "ln_2.weight"] = shapes[h + "ln_2.bias"] = (d,)
        shapes[h + "mlp.c_fc.weight"], shapes[h + "mlp.c_fc.bias"] = (d, 4 * d), (4 * d,)
        shapes[h + "mlp.c_proj.weight"], shapes[h + "mlp.c_proj.bias"] = (4 * d, d), (d,)
    shapes["ln_f.weight"] = shapes["ln_f.bias"] = (d,)
    if not config.tie_weights:  # an untied head is stored on its own, nn.Linear layout
        shapes["lm_head.weight"] = (v, d)
    return shapes
    ### END SOLUTION


def split_qkv(fused: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split ``c_attn``'s weight ``(d, 3d)`` or bias ``(3d,)`` into its query, key and value parts.

    The output features are the *last* dimension in Conv1D layout, for the weight
    and the bias alike: the first third is the query, then the key, then the value.
    Returns three tensors of shape ``(d, d)`` (still Conv1D layout: ``(in, out)``) or
    ``(d,)``. A last dimension that 3 does not divide -> ``ValueError`` naming it.
    """
    ### BEGIN SOLUTION
    width = fused.shape[-1]
    if width % 3 != 0:
        raise ValueError(f"c_attn's last dimension is {width}, which 3 does not divide into q, k and v")
    query, key, value = torch.split(fused, width // 3, dim=-1)
    return query, key, value
    ### END SOLUTION


def convert_state_dict(hf_state: dict[str, torch.Tensor], config: GPTConfig) -> dict[str, torch.Tensor]:
    """A GPT-2 checkpoint's tensors under ``GPTModel(config)``'s parameter names (topic 18's table).

    Keys go through :func:`normalize_keys`; with ``tie_weights`` an ``lm_head.weight``
    is dropped (it is ``wte.weight``). Then the keys must be exactly those of
    :func:`gpt2_shapes`, each with its shape: an unknown key, a missing key or a
    wrong shape -> ``ValueError`` naming the key (for a shape: the shape found and
    the one expected), before anything is converted. The result's keys are exactly
    ``GPTModel(config).named_parameters()``'s names; Conv1D weights (``c_attn``'s
    three parts, ``c_proj``, ``c_fc``) are transposed, everything else is as stored.
    """
    ### BEGIN SOLUTION
    state = normalize_keys(hf_state)
    if config.tie_weights:
        state.pop("lm_head.weight", None)  # the head is the token table itself: nothing of its own to load
    expected = gpt2_shapes(config)
    for key in state:
        if key not in expected:
            raise ValueError(f"unexpected key {key!r} in the GPT-2 checkpoint: no parameter takes it")
    for key, shape in expected.items():  # every expected key, each with its shape
        if key not in state:
            raise ValueError(f"missing key {key!r} in the GPT-2 checkpoint")
        if tuple(state[key].shape) != shape:
            raise ValueError(f"{key!r} has shape {tuple(state[key].shape)} in the checkpoint, "
                             f"expected {shape} for this config")

    out = {"embedding.tok_emb.weight": state["wte.weight"],
           "embedding.pos_emb.table.weight": state["wpe.weight"],
           "final_norm.weight": state["ln_f.weight"], "final_norm.bias": state["ln_f.bias"]}
    for i in range(config.num_layers):  # GPT-2's block h.{i} is our blocks.{i}
        h, b = f"h.{i}.", f"blocks.{i}."
        as_stored = {"ln_1.weight": "norm1.weight", "ln_1.bias": "norm1.bias",
                     "ln_2.weight": "norm2.weight", "ln_2.bias": "norm2.bias",
                     "attn.c_proj.bias": "attn.out_proj.bias",
                     "mlp.c_fc.bias": "ff.fc.bias", "mlp.c_proj.bias": "ff.proj.bias"}
        transposed = {"attn.c_proj.weight": "attn.out_proj.weight",
                      "mlp.c_fc.weight": "ff.fc.weight", "mlp.c_proj.weight": "ff.proj.weight"}
        for theirs, ours in as_stored.items():
            out[b + ours] = state[h + theirs]
        for theirs, ours in transposed.items():
            out[b + ours] = state[h + theirs].T  # Conv1D (in, out) -> nn.Linear (out, in)
        projections = ("attn.W_query", "attn.W_key", "attn.W_value")
        for ours, part in zip(projections, split_qkv(state[h + "attn.c_attn.weight"])):
            out[f"{b}{ours}.weight"] = part.T
        if config.qkv_bias:
            for ours, part in zip(projections, split_qkv(state[h + "attn.c_attn.bias"])):
                out[f"{b}{ours}.bias"] = part
    if not config.tie_weights:  # an untied head: lm_head is in nn.Linear layout already, (vocab, d)
        out["out_head.weight"] = state["lm_head.weight"]
    return out
    ### END SOLUTION


def load_gpt2(folder: str | Path, dropout: float = 0.0) -> GPTModel:
    """Your ``GPTModel`` holding the GPT-2 checkpoint in ``folder`` (``config.json`` + ``model.safetensors``).

    The config through :func:`config_from_hf` (with ``dropout``), the tensors read
    with ``safetensors.torch.load_file`` (never a pickle) and converted by
    :func:`convert_state_dict`, then copied into a fresh ``GPTModel(config)`` by
    parameter name (in PyTorch's default dtype, float32 unless changed). Returned in
    eval mode, parameters trainable. Torch's global random state is as it was
    before the call (building the model draws an initialization that is then
    overwritten). A missing file -> ``FileNotFoundError`` naming it; a mismatch ->
    :func:`convert_state_dict`'s ``ValueError``.
    """
    ### BEGIN SOLUTION
    folder = Path(folder)
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"no {name} in {folder}: a GPT-2 folder holds {CONFIG_FILE} and {WEIGHTS_FILE}")
    config = config_from_hf(json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")), dropout)
    state = convert_state_dict(load_file(folder / WEIGHTS_FILE), config)  # checked before a model is built
    with torch.random.fork_rng(devices=[]):  # the throw-away init must not move the caller's random stream
        model = GPTModel(config)
    params = dict(model.named_parameters())  # a tied weight appears once, under the embedding's name
    with torch.no_grad():
        for name, value in state.items():  # by name: the order the modules were built in never matters
            params[name].copy_(value)  # casts to the model's dtype
    return model.eval()
    ### END SOLUTION

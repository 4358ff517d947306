"""Public checks for topic 26 - loading OpenAI GPT-2 weights.

No download and no ``transformers`` inside a probe: each check writes a small
GPT-2 checkpoint of random values in Hugging Face's layout (Conv1D weights
``(in, out)``, a fused ``c_attn``, optional ``transformer.`` prefix, mask
buffers) to a temporary folder, and the learner's loader reads it back. Random
values everywhere, so a square ``d x d`` weight loaded without its transpose
changes the logits although every shape fits. The helpers here are reused by
the hidden checks of this topic.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file

from checks.t18_gpt_model import gpt_config
from llmkit.checks import check
from llmkit.probing import Rng, error_case

# ----------------------------------------------------------------------------- config.json files

# The fields of a GPTConfig, in order: what a probe reports about a config.
CONFIG_FIELDS = ("vocab_size", "context_length", "d_model", "num_heads", "num_layers", "dropout", "qkv_bias",
                 "tie_weights")

# The four published sizes as their config.json files on the Hugging Face hub give them (n_embd, n_head, n_layer)
PUBLISHED = {"gpt2": (768, 12, 12), "gpt2-medium": (1024, 16, 24), "gpt2-large": (1280, 20, 36),
             "gpt2-xl": (1600, 25, 48)}


def hf_config(vocab: int, context: int, d: int, heads: int, layers: int, **changes) -> dict:
    """A GPT-2 ``config.json`` as a dict, with the keys a real one has (``changes`` override or add keys;
    a value ``None`` in ``changes`` removes that key)."""
    config = {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
              "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
              "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": context, "n_embd": d, "n_head": heads,
              "n_inner": None, "n_layer": layers, "n_positions": context, "resid_pdrop": 0.1,
              "summary_first_dropout": 0.1, "summary_type": "cls_index", "tie_word_embeddings": True,
              "vocab_size": vocab}
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


def published_config(repo: str) -> dict:
    """The config.json of a published GPT-2 (vocabulary 50,257, 1,024 positions)."""
    d, heads, layers = PUBLISHED[repo]
    return hf_config(50257, 1024, d, heads, layers, tie_word_embeddings=None)


def config_fields(config) -> dict:
    """A GPTConfig as plain values (a missing field reads as ``None``)."""
    return {name: getattr(config, name, None) for name in CONFIG_FIELDS}


# ----------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Dims:
    """The sizes of a small GPT-2 checkpoint."""

    vocab: int
    context: int
    d: int
    heads: int
    layers: int
    qkv_bias: bool = True
    tied: bool = True

    def config_json(self, **changes) -> dict:
        changes.setdefault("tie_word_embeddings", self.tied)
        return hf_config(self.vocab, self.context, self.d, self.heads, self.layers, **changes)

    def gpt_config(self, dropout: float = 0.0):
        """The topic-13 GPTConfig these sizes describe."""
        return gpt_config(self.vocab, self.context, self.d, self.heads, self.layers, dropout, self.qkv_bias,
                          self.tied)


def random_dims(rng: Rng, *, layers: int | None = None, qkv_bias: bool = True, tied: bool = True) -> Dims:
    """Vocabulary 20-60, 4-8 positions, 1-3 heads, d_model 6-12, 1-2 blocks (unless ``layers`` is given)."""
    heads = rng.integer(1, 3)
    width = rng.integer(-(-6 // heads), 12 // heads)
    return Dims(rng.integer(20, 60), rng.integer(4, 8), heads * width, heads,
                rng.integer(1, 2) if layers is None else layers, qkv_bias, tied)


def hf_layout(dims: Dims) -> dict[str, tuple[int, ...]]:
    """GPT-2's keys and shapes in Hugging Face's layout (Conv1D weights are (in, out)), unprefixed."""
    d, wide = dims.d, 4 * dims.d
    per_block = [("ln_1", ((d,), (d,))), ("attn.c_attn", ((d, 3 * d), (3 * d,) if dims.qkv_bias else None)),
                 ("attn.c_proj", ((d, d), (d,))), ("ln_2", ((d,), (d,))), ("mlp.c_fc", ((d, wide), (wide,))),
                 ("mlp.c_proj", ((wide, d), (d,)))]
    layout = {"wte.weight": (dims.vocab, d), "wpe.weight": (dims.context, d)}
    for i in range(dims.layers):
        for layer, (weight, bias) in per_block:
            layout[f"h.{i}.{layer}.weight"] = weight
            if bias is not None:
                layout[f"h.{i}.{layer}.bias"] = bias
    layout |= {"ln_f.weight": (d,), "ln_f.bias": (d,)}
    if not dims.tied:
        layout["lm_head.weight"] = (dims.vocab, d)
    return layout


def random_checkpoint(rng: Rng, dims: Dims, *, prefix: bool = False, buffers: bool = False,
                      lm_head: bool = False) -> dict[str, torch.Tensor]:
    """Random GPT-2 tensors by Hugging Face key: tables N(0, 1), matrices N(0, 1/fan_in), vectors N(0, 0.5^2).

    ``prefix``: every key but ``lm_head.weight`` starts with ``transformer.`` (as ``GPT2LMHeadModel``
    saves them); ``buffers``: each block also holds ``attn.bias`` (the causal mask, (1, 1, C, C)) and
    ``attn.masked_bias`` (a scalar), as older files do; ``lm_head``: a tied file also holds
    ``lm_head.weight``, a copy of ``wte.weight``.
    """
    state = {}
    for key, shape in hf_layout(dims).items():
        if key in ("wte.weight", "wpe.weight"):
            scale = 1.0
        elif len(shape) == 2:  # Conv1D (in, out), or lm_head (vocab, d): fan_in is d or the first axis
            scale = (dims.d if key == "lm_head.weight" else shape[0]) ** -0.5
        else:
            scale = 0.5
        state[key] = rng.randn(*shape, scale=scale)
    if lm_head and dims.tied:
        state["lm_head.weight"] = state["wte.weight"].clone()
    if buffers:
        for i in range(dims.layers):
            state[f"h.{i}.attn.bias"] = torch.tril(torch.ones(dims.context, dims.context)).view(
                1, 1, dims.context, dims.context)
            state[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    if prefix:
        state = {key if key == "lm_head.weight" else "transformer." + key: value for key, value in state.items()}
    order = rng.sample(sorted(state), len(state))  # no loader may depend on the order of the keys
    return {key: state[key] for key in order}


def write_checkpoint(folder: Path, config: dict | None, state: dict[str, torch.Tensor] | None) -> Path:
    """``config.json`` and ``model.safetensors`` in ``folder`` (``None``: that file is not written)."""
    folder.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    if state is not None:
        save_file({key: value.contiguous() for key, value in state.items()}, str(folder / "model.safetensors"))
    return folder


# ----------------------------------------------------------------------------- probes


def model_report(model, rng: Rng, dims: Dims, seqs: list[int]) -> dict:
    """What a loaded model is: its config, its modes and its logits on random ids of each length in ``seqs``."""
    out = {"config": config_fields(getattr(model, "config", None)),
           "eval mode everywhere": not any(m.training for m in model.modules()),
           "every parameter trainable": all(p.requires_grad for p in model.parameters())}
    with torch.no_grad():
        out["logits"] = [model(rng.randint(0, dims.vocab, (rng.integer(1, 2), seq))) for seq in seqs]
    return out


def load_probe(t, rng: Rng, dims: Dims, *, dropout: float = 0.0, as_path: bool = False, seqs: list[int] | None = None,
               **layout) -> dict:
    """Write a random checkpoint of ``dims`` (``layout``: ``random_checkpoint``'s switches), load it with
    ``load_gpt2`` and report the model; also whether torch's global random state moved."""
    state = random_checkpoint(rng, dims, **layout)
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_checkpoint(Path(tmp) / "gpt2", dims.config_json(), state)
        before = torch.random.get_rng_state()
        model = t.load_gpt2(folder if as_path else str(folder), dropout=dropout)
        unchanged = torch.equal(before, torch.random.get_rng_state())
    report = model_report(model, rng, dims, seqs or [dims.context])
    report["global random state unchanged"] = unchanged
    return report


def load_error_case(t, label: str, config: dict | None, state: dict | None, names: list[str]) -> dict:
    """What ``load_gpt2`` raises on a folder holding ``config`` and ``state`` (``None``: file absent)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_checkpoint(Path(tmp) / "gpt2", config, state)
        return error_case(label, t.load_gpt2, str(folder), names=names)


def normalize_report(normalized, state: dict[str, torch.Tensor]) -> dict:
    """The keys ``normalize_keys`` kept, and whether each value is the one stored under the original key."""
    if not isinstance(normalized, dict):
        return {"type": type(normalized).__name__}
    originals = {key.removeprefix("transformer."): value for key, value in state.items()}
    unchanged = all(key in originals and isinstance(value, torch.Tensor) and value.shape == originals[key].shape
                    and torch.equal(value, originals[key]) for key, value in normalized.items())
    return {"keys": sorted(normalized), "values unchanged": unchanged}


def shape_names(key: str, found: tuple[int, ...], expected: tuple[int, ...]) -> list[str]:
    """What a wrong-shape message must name: the key and every number of both shapes."""
    return [key, *dict.fromkeys(str(n) for n in (*found, *expected))]


def layout_of(shapes) -> dict:
    """A shape table as plain data: {key: [ints]} (a learner may return tuples or torch.Size)."""
    if not isinstance(shapes, dict):
        return shapes
    return {key: [int(n) for n in shape] if isinstance(shape, (tuple, list, torch.Size)) else shape
            for key, shape in shapes.items()}


# ----------------------------------------------------------------------------- public checks


@check("config_from_hf on the four published GPT-2 config.json files (and with dropout=0.1)")
def published_configs(t, rng):
    out = [config_fields(t.config_from_hf(published_config(repo))) for repo in PUBLISHED]
    out.append(config_fields(t.config_from_hf(published_config("gpt2"), dropout=0.1)))
    return out


@check("normalize_keys removes the transformer. prefix and the attn.bias / attn.masked_bias buffers")
def normalized_keys(t, rng):
    state = random_checkpoint(rng, Dims(30, 5, 8, 2, 2), prefix=True, buffers=True)
    return normalize_report(t.normalize_keys(state), state)


@check("gpt2_shapes: every key of a small GPT-2 checkpoint with its Conv1D shape, tied and untied")
def checkpoint_shapes(t, rng):
    return [layout_of(t.gpt2_shapes(Dims(30, 5, 8, 2, 2, tied=tied).gpt_config())) for tied in (True, False)]


@check("split_qkv splits c_attn's weight (d, 3d) and bias (3d,) into query, key and value")
def split_c_attn(t, rng):
    return [list(t.split_qkv(rng.randn(6, 18))), list(t.split_qkv(rng.randn(18)))]


@check("convert_state_dict: a random checkpoint under GPTModel's parameter names (Conv1D weights transposed)")
def converted_state(t, rng):
    dims = Dims(20, 4, 6, 2, 1)
    return t.convert_state_dict(random_checkpoint(rng, dims, prefix=True, buffers=True), dims.gpt_config())


@check("load_gpt2 on a random checkpoint folder: the logits of the reference, eval mode, tied head")
def loaded_logits(t, rng):
    return load_probe(t, rng, Dims(30, 6, 8, 2, 2), prefix=True, buffers=True)


@check("load_gpt2, untied head and keys without the prefix: the logits of the reference")
def loaded_untied(t, rng):
    return load_probe(t, rng, Dims(30, 6, 9, 3, 1, tied=False), dropout=0.1)


@check("a missing key, a wrong shape and an unknown key each raise ValueError naming the key")
def mismatch_errors(t, rng):
    dims = Dims(30, 5, 8, 2, 2)
    config = dims.gpt_config()
    missing = random_checkpoint(rng, dims)
    del missing["h.1.mlp.c_proj.bias"]
    wrong = random_checkpoint(rng, dims)
    wrong["h.0.mlp.c_fc.weight"] = wrong["h.0.mlp.c_fc.weight"].T  # stored the nn.Linear way: (32, 8)
    unknown = random_checkpoint(rng, dims, prefix=True)
    unknown["transformer.h.0.attn.rotary"] = rng.randn(8)
    return [error_case("missing h.1.mlp.c_proj.bias", t.convert_state_dict, missing, config,
                       names=["h.1.mlp.c_proj.bias"]),
            error_case("h.0.mlp.c_fc.weight of shape (32, 8)", t.convert_state_dict, wrong, config,
                       names=shape_names("h.0.mlp.c_fc.weight", (32, 8), (8, 32))),
            error_case("unknown key h.0.attn.rotary", t.convert_state_dict, unknown, config,
                       names=["h.0.attn.rotary"])]

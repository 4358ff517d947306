"""A correct GPT-2 loader written from the README alone, differently from the reference."""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from safetensors import safe_open

from course.t13_gpt_config import GPTConfig
from course.t18_gpt_model import GPTModel

PREFIX = "transformer."
MASK_BUFFERS = ("attn.bias", "attn.masked_bias")
TANH_GELUS = ("gelu_new", "gelu_pytorch_tanh")
LAYER_NORM_EPS = 1e-5
CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
CONFIG_KEYS = {"vocab_size": "vocab_size", "n_positions": "context_length", "n_embd": "d_model",
               "n_head": "num_heads", "n_layer": "num_layers"}

_BUFFER = re.compile(r"h\.\d+\.attn\.(?:masked_)?bias")
_BLOCK = re.compile(r"h\.(\d+)\.(.+)")
# GPT-2 name inside a block -> (our name inside a block, is a Conv1D weight)
_RENAME = {"ln_1.weight": ("norm1.weight", False), "ln_1.bias": ("norm1.bias", False),
           "ln_2.weight": ("norm2.weight", False), "ln_2.bias": ("norm2.bias", False),
           "attn.c_proj.weight": ("attn.out_proj.weight", True), "attn.c_proj.bias": ("attn.out_proj.bias", False),
           "mlp.c_fc.weight": ("ff.fc.weight", True), "mlp.c_fc.bias": ("ff.fc.bias", False),
           "mlp.c_proj.weight": ("ff.proj.weight", True), "mlp.c_proj.bias": ("ff.proj.bias", False)}
_TOP = {"wte.weight": "embedding.tok_emb.weight", "wpe.weight": "embedding.pos_emb.table.weight",
        "ln_f.weight": "final_norm.weight", "ln_f.bias": "final_norm.bias", "lm_head.weight": "out_head.weight"}


def config_from_hf(hf_config: dict, dropout: float = 0.0) -> GPTConfig:
    context = hf_config.get("n_positions", hf_config.get("n_ctx"))
    fields = {}
    for theirs, ours in CONFIG_KEYS.items():
        value = context if theirs == "n_positions" else hf_config.get(theirs)
        if value is None:
            raise ValueError(f"config.json lacks the key {theirs}")
        fields[ours] = value
    if "activation_function" in hf_config and hf_config["activation_function"] not in TANH_GELUS:
        raise ValueError(f"unsupported activation_function {hf_config['activation_function']}")
    if abs(hf_config.get("layer_norm_epsilon", 1e-5) - 1e-5) > 1e-12:
        raise ValueError(f"layer_norm_epsilon must be 1e-5, got {hf_config['layer_norm_epsilon']}")
    tie = hf_config["tie_word_embeddings"] if "tie_word_embeddings" in hf_config else True
    return GPTConfig(qkv_bias=True, tie_weights=tie, dropout=dropout, **fields)


def normalize_keys(hf_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    renamed = [(k[len(PREFIX):] if k.startswith(PREFIX) else k, v) for k, v in hf_state.items()]
    kept = [(k, v) for k, v in renamed if not _BUFFER.fullmatch(k)]
    names = [k for k, _ in kept]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"{name} appears twice in the checkpoint")
    return dict(kept)


def gpt2_shapes(config: GPTConfig) -> dict[str, tuple[int, ...]]:
    d = config.d_model
    block = [("ln_1.weight", (d,)), ("ln_1.bias", (d,)), ("attn.c_attn.weight", (d, 3 * d))]
    block += [("attn.c_attn.bias", (3 * d,))] if config.qkv_bias else []
    block += [("attn.c_proj.weight", (d, d)), ("attn.c_proj.bias", (d,)), ("ln_2.weight", (d,)),
              ("ln_2.bias", (d,)), ("mlp.c_fc.weight", (d, 4 * d)), ("mlp.c_fc.bias", (4 * d,)),
              ("mlp.c_proj.weight", (4 * d, d)), ("mlp.c_proj.bias", (d,))]
    out = {f"h.{i}.{name}": shape for i in range(config.num_layers) for name, shape in block}
    out["wte.weight"], out["wpe.weight"] = (config.vocab_size, d), (config.context_length, d)
    out["ln_f.weight"], out["ln_f.bias"] = (d,), (d,)
    if not config.tie_weights:
        out["lm_head.weight"] = (config.vocab_size, d)
    return out


def split_qkv(fused: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n = fused.size(-1)
    if n % 3:
        raise ValueError(f"cannot split a last dimension of {n} into three equal parts")
    d = n // 3
    return tuple(fused.narrow(-1, start, d) for start in (0, d, 2 * d))  # type: ignore[return-value]


def convert_state_dict(hf_state: dict[str, torch.Tensor], config: GPTConfig) -> dict[str, torch.Tensor]:
    state = normalize_keys(hf_state)
    if config.tie_weights and "lm_head.weight" in state:
        del state["lm_head.weight"]
    want = gpt2_shapes(config)
    extra = sorted(set(state) - set(want))
    if extra:
        raise ValueError(f"the checkpoint has keys GPTModel does not use: {', '.join(extra)}")
    absent = sorted(set(want) - set(state))
    if absent:
        raise ValueError(f"the checkpoint lacks {', '.join(absent)}")
    for key, shape in want.items():
        got = tuple(state[key].shape)
        if got != shape:
            raise ValueError(f"shape mismatch for {key}: expected {list(shape)}, found {list(got)}")
    result = {}
    for key, tensor in state.items():
        match = _BLOCK.fullmatch(key)
        if match is None:
            result[_TOP[key]] = tensor
            continue
        prefix, rest = f"blocks.{match.group(1)}.", match.group(2)
        if rest.startswith("attn.c_attn."):
            kind = rest.rsplit(".", 1)[1]  # weight or bias
            for proj, part in zip(("W_query", "W_key", "W_value"), split_qkv(tensor)):
                result[f"{prefix}attn.{proj}.{kind}"] = part.transpose(0, 1).contiguous() if kind == "weight" else part
        else:
            ours, conv = _RENAME[rest]
            result[prefix + ours] = tensor.t().contiguous() if conv else tensor.clone()
    return result


def load_gpt2(folder: str | Path, dropout: float = 0.0) -> GPTModel:
    config_path = Path(folder, CONFIG_FILE)
    weights_path = Path(folder, WEIGHTS_FILE)
    if not config_path.exists():
        raise FileNotFoundError(f"{config_path} does not exist")
    if not weights_path.exists():
        raise FileNotFoundError(f"{weights_path} does not exist")
    with open(config_path, encoding="utf-8") as f:
        config = config_from_hf(json.load(f), dropout=dropout)
    with safe_open(str(weights_path), framework="pt") as f:
        raw = {key: f.get_tensor(key) for key in f.keys()}
    converted = convert_state_dict(raw, config)
    state = torch.random.get_rng_state()
    try:
        model = GPTModel(config)
    finally:
        torch.random.set_rng_state(state)
    model.train(False)
    targets = model.state_dict()  # detached views of the parameters: copying into them fills the model
    with torch.no_grad():
        for name, value in converted.items():
            targets[name].copy_(value)
    return model

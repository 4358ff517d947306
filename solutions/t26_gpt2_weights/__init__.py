"""Topic 26 - Loading OpenAI GPT-2 weights."""

from .load_gpt2 import (
    CONFIG_FILE,
    LAYER_NORM_EPS,
    MASK_BUFFERS,
    PREFIX,
    TANH_GELUS,
    WEIGHTS_FILE,
    config_from_hf,
    convert_state_dict,
    gpt2_shapes,
    load_gpt2,
    normalize_keys,
    split_qkv,
)

__all__ = ["CONFIG_FILE", "LAYER_NORM_EPS", "MASK_BUFFERS", "PREFIX", "TANH_GELUS", "WEIGHTS_FILE",
           "config_from_hf", "convert_state_dict", "gpt2_shapes", "load_gpt2", "normalize_keys", "split_qkv"]

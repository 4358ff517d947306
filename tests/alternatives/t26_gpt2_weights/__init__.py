"""Topic 26, written differently: keys parsed with regular expressions, q/k/v cut with narrow(), the
tensors read one by one with safe_open, transposes made contiguous, values copied through state_dict()."""

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

"""Topic 13, written differently: a table-driven config check, a per-layer counter, slicing for positions."""

from .config import (
    GPT2_SIZES,
    DummyGPTModel,
    GPTConfig,
    count_parameters,
    gpt2_config,
    parameter_breakdown,
    shape_flow,
)

__all__ = ["GPT2_SIZES", "DummyGPTModel", "GPTConfig", "count_parameters", "gpt2_config",
           "parameter_breakdown", "shape_flow"]

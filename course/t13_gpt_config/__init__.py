"""Topic 13 - Bird's-eye view: GPT-2's configuration, its size, and a dummy model."""

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

"""Topic 18 - GPT-2 model."""

from .model import GPTModel, build_on_meta, count_parameters, init_gpt2_weights, parameter_memory

__all__ = ["GPTModel", "build_on_meta", "count_parameters", "init_gpt2_weights", "parameter_memory"]

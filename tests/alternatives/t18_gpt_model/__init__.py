"""Topic 18, written differently: modules created in another order, blocks in an nn.ModuleList, the
embedding tied to the head's weight, init by module type, a hand-written bytes-per-dtype table."""

from .model import GPTModel, build_on_meta, count_parameters, init_gpt2_weights, parameter_memory

__all__ = ["GPTModel", "build_on_meta", "count_parameters", "init_gpt2_weights", "parameter_memory"]

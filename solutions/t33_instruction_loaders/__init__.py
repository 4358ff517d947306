"""Topic 33 - instruction data loaders: a pre-tokenized dataset and loaders that use topic 32's collate."""

from .instr_data import InstructionDataset, instruction_loader

__all__ = ["InstructionDataset", "instruction_loader"]

"""A correct topic-33 implementation written differently from the reference (for the kit's tests)."""

from .instr_data import InstructionDataset, instruction_loader

"""A correct topic-03 implementation written differently from the reference (for the kit's tests)."""

from .dataloader import ENDOFTEXT, GPTDataset, create_dataloader

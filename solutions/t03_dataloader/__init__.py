"""Topic 03 - Input-target pairs & DataLoader."""

from .dataloader import ENDOFTEXT, GPTDataset, create_dataloader

__all__ = ["ENDOFTEXT", "GPTDataset", "create_dataloader"]

"""Topic 28 - classification data: balancing, splitting, tokenizing, padding, batching."""

from .cls_data import ClassificationDataset, balance_classes, classification_loader, split_dataset

__all__ = ["ClassificationDataset", "balance_classes", "classification_loader", "split_dataset"]

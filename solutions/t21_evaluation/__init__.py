"""Topic 21 - evaluating on real text."""

from .evaluate import calc_loss_batch, calc_loss_loader, evaluate_model, split_text, train_val_loaders

__all__ = ["calc_loss_batch", "calc_loss_loader", "evaluate_model", "split_text", "train_val_loaders"]

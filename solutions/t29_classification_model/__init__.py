"""Topic 29 - Classification model: last-token logits, classification loss and accuracy."""

from .cls_model import (
    calc_accuracy_loader,
    calc_loss_batch,
    calc_loss_loader,
    classify_batch,
    last_token_logits,
)

__all__ = ["calc_accuracy_loader", "calc_loss_batch", "calc_loss_loader", "classify_batch", "last_token_logits"]

"""Topic 22 - the pretraining loop."""

from .train import AdamW, clip_grad_norm, lr_at, train_model, train_step

__all__ = ["AdamW", "clip_grad_norm", "lr_at", "train_model", "train_step"]

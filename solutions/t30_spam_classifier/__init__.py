"""Topic 30 - Spam classifier end to end: the finetuning loop and classify(text)."""

from .spam import classify, train_classifier

__all__ = ["classify", "train_classifier"]

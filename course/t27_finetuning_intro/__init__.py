"""Topic 27 - Introduction to finetuning: freezing parameters, counting them, a new output head."""

from .freeze import count_trainable, prepare_for_classification, replace_head, set_trainable

__all__ = ["count_trainable", "prepare_for_classification", "replace_head", "set_trainable"]

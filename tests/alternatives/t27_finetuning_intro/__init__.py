"""Topic 27, written differently: flags set by assignment, a set of ids to count shared weights once, the head
built on the CPU and moved, a list slice of the blocks."""

from .freeze import count_trainable, prepare_for_classification, replace_head, set_trainable

__all__ = ["count_trainable", "prepare_for_classification", "replace_head", "set_trainable"]

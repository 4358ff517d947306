"""Topic 32 - batching for instruction tuning: pad, shift, mask."""

from .collate import END_OF_TEXT, IGNORE_INDEX, collate_batch, input_target_row, pad_item

__all__ = ["END_OF_TEXT", "IGNORE_INDEX", "collate_batch", "input_target_row", "pad_item"]

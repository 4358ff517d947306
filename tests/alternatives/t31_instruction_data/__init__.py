"""Topic 31, written differently: sections joined with a separator, a shuffled index list, itertools slices."""

from .alpaca import (
    PREAMBLE,
    PREAMBLE_WITH_INPUT,
    format_example,
    format_input,
    format_response,
    has_input,
    split_entries,
)

__all__ = ["PREAMBLE", "PREAMBLE_WITH_INPUT", "format_example", "format_input", "format_response", "has_input",
           "split_entries"]

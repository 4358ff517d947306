"""Topic 31 - instruction data in the Alpaca format: prompt template and dataset split."""

from .alpaca import (
    PREAMBLE,
    PREAMBLE_WITH_INPUT,
    RESPONSE_HEADER,
    format_example,
    format_input,
    format_response,
    has_input,
    split_entries,
)

__all__ = ["PREAMBLE", "PREAMBLE_WITH_INPUT", "RESPONSE_HEADER", "format_example", "format_input",
           "format_response", "has_input", "split_entries"]

"""Topic 35, written differently: an explicit iterator loop, str.partition for the answer, decoding the
prompt and the continuation apart, NamedTemporaryFile with indent=4 for the atomic write."""

from .instr_train import (
    END_OF_TEXT,
    RESPONSE_HEADER,
    extract_response,
    generate_response,
    generate_responses,
    save_responses,
    train_instructions,
)

__all__ = ["END_OF_TEXT", "RESPONSE_HEADER", "extract_response", "generate_response", "generate_responses",
           "save_responses", "train_instructions"]

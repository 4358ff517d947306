"""Topic 35 - Instruction finetuning loop: masked training, greedy answers, responses saved as JSON."""

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

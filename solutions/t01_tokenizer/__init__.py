"""Topic 01 - Tokenizer from scratch."""

from .tokenizer import (
    ENDOFTEXT,
    PUNCTUATION,
    SPECIAL_TOKENS,
    UNKNOWN,
    SimpleTokenizer,
    build_vocab,
    pretokenize,
)

__all__ = [
    "ENDOFTEXT", "PUNCTUATION", "SPECIAL_TOKENS", "UNKNOWN",
    "SimpleTokenizer", "build_vocab", "pretokenize",
]

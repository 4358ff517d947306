"""Topic 02 - Byte Pair Encoding."""

from .bpe import (
    ENDOFTEXT,
    BPETokenizer,
    bytes_to_unicode,
    get_pair_counts,
    load_gpt2_tokenizer,
    merge_pair,
    pretokenize_gpt2,
    train_bpe,
)

__all__ = [
    "ENDOFTEXT", "BPETokenizer", "bytes_to_unicode", "get_pair_counts", "load_gpt2_tokenizer",
    "merge_pair", "pretokenize_gpt2", "train_bpe",
]

"""Topic 05 - Positional embeddings."""

from .positional import (
    LearnedPositionalEmbedding,
    SinusoidalPositionalEncoding,
    add_positions,
    sinusoidal_encoding,
)

__all__ = [
    "LearnedPositionalEmbedding", "SinusoidalPositionalEncoding", "add_positions",
    "sinusoidal_encoding",
]

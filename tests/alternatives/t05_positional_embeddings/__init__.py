"""A correct topic-05 implementation written differently from the reference (for the kit's tests)."""

from .positional import (LearnedPositionalEmbedding, SinusoidalPositionalEncoding, add_positions,
                         sinusoidal_encoding)

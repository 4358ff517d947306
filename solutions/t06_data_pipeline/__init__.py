"""Topic 06 - Full data pipeline."""

from .pipeline import POSITIONAL_KINDS, InputEmbedding, embed_first_batch

__all__ = ["POSITIONAL_KINDS", "InputEmbedding", "embed_first_batch"]

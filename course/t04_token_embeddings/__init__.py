"""Topic 04 - Token embeddings."""

from .embedding import Embedding, embed_via_one_hot, one_hot

__all__ = ["Embedding", "embed_via_one_hot", "one_hot"]

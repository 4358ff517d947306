"""Topic 24 - Top-k and top-p sampling."""

from .sampling import generate, top_k_filter, top_p_filter

__all__ = ["generate", "top_k_filter", "top_p_filter"]

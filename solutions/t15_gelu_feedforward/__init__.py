"""Topic 15 - GELU and feed-forward."""

from .feedforward import APPROXIMATIONS, GELU, FeedForward, gelu

__all__ = ["APPROXIMATIONS", "GELU", "FeedForward", "gelu"]

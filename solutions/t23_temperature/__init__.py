"""Topic 23 - Temperature scaling."""

from .temperature import next_token_probs, sample_next_token, softmax_with_temperature

__all__ = ["next_token_probs", "sample_next_token", "softmax_with_temperature"]

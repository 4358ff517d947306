"""Topic 23, written differently: a hand-written stable softmax (multiply by 1/T, subtract the max), torch.max
for the argmax, the multinomial draw on float64 probabilities with replacement=True."""

from .temperature import next_token_probs, sample_next_token, softmax_with_temperature

__all__ = ["next_token_probs", "sample_next_token", "softmax_with_temperature"]

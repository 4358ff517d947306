"""Topic 20 - the loss function."""

from .loss import cross_entropy, log_softmax, perplexity, token_losses

__all__ = ["cross_entropy", "log_softmax", "perplexity", "token_losses"]

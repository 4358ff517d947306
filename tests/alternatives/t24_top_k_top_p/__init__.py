"""Topic 24, written differently: top-k by sorting, top-p over ascending probabilities (as Hugging Face's
TopPLogitsWarper) with ties handled by a threshold, generate as a while loop without torch.no_grad."""

from .sampling import generate, top_k_filter, top_p_filter

__all__ = ["generate", "top_k_filter", "top_p_filter"]

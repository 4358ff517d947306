"""Topic 19, written differently: a preallocated output filled column by column, torch.max instead of
argmax, narrow() for the window, no torch.no_grad (the ids are the same either way)."""

from .generate import accepts_allowed_special, generate_greedy, ids_to_text, next_token_logits, text_to_ids

__all__ = ["accepts_allowed_special", "generate_greedy", "ids_to_text", "next_token_logits", "text_to_ids"]

"""Topic 19 - Next-token prediction."""

from .generate import accepts_allowed_special, generate_greedy, ids_to_text, next_token_logits, text_to_ids

__all__ = ["accepts_allowed_special", "generate_greedy", "ids_to_text", "next_token_logits", "text_to_ids"]

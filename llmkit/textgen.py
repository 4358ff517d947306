"""``llmkit generate``: the learner's model writes, from a pretraining checkpoint or GPT-2's weights.

Both paths end in the learner's own code: topic 18's ``GPTModel`` holds the
weights (loaded by topic 25's ``load_checkpoint`` or topic 26's ``load_gpt2``)
and topic 24's ``generate`` picks the tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from llmkit import pretrain, registry, resolver


def from_checkpoint(path: Path, device: str = "cpu") -> tuple[Any, Any]:
    """``(model, tokenizer)`` of an ``llmkit train`` run, from its checkpoint and ``run.json``."""
    settings, kept = pretrain.read_run_file(path.parent)
    topics = pretrain.Topics.load()
    tokenizer = pretrain.CorpusTokenizer(topics.bpe.load_gpt2_tokenizer(), [], kept)
    config = topics.config.GPTConfig(vocab_size=len(kept), qkv_bias=True, tie_weights=True,
                                     **settings.model_fields())
    model = topics.model.GPTModel(config)
    topics.checkpoints.load_checkpoint(path, model, None, restore_rng=False)
    return model.to(device).eval(), tokenizer


def from_weights(folder: Path, device: str = "cpu") -> tuple[Any, Any]:
    """``(model, tokenizer)``: GPT-2's weights in ``folder`` loaded into the learner's model (topic 26)."""
    loader = resolver.load(registry.get(26))
    tokenizer = resolver.load(registry.get(2)).load_gpt2_tokenizer()
    return loader.load_gpt2(folder).to(device).eval(), tokenizer


def continue_text(model, tokenizer, prompt: str, *, max_new_tokens: int = 50, temperature: float = 0.0,
                  top_k: int | None = None, top_p: float | None = None, seed: int = 0,
                  device: str = "cpu") -> str:
    """``prompt`` followed by the model's continuation, with the learner's ``generate`` (topic 24)."""
    text_ids = resolver.load(registry.get(19))
    sampling = resolver.load(registry.get(24))
    ids = text_ids.text_to_ids(prompt, tokenizer).to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    out = sampling.generate(model, ids, max_new_tokens=max_new_tokens,
                            context_length=model.config.context_length, temperature=temperature,
                            top_k=top_k, top_p=top_p, eos_id=None, generator=generator)
    return text_ids.ids_to_text(out[0].cpu(), tokenizer)

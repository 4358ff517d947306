"""A correct GPT-2 model written from the README alone, differently from the reference."""

from __future__ import annotations

import math

import torch
from torch import nn

from course.t06_data_pipeline import InputEmbedding
from course.t13_gpt_config import GPTConfig
from course.t14_layer_norm import LayerNorm
from course.t17_transformer_block import TransformerBlock

BYTES = {torch.float32: 4, torch.float64: 8, torch.float16: 2, torch.bfloat16: 2}


class GPTModel(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        # built in another order; `embedding` is still registered before `out_head`, so the tied
        # parameter keeps the embedding's name
        head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.final_norm = LayerNorm(config.d_model)
        self.blocks = nn.ModuleList()
        for _ in range(config.num_layers):
            self.blocks.append(TransformerBlock(config.d_model, config.num_heads, config.context_length,
                                                dropout=config.dropout, qkv_bias=config.qkv_bias))
        self.embedding = InputEmbedding(config.vocab_size, config.context_length, config.d_model,
                                        config.dropout)
        self.out_head = head
        if config.tie_weights:
            # the other direction: the embedding takes the head's Parameter (one object either way)
            self.embedding.tok_emb.weight = self.out_head.weight
        init_gpt2_weights(self, config.num_layers)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        hidden = self.embedding(ids)
        for block in self.blocks:
            hidden = block(hidden)
        hidden = self.final_norm(hidden)
        return self.out_head(hidden)


def init_gpt2_weights(model: nn.Module, num_layers: int) -> None:
    small = 0.02 / math.sqrt(2.0 * num_layers)
    seen: set[int] = set()
    with torch.no_grad():
        for module_name, module in model.named_modules():
            for leaf, param in module.named_parameters(recurse=False):
                if id(param) in seen:  # a tied weight: draw it once
                    continue
                seen.add(id(param))
                full = f"{module_name}.{leaf}" if module_name else leaf
                if leaf == "bias":
                    nn.init.zeros_(param)
                elif isinstance(module, (LayerNorm, nn.LayerNorm)):
                    nn.init.ones_(param)
                elif full.endswith("attn.out_proj.weight") or full.endswith("ff.proj.weight"):
                    nn.init.normal_(param, mean=0.0, std=small)
                else:
                    nn.init.normal_(param, mean=0.0, std=0.02)


def count_parameters(model: nn.Module) -> int:
    distinct = {id(p): p.numel() for _, p in model.named_parameters(remove_duplicate=False)}
    return sum(distinct.values())


def parameter_memory(model: nn.Module, dtype: torch.dtype = torch.float32) -> int:
    return count_parameters(model) * BYTES[dtype]


def build_on_meta(config: GPTConfig) -> GPTModel:
    with torch.device("meta"):
        return GPTModel(config)

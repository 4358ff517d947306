"""Topic 13 - a bird's-eye view of GPT-2: its configuration and its size.

Before building GPT-2 piece by piece (topics 14-18), fix the numbers that
describe it. Five integers and two switches decide every tensor shape:

* ``vocab_size``      tokens the model can read and predict (GPT-2's BPE: 50,257),
* ``context_length``  the longest sequence it attends over (1,024 positions),
* ``d_model``         the width of every token's vector between blocks,
* ``num_heads``       attention heads per block (``d_model`` splits evenly across them),
* ``num_layers``      transformer blocks stacked on top of each other,
* ``qkv_bias``        whether the query/key/value projections have a bias (GPT-2: yes),
* ``tie_weights``     whether the output head reuses the token embedding matrix (GPT-2: yes).

With them fixed, the number of parameters is a formula - no model needed. The
four published GPT-2 sizes differ only in ``d_model``, ``num_heads`` and
``num_layers``.

The dummy model at the end runs the data through the skeleton of GPT-2 with
every block replaced by the identity, to show the shape of the data at each
stage: ``(batch, seq)`` ids -> ``(batch, seq, d_model)`` vectors -> ``(batch, seq,
vocab_size)`` logits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

# d_model, num_heads, num_layers of the four sizes OpenAI published (Radford et al., 2019)
GPT2_SIZES = {
    "124M": (768, 12, 12),
    "355M": (1024, 16, 24),
    "774M": (1280, 20, 36),
    "1558M": (1600, 25, 48),
}


@dataclass(frozen=True)
class GPTConfig:
    """Every number that shapes a GPT-2 model. The defaults are GPT-2 small (124M).

    ``dropout`` is the rate used for the embeddings, the attention weights and
    both residual branches of every block. ``__post_init__`` rejects configs no
    model can be built from.
    """

    vocab_size: int = 50257
    context_length: int = 1024
    d_model: int = 768
    num_heads: int = 12
    num_layers: int = 12
    dropout: float = 0.1
    qkv_bias: bool = True
    tie_weights: bool = True

    def __post_init__(self) -> None:
        """Validate the config as soon as it is built (and again after ``dataclasses.replace``).

        Rules: every size (``vocab_size``, ``context_length``, ``d_model``, ``num_heads``,
        ``num_layers``) is an ``int`` >= 1 - ``True`` is not a size, although Python's
        ``bool`` is a subclass of ``int``; ``d_model`` is divisible by ``num_heads``;
        ``0 <= dropout < 1``. A broken rule -> ``ValueError`` whose message names the
        field and its value (for the divisibility rule: both numbers).
        """
        raise NotImplementedError('t13 GPTConfig.__post_init__: not implemented yet - write it in course/t13_gpt_config/config.py')

    @property
    def head_dim(self) -> int:
        return self.d_model // self.num_heads


def gpt2_config(size: str = "124M", **changes) -> GPTConfig:
    """The published GPT-2 of ``size`` ("124M", "355M", "774M" or "1558M"), with ``changes``.

    ``gpt2_config("355M", dropout=0.0)`` is GPT-2 medium without dropout. The
    four sizes share vocabulary (50,257), context (1,024), dropout 0.1,
    ``qkv_bias=True`` and tied weights, and differ in ``GPT2_SIZES[size]``.
    ``changes`` may set any field, the preset's own ones included
    (``gpt2_config("124M", num_layers=2)``), and the result is validated like any
    config. An unknown size -> ``ValueError`` naming it and listing the four; a
    change that is not a field -> ``TypeError`` naming it.
    """
    raise NotImplementedError('t13 gpt2_config: not implemented yet - write it in course/t13_gpt_config/config.py')


def parameter_breakdown(config: GPTConfig) -> dict[str, int]:
    """Parameters of the model topic 18 builds from ``config``, by part.

    Keys, in this order: ``"token_embedding"`` (``vocab_size * d_model``),
    ``"position_embedding"`` (``context_length * d_model``), ``"blocks"`` (all
    ``num_layers`` blocks: two LayerNorms with weight and bias, the query/key/value
    projections with biases if ``qkv_bias``, ``out_proj`` with bias, and the
    feed-forward ``d_model -> 4*d_model -> d_model`` with biases), ``"final_norm"``
    (weight and bias) and ``"output_head"`` (``vocab_size * d_model``, no bias; 0
    when ``tie_weights`` - the head then *is* the token embedding).
    """
    raise NotImplementedError('t13 parameter_breakdown: not implemented yet - write it in course/t13_gpt_config/config.py')


def count_parameters(config: GPTConfig) -> int:
    """Total parameters of the model built from ``config`` (an ``int``): the sum of :func:`parameter_breakdown`.

    GPT-2 small: 124,439,808 with tied weights, 163,037,184 without.
    """
    raise NotImplementedError('t13 count_parameters: not implemented yet - write it in course/t13_gpt_config/config.py')


class DummyGPTModel(nn.Module):
    """GPT-2's skeleton with placeholder blocks: shows the shapes, computes nothing useful.

    Submodules: ``tok_emb`` ``nn.Embedding(vocab_size, d_model)``, ``pos_emb``
    ``nn.Embedding(context_length, d_model)``, ``drop`` ``nn.Dropout(dropout)``,
    ``blocks`` ``nn.Sequential`` of ``num_layers`` ``nn.Identity()``, ``final_norm``
    ``nn.Identity()``, ``out_head`` ``nn.Linear(d_model, vocab_size, bias=False)``.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        self.pos_emb = nn.Embedding(config.context_length, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.Sequential(*[nn.Identity() for _ in range(config.num_layers)])
        self.final_norm = nn.Identity()
        self.out_head = nn.Linear(config.d_model, config.vocab_size, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """``(batch, seq)`` ids -> ``(batch, seq, vocab_size)`` logits.

        ``drop(tok_emb(ids) + pos_emb(0..seq-1))`` -> blocks -> final_norm -> out_head;
        every ``1 <= seq <= context_length`` works. ``ids`` not 2-D -> ``ValueError``
        naming the shape it got; ``seq > context_length`` -> ``ValueError`` naming both
        numbers.
        """
        raise NotImplementedError('t13 DummyGPTModel.forward: not implemented yet - write it in course/t13_gpt_config/config.py')


def shape_flow(model: DummyGPTModel, ids: torch.Tensor) -> list[tuple[str, tuple[int, ...]]]:
    """``[(stage, shape), ...]`` of the data through the dummy model (a teaching aid).

    Stages: ``"ids"``, ``"embeddings"``, ``"blocks"``, ``"final_norm"``, ``"logits"``.
    """
    seq = ids.shape[1]
    x = model.tok_emb(ids) + model.pos_emb(torch.arange(seq, device=ids.device))
    flow = [("ids", tuple(ids.shape)), ("embeddings", tuple(x.shape))]
    x = model.blocks(model.drop(x))
    flow.append(("blocks", tuple(x.shape)))
    x = model.final_norm(x)
    flow.append(("final_norm", tuple(x.shape)))
    flow.append(("logits", tuple(model.out_head(x).shape)))
    return flow

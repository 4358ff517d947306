"""Topic 18 - the GPT-2 model.

Everything is in place: topic 06 turns token ids into vectors (token embedding +
learned positions + dropout), topic 17 transforms them in a causal block, topic
14 normalizes. GPT-2 is these pieces in a row::

    ids (batch, seq)
      -> embedding             (batch, seq, d_model)     topic 06
      -> num_layers blocks     (batch, seq, d_model)     topic 17
      -> final_norm            (batch, seq, d_model)     topic 14
      -> out_head              (batch, seq, vocab_size)  logits: a score for every next token

**Weight tying.** ``out_head`` maps a vector to one score per vocabulary entry,
so its weight has the token embedding's shape ``(vocab_size, d_model)``. GPT-2
uses the very same matrix for both (one ``nn.Parameter`` in two places): the
score of token ``v`` is the dot product of the final vector with ``v``'s
embedding. That saves ``vocab_size * d_model`` parameters - 38.6M of GPT-2
small's 163M.

**Initialization.** GPT-2 draws every linear and embedding weight from
``N(0, 0.02^2)``, sets biases to 0 and LayerNorms to (1, 0), and scales the two
projections that write into the residual stream (``attn.out_proj`` and
``ff.proj``) down by ``sqrt(2 * num_layers)``, so the sum over ``2 * num_layers``
branches keeps its scale. With it, an untrained model's next-token distribution
is close to uniform: its loss starts near ``ln(vocab_size)``, about 10.8.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from course.t06_data_pipeline import InputEmbedding  # your topic 06 (the reference when grading falls back)
from course.t13_gpt_config import GPTConfig  # your topic 13
from course.t14_layer_norm import LayerNorm  # your topic 14
from course.t17_transformer_block import TransformerBlock  # your topic 17

INIT_STD = 0.02
RESIDUAL_PROJECTIONS = ("attn.out_proj.weight", "ff.proj.weight")


class GPTModel(nn.Module):
    """GPT-2: ``(batch, seq)`` token ids -> ``(batch, seq, vocab_size)`` logits.

    Submodules and parameters (names are the contract; topic 26 maps GPT-2's
    checkpoint onto them, and every check loads weights by these names):
        embedding:  topic 06's ``InputEmbedding(vocab_size, context_length, d_model, dropout)``
                    -> ``embedding.tok_emb.weight`` ``(vocab_size, d_model)``,
                       ``embedding.pos_emb.table.weight`` ``(context_length, d_model)``;
        blocks:     ``num_layers`` topic-17 ``TransformerBlock(d_model, num_heads, context_length,
                    dropout, qkv_bias)`` in an ``nn.Sequential`` or ``nn.ModuleList``
                    -> ``blocks.{i}.norm1.weight`` ... ``blocks.{i}.ff.proj.bias``;
        final_norm: topic 14's ``LayerNorm(d_model)`` -> ``final_norm.weight``, ``final_norm.bias``;
        out_head:   ``nn.Linear(d_model, vocab_size, bias=False)`` -> ``out_head.weight``.
    With ``config.tie_weights`` the head's weight *is* ``embedding.tok_emb.weight`` (the same
    ``nn.Parameter`` object), so ``named_parameters()`` lists it once, under the embedding's
    name (PyTorch names a shared parameter after the first module that registers it: create
    ``embedding`` before ``out_head``), and the state dict holds both keys. Attribute ``config``.
    The creation order is otherwise free: checks load weights by name.
    """

    def __init__(self, config: GPTConfig):
        """Build the submodules from ``config``, tie the head if asked, then :func:`init_gpt2_weights`."""
        super().__init__()
        self.config = config
        raise NotImplementedError('t18 GPTModel.__init__: not implemented yet - write it in course/t18_gpt_model/model.py')

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """``(batch, seq)`` ids -> ``(batch, seq, vocab_size)`` logits (no softmax).

        ``seq > context_length`` -> ``ValueError`` (from the embedding). Causal: the
        logits at position ``t`` depend on ids ``0 .. t`` only. Call the modules
        (``self.out_head(x)``, not its weight): topic 27 swaps in another head.
        """
        raise NotImplementedError('t18 GPTModel.forward: not implemented yet - write it in course/t18_gpt_model/model.py')


@torch.no_grad()
def init_gpt2_weights(model: nn.Module, num_layers: int) -> None:
    """GPT-2's initialization, in place, for every parameter of ``model`` by name.

    * a name ending in ``attn.out_proj.weight`` or ``ff.proj.weight`` (the residual
      projections): ``N(0, (0.02 / sqrt(2 * num_layers))^2)``;
    * every other weight of an ``nn.Linear`` or an embedding (``tok_emb``,
      ``pos_emb``, ``W_query`` ...): ``N(0, 0.02^2)``;
    * every bias: 0; LayerNorm weights: 1 (a LayerNorm is any module with
      parameters ``weight`` and ``bias`` of one dimension - check the module
      class, or that the parameter is 1-D).
    ``num_layers`` is the argument (do not read it from the model). A tied weight
    is initialized once (``parameters()`` yields it once). Returns ``None``.
    """
    raise NotImplementedError('t18 init_gpt2_weights: not implemented yet - write it in course/t18_gpt_model/model.py')


def count_parameters(model: nn.Module) -> int:
    """Number of distinct parameter values of any module: a tied weight counts once.

    Frozen parameters (``requires_grad=False``) count, buffers do not. Works on the
    ``meta`` device (count objects, not memory addresses). GPT-2 small: 124,439,808
    tied, 163,037,184 untied (topic 13's formula).
    """
    raise NotImplementedError('t18 count_parameters: not implemented yet - write it in course/t18_gpt_model/model.py')


def parameter_memory(model: nn.Module, dtype: torch.dtype = torch.float32) -> int:
    """Bytes the distinct parameters take when stored as ``dtype`` (buffers not counted).

    ``count_parameters(model) * bytes per element`` - 4 for float32, 2 for
    bfloat16 and float16, 8 for float64 - whatever dtype the model has now.
    """
    raise NotImplementedError('t18 parameter_memory: not implemented yet - write it in course/t18_gpt_model/model.py')


def build_on_meta(config: GPTConfig) -> GPTModel:
    """A ``GPTModel`` whose tensors live on the ``meta`` device: shapes only, no memory.

    Counting the parameters of GPT-2 XL this way takes milliseconds.
    """
    with torch.device("meta"):
        return GPTModel(config)

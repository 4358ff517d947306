"""Topic 26 - loading OpenAI's GPT-2 weights into your own GPTModel.

A checkpoint is two things: a config (the numbers that shape the model) and a
flat table of named tensors. Loading one into a model written by someone else
is therefore a *translation*: rename every tensor, and reshape it where the two
codebases store the same layer differently. Nothing is learned or computed.

Hugging Face publishes GPT-2 as ``config.json`` plus ``model.safetensors``
(a JSON header of names, dtypes and shapes, then raw bytes: unlike a pickled
``.bin`` file, reading it can never run code). Its names follow OpenAI's code
(``wte``, ``h.0.attn.c_attn`` ...), and three habits differ from ours:

* **Conv1D.** GPT-2 stores every linear layer of a block as a ``Conv1D`` whose
  weight is ``(in_features, out_features)``: the transpose of ``nn.Linear``'s
  ``(out_features, in_features)``. Each such weight is transposed on the way in.
  For a square ``d x d`` matrix the shapes cannot tell whether this was done,
  only the values can.
* **A fused attention projection.** ``c_attn`` computes query, key and value
  in one layer of width ``3 * d_model``; its output columns are q | k | v, in
  that order. It is split into our three ``W_query``, ``W_key``, ``W_value``.
* **Names around the weights.** A ``GPT2LMHeadModel`` prefixes its keys with
  ``transformer.`` (the hub's own file for ``gpt2`` does not); older files carry
  the causal-mask buffers ``h.{i}.attn.bias`` / ``h.{i}.attn.masked_bias``,
  which are not weights; and ``lm_head.weight`` is the token table itself
  (tied), so there is nothing to load for our ``out_head``.

A loader that silently skips what it does not recognise produces a model that
runs and talks nonsense. So every key must be used, every expected key must be
there, every shape must fit, and a mismatch stops with an error naming the key.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from safetensors.torch import load_file

from course.t13_gpt_config import GPTConfig  # your topic 13
from course.t18_gpt_model import GPTModel  # your topic 18

PREFIX = "transformer."  # GPT2LMHeadModel's name for its GPT2Model part
MASK_BUFFERS = ("attn.bias", "attn.masked_bias")  # in block h.{i}: Hugging Face's causal masks, not weights
TANH_GELUS = ("gelu_new", "gelu_pytorch_tanh")  # Hugging Face's names for GPT-2's tanh GELU (topic 15)
LAYER_NORM_EPS = 1e-5  # what topic 14's LayerNorm uses inside GPTModel
CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
# config.json key -> GPTConfig field
CONFIG_KEYS = {"vocab_size": "vocab_size", "n_positions": "context_length", "n_embd": "d_model",
               "n_head": "num_heads", "n_layer": "num_layers"}


def config_from_hf(hf_config: dict, dropout: float = 0.0) -> GPTConfig:
    """A topic-13 ``GPTConfig`` from a Hugging Face GPT-2 ``config.json`` (as a dict).

    ``vocab_size``, ``n_positions``, ``n_embd``, ``n_head`` and ``n_layer`` give
    ``vocab_size``, ``context_length``, ``d_model``, ``num_heads`` and ``num_layers``
    (a file without ``n_positions`` gives ``n_ctx``, as GPT-2's first files did);
    ``qkv_bias=True``; ``tie_weights`` from ``tie_word_embeddings`` (``True`` when
    absent); ``dropout`` is the argument (the file's ``*_pdrop`` rates are ignored).
    Every other key is ignored, except two that ``GPTModel`` cannot follow:
    ``activation_function`` must be a tanh GELU (:data:`TANH_GELUS`, the default
    when absent) and ``layer_norm_epsilon`` 1e-5 (the default). A missing size key or
    a value GPTModel cannot follow -> ``ValueError`` naming the key.
    """
    raise NotImplementedError('t26 config_from_hf: not implemented yet - write it in course/t26_gpt2_weights/load_gpt2.py')


def normalize_keys(hf_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors under GPT2Model's own names, without the mask buffers.

    A leading ``transformer.`` is removed from every key that has one (keys
    without it, such as the hub's ``gpt2`` file, stay as they are); the buffers
    ``h.{i}.attn.bias`` and ``h.{i}.attn.masked_bias`` are left out (our attention
    builds its mask from ``context_length``; ``h.{i}.attn.c_attn.bias`` is a weight
    and stays). The values are unchanged. Two keys that are
    the same once the prefix is removed -> ``ValueError`` naming the key.
    """
    raise NotImplementedError('t26 normalize_keys: not implemented yet - write it in course/t26_gpt2_weights/load_gpt2.py')


def gpt2_shapes(config: GPTConfig) -> dict[str, tuple[int, ...]]:
    """Every key a GPT-2 checkpoint for ``config`` holds (after :func:`normalize_keys`), with its shape.

    Hugging Face's layout: ``wte.weight`` ``(V, d)``, ``wpe.weight`` ``(C, d)``, per
    block ``h.{i}.``: ``ln_1`` / ``ln_2`` weight and bias ``(d,)``,
    ``attn.c_attn.weight`` ``(d, 3d)`` and, with ``qkv_bias``, ``attn.c_attn.bias``
    ``(3d,)``, ``attn.c_proj.weight`` ``(d, d)`` and bias ``(d,)``, ``mlp.c_fc.weight``
    ``(d, 4d)`` and bias ``(4d,)``, ``mlp.c_proj.weight`` ``(4d, d)`` and bias ``(d,)``
    (Conv1D weights are ``(in, out)``); ``ln_f`` weight and bias ``(d,)``; and
    ``lm_head.weight`` ``(V, d)`` only without ``tie_weights``. Shapes are tuples of ints.
    """
    raise NotImplementedError('t26 gpt2_shapes: not implemented yet - write it in course/t26_gpt2_weights/load_gpt2.py')


def split_qkv(fused: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split ``c_attn``'s weight ``(d, 3d)`` or bias ``(3d,)`` into its query, key and value parts.

    The output features are the *last* dimension in Conv1D layout, for the weight
    and the bias alike: the first third is the query, then the key, then the value.
    Returns three tensors of shape ``(d, d)`` (still Conv1D layout: ``(in, out)``) or
    ``(d,)``. A last dimension that 3 does not divide -> ``ValueError`` naming it.
    """
    raise NotImplementedError('t26 split_qkv: not implemented yet - write it in course/t26_gpt2_weights/load_gpt2.py')


def convert_state_dict(hf_state: dict[str, torch.Tensor], config: GPTConfig) -> dict[str, torch.Tensor]:
    """A GPT-2 checkpoint's tensors under ``GPTModel(config)``'s parameter names (topic 18's table).

    Keys go through :func:`normalize_keys`; with ``tie_weights`` an ``lm_head.weight``
    is dropped (it is ``wte.weight``). Then the keys must be exactly those of
    :func:`gpt2_shapes`, each with its shape: an unknown key, a missing key or a
    wrong shape -> ``ValueError`` naming the key (for a shape: the shape found and
    the one expected), before anything is converted. The result's keys are exactly
    ``GPTModel(config).named_parameters()``'s names; Conv1D weights (``c_attn``'s
    three parts, ``c_proj``, ``c_fc``) are transposed, everything else is as stored.
    """
    raise NotImplementedError('t26 convert_state_dict: not implemented yet - write it in course/t26_gpt2_weights/load_gpt2.py')


def load_gpt2(folder: str | Path, dropout: float = 0.0) -> GPTModel:
    """Your ``GPTModel`` holding the GPT-2 checkpoint in ``folder`` (``config.json`` + ``model.safetensors``).

    The config through :func:`config_from_hf` (with ``dropout``), the tensors read
    with ``safetensors.torch.load_file`` (never a pickle) and converted by
    :func:`convert_state_dict`, then copied into a fresh ``GPTModel(config)`` by
    parameter name (in PyTorch's default dtype, float32 unless changed). Returned in
    eval mode, parameters trainable. Torch's global random state is as it was
    before the call (building the model draws an initialization that is then
    overwritten). A missing file -> ``FileNotFoundError`` naming it; a mismatch ->
    :func:`convert_state_dict`'s ``ValueError``.
    """
    raise NotImplementedError('t26 load_gpt2: not implemented yet - write it in course/t26_gpt2_weights/load_gpt2.py')

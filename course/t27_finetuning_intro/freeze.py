"""Topic 27 - introduction to finetuning: which parameters learn, and a new head.

Pretraining taught a GPT to predict the next token of general text. Finetuning
takes those weights and trains them a little more, on a narrow task, with much
less data. Two questions decide how that goes:

* **Which parameters change?** Every parameter has a flag, ``requires_grad``.
  With ``requires_grad=False`` autograd computes no gradient for it, so no
  optimizer step can move it: the parameter is *frozen*. Freezing most of a
  pretrained model keeps what it learned (and saves the memory of their
  gradients and optimizer state); unfreezing the last block or two lets the
  model adapt its most task-specific features.
* **What does the model output?** A language model ends in ``out_head``, a
  ``(d_model -> vocab_size)`` linear map: one score per next token. A
  classifier needs one score per *class*. So the head is replaced by a fresh
  ``nn.Linear(d_model, num_classes)`` (with a bias), which is trained from
  scratch; everything below it keeps its pretrained weights.

For GPT-2 small with a 2-class head, the last block and the final LayerNorm,
about 7.1 million of its 124 million parameters train (5.7 %).

A tied model (topic 18) uses one ``nn.Parameter`` for the token embedding and
the head. Replacing the head gives the head a new weight of its own; the
embedding keeps the old one, untouched. The two are no longer tied.
"""

from __future__ import annotations

from torch import nn


def set_trainable(module: nn.Module, trainable: bool) -> None:
    """Set ``requires_grad`` of every parameter of ``module`` (its submodules' too) to ``trainable``.

    Changes nothing else: no value, no buffer, not the module's train/eval mode.
    A module without parameters is fine (nothing to do). ``trainable`` must be
    a ``bool``, else ``TypeError`` naming it (``0`` or ``"no"`` are not flags).
    """
    raise NotImplementedError('t27 set_trainable: not implemented yet - write it in course/t27_finetuning_intro/freeze.py')


def count_trainable(model: nn.Module) -> int:
    """The number of parameter values that training would change: those with ``requires_grad``.

    A parameter shared by two modules (a tied head and embedding) counts once,
    as ``model.parameters()`` yields it once. Frozen parameters and buffers do
    not count. Works on the ``meta`` device.
    """
    raise NotImplementedError('t27 count_trainable: not implemented yet - write it in course/t27_finetuning_intro/freeze.py')


def replace_head(model: nn.Module, num_classes: int) -> nn.Linear:
    """Put a new ``nn.Linear(d_model, num_classes)`` (with a bias) at ``model.out_head``; return it.

    ``model`` is a topic-18 ``GPTModel``: ``d_model`` is ``model.config.d_model``.
    The new head is trainable and lives on the device, and has the dtype, of
    the token embedding's weight; its initial values are PyTorch's defaults.
    Afterwards ``model(ids)`` gives ``(batch, seq, num_classes)`` scores. Nothing
    else changes: the token embedding (the same ``Parameter``, the same values,
    the same ``requires_grad``), every other parameter, ``model.config``. A tied
    head simply stops being tied. ``num_classes`` must be an ``int >= 1``, else
    ``ValueError`` naming it, and the model is left as it was.
    """
    raise NotImplementedError('t27 replace_head: not implemented yet - write it in course/t27_finetuning_intro/freeze.py')


def prepare_for_classification(model: nn.Module, num_classes: int = 2, trainable_blocks: int = 1,
                               train_final_norm: bool = True) -> nn.Module:
    """Turn a pretrained ``GPTModel`` into a classifier to finetune, in place; return ``model``.

    In order:

    1. freeze every parameter (embeddings, blocks, final norm, head);
    2. :func:`replace_head` with ``num_classes`` outputs (the new head is trainable);
    3. unfreeze the last ``trainable_blocks`` blocks of ``model.blocks``
       (``0``: none; ``len(model.blocks)``: all);
    4. unfreeze ``model.final_norm`` when ``train_final_norm``.

    So exactly these parameters train afterwards: the head's weight and bias,
    every parameter of the last ``trainable_blocks`` blocks, and the final norm's
    when asked - whatever was frozen before. Weights keep their values.
    ``trainable_blocks`` must be an int in ``[0, len(model.blocks)]`` and
    ``num_classes`` an ``int >= 1``, else ``ValueError`` naming the value (and
    the number of blocks); both are checked before anything changes.
    """
    raise NotImplementedError('t27 prepare_for_classification: not implemented yet - write it in course/t27_finetuning_intro/freeze.py')

"""A correct freeze module written from the README alone, differently from the reference."""

from __future__ import annotations

from torch import nn


def set_trainable(module, trainable):
    if type(trainable) is not bool:
        raise TypeError(f"expected True or False for trainable, not {trainable!r}")
    for _, param in module.named_parameters():
        param.requires_grad = trainable


def count_trainable(model):
    seen, total = set(), 0
    for _, param in model.named_parameters(remove_duplicate=False):
        if id(param) in seen:
            continue
        seen.add(id(param))
        if param.requires_grad:
            total += param.numel()
    return int(total)


def _classes_ok(num_classes):
    return type(num_classes) is int and num_classes >= 1


def replace_head(model, num_classes):
    if not _classes_ok(num_classes):
        raise ValueError(f"{num_classes!r} is not a valid number of classes (num_classes: an int, at least 1)")
    embedding = model.embedding.tok_emb.weight
    head = nn.Linear(model.config.d_model, num_classes).to(device=embedding.device, dtype=embedding.dtype)
    for param in head.parameters():
        param.requires_grad = True
    model.out_head = head
    return model.out_head


def prepare_for_classification(model, num_classes=2, trainable_blocks=1, train_final_norm=True):
    blocks = list(model.blocks)
    if type(trainable_blocks) is not int or trainable_blocks < 0 or trainable_blocks > len(blocks):
        raise ValueError(f"trainable_blocks={trainable_blocks} is outside 0..{len(blocks)} (the model has "
                         f"{len(blocks)} blocks)")
    if not _classes_ok(num_classes):
        raise ValueError(f"{num_classes!r} is not a valid number of classes (num_classes: an int, at least 1)")
    for param in model.parameters():
        param.requires_grad = False
    replace_head(model, num_classes)
    for block in blocks[len(blocks) - trainable_blocks:]:
        for param in block.parameters():
            param.requires_grad = True
    if train_final_norm:
        for param in model.final_norm.parameters():
            param.requires_grad = True
    return model

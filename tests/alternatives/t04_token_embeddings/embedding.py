"""Topic 04, written another way: index_select on a flattened view, one-hot by scatter."""

import torch
from torch import nn


def _validate(ids, size, what):
    if not torch.is_tensor(ids) or ids.dtype not in (torch.int64, torch.int32, torch.int16,
                                                     torch.int8, torch.uint8):
        raise TypeError(f"{what}: need integer ids, got {getattr(ids, 'dtype', type(ids))}")
    flat = ids.reshape(-1).tolist()
    for value in flat:
        if not 0 <= value < size:
            raise IndexError(f"{what}: id {value} not in [0, {size}) - vocabulary size {size}")


class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        table = torch.empty(num_embeddings, embedding_dim)
        nn.init.normal_(table, mean=0.0, std=1.0)
        self.register_parameter("weight", nn.Parameter(table))
        self.size = num_embeddings

    def forward(self, ids):
        _validate(ids, self.size, "Embedding")
        rows = torch.index_select(self.weight, 0, ids.reshape(-1).long())
        return rows.reshape(*ids.shape, self.weight.shape[1])


def one_hot(ids, num_classes):
    _validate(ids, num_classes, "one_hot")
    out = torch.zeros(*ids.shape, num_classes)
    out.scatter_(-1, ids.long().unsqueeze(-1), 1.0)
    return out


def embed_via_one_hot(ids, weight):
    hot = one_hot(ids, weight.size(0))
    return torch.einsum("...v,vd->...d", hot, weight)

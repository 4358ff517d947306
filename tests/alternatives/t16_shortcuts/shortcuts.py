"""Alternative topic 16: same contract, different internals.

* the layers are appended to an empty ``nn.ModuleList`` one by one;
* a layer gets a shortcut when its ``in_features == out_features``;
* the loss is written out as ``((y - t) ** 2).mean()``, old gradients are cleared by
  setting every ``p.grad`` to ``None``, and the report is built in a loop.
"""

from __future__ import annotations

import torch
from torch import nn

from course.t15_gelu_feedforward import GELU


class DeepNet(nn.Module):
    def __init__(self, sizes, use_shortcut):
        super().__init__()
        self.use_shortcut = use_shortcut
        sizes = list(sizes)
        if len(sizes) <= 1:
            raise ValueError(f"need at least 2 sizes for one layer, got {len(sizes)}")
        self.act = GELU()
        self.layers = nn.ModuleList()
        for i in range(len(sizes) - 1):
            self.layers.append(nn.Linear(sizes[i], sizes[i + 1]))

    def forward(self, x):
        h = x
        for layer in self.layers:
            branch = self.act(layer(h))
            if self.use_shortcut and layer.in_features == layer.out_features:
                branch = branch + h
            h = branch
        return h


def gradient_report(model, x, target):
    for p in model.parameters():
        p.grad = None
    prediction = model(x)
    loss = ((prediction - target) ** 2).mean()
    loss.backward()
    report = {}
    for name, p in model.named_parameters():
        if name.split(".")[-1] == "weight":
            report[name] = float(torch.mean(torch.abs(p.grad)))
    return report


def compare_shortcuts(sizes, x, target, seed=0):
    reports = {}
    for name, shortcut in (("plain", False), ("shortcut", True)):
        torch.manual_seed(seed)
        reports[name] = gradient_report(DeepNet(sizes, shortcut), x, target)
    return reports

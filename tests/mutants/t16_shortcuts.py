"""Planted bugs for topic 16. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "shortcuts.py"

LOOP = ("        for layer in self.layers:\n"
        "            out = self.act(layer(x))\n")
SHORTCUT = "x = x + out if self.use_shortcut and out.shape == x.shape else out"
REPORT = ("    return {name: p.grad.abs().mean().item() for name, p in model.named_parameters()\n"
          "            if name.endswith(\"weight\") and p.grad is not None}")

MUTANTS = [
    (F, SHORTCUT, "x = x + out if self.use_shortcut else out",
     "shortcut added even where the shapes differ (crash or silent broadcast)"),
    (F, SHORTCUT, "x = x + out if self.use_shortcut and out.shape[-1] == x.shape[-1] or out.shape[-1] == 1 "
                  "and self.use_shortcut else out", "shortcut where out has width 1 (broadcasts)"),
    (F, SHORTCUT, "x = x + out if out.shape == x.shape else out", "use_shortcut ignored: shortcuts always on"),
    (F, SHORTCUT, "x = out", "no shortcut at all"),
    (F, LOOP + "            # a shortcut needs matching shapes; a layer that changes the width has none\n"
              "            " + SHORTCUT,
     "        first = x\n" + LOOP
     + "            x = first + out if self.use_shortcut and out.shape == first.shape else out",
     "shortcut from the input of the whole net instead of the layer's input"),
    (F, "out = self.act(layer(x))", "out = layer(self.act(x))", "GELU before the Linear instead of after"),
    (F, "out = self.act(layer(x))", "out = layer(x) if layer is self.layers[-1] else self.act(layer(x))",
     "no GELU after the last layer"),
    (F, SHORTCUT, "x = self.act(x + layer(x)) if self.use_shortcut and out.shape == x.shape else out",
     "GELU applied after the sum instead of on the branch"),
    (F, "self.act = GELU()", "self.act = GELU(\"none\")", "exact GELU instead of the tanh form"),
    (F, "self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))",
     "self.layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]",
     "plain list: the layers' parameters are not registered"),
    (F, "nn.Linear(a, b) for a, b in zip", "nn.Linear(a, b, bias=False) for a, b in zip", "layers without bias"),
    (F, "if len(sizes) < 2:", "if len(sizes) < 1:", "a single size accepted (a net with no layer)"),
    (F, REPORT, REPORT.replace(' and p.grad is not None', '').replace('if name.endswith("weight")', 'if True'),
     "report includes biases"),
    (F, "    model.zero_grad(set_to_none=True)\n", "", "gradients accumulate across calls (no zero_grad)"),
    (F, "p.grad.abs().mean().item()", "p.grad.mean().item()", "mean of grad instead of mean of |grad|"),
    (F, "p.grad.abs().mean().item()", "p.grad.abs().sum().item()", "sum of |grad| instead of the mean"),
    (F, "p.grad.abs().mean().item()", "p.grad.abs().mean()", "tensors instead of Python floats"),
    (F, "loss = nn.functional.mse_loss(model(x), target)",
     "loss = nn.functional.mse_loss(model(x), target, reduction=\"sum\")", "summed squared error, not the mean"),
    (F, "loss = nn.functional.mse_loss(model(x), target)", "loss = (model(x) - target).abs().mean()",
     "mean absolute error instead of the squared one"),
    (F, REPORT, "    report = {name: p.grad.abs().mean().item() for name, p in model.named_parameters()\n"
                "              if name.endswith(\"weight\")}\n"
                "    model.zero_grad()\n"
                "    return report", "gradients cleared after the report: the model is not left with them"),
    (F, REPORT, "    return dict(sorted((name, p.grad.abs().mean().item()) for name, p in model.named_parameters()\n"
                "                       if name.endswith(\"weight\")))",
     "report sorted by name, not in parameter order (layers.10 before layers.2)"),
]

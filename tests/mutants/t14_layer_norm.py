"""Planted bugs for topic 14. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "layer_norm.py"
VAR = "var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)"
NORMALIZED = "normalized = (x - mean) / torch.sqrt(var + eps)"

MUTANTS = [
    # the statistics
    (F, VAR, "var = x.var(dim=-1, keepdim=True)", "unbiased variance (divides by d - 1)"),
    (F, VAR, "var = ((x - mean) ** 2).sum(dim=-1, keepdim=True) / (x.shape[-1] - 1)",
     "unbiased variance written out"),
    (F, "mean = x.mean(dim=-1, keepdim=True)", "mean = x.mean(dim=0, keepdim=True)", "mean over dim 0"),
    (F, VAR, "var = ((x - mean) ** 2).mean(dim=0, keepdim=True)", "variance over dim 0"),
    (F, "mean = x.mean(dim=-1, keepdim=True)", "mean = x.mean(dim=tuple(range(x.dim())), keepdim=True)",
     "mean over every axis"),
    (F, VAR, "var = ((x - mean) ** 2).mean(dim=tuple(range(x.dim())), keepdim=True)",
     "variance over every axis (the whole batch)"),
    (F, "mean = x.mean(dim=-1, keepdim=True)", "mean = torch.zeros_like(x[..., :1])", "mean not subtracted"),
    (F, VAR, "var = (x ** 2).mean(dim=-1, keepdim=True)", "variance about 0 instead of the mean"),
    # eps
    (F, NORMALIZED, "normalized = (x - mean) / (torch.sqrt(var) + eps)", "eps outside the square root"),
    (F, NORMALIZED, "normalized = (x - mean) / torch.sqrt(var)", "eps forgotten (constant rows give NaN)"),
    (F, NORMALIZED, "normalized = (x - mean) / (var + eps)", "var + eps without the square root"),
    (F, NORMALIZED, "normalized = (x - mean) / torch.sqrt(var + 1e-5)", "eps argument ignored"),
    (F, NORMALIZED, "normalized = (x - mean) / torch.sqrt(var + eps ** 2)", "eps squared"),
    (F, "return layer_norm(x, self.weight, self.bias, self.eps)", "return layer_norm(x, self.weight, self.bias)",
     "LayerNorm ignores its eps"),
    # scale and shift
    (F, "return normalized * weight + bias", "return normalized * weight", "the shift (bias) forgotten"),
    (F, "return normalized * weight + bias", "return normalized + bias", "the scale (weight) forgotten"),
    (F, "return normalized * weight + bias", "return (normalized + bias) * weight", "shift before scale"),
    (F, "return layer_norm(x, self.weight, self.bias, self.eps)",
     "return layer_norm(x, self.weight.detach(), self.bias.detach(), self.eps)", "no gradient to the parameters"),
    (F, "    mean = x.mean(dim=-1, keepdim=True)                        # (..., 1)\n",
     "    mean = x.mean(dim=-1, keepdim=True).detach()               # (..., 1)\n",
     "mean detached: wrong gradient for x"),
    # dtype
    (F, "    mean = x.mean(dim=-1, keepdim=True)                        # (..., 1)\n",
     "    x = x.float()\n    mean = x.mean(dim=-1, keepdim=True)                        # (..., 1)\n",
     "float64 input computed and returned in float32"),
    (F, "return normalized * weight + bias", "return (normalized * weight + bias).to(weight.dtype)",
     "result cast to the weight's dtype"),
    # parameters
    (F, "self.weight = nn.Parameter(torch.ones(d_model))", "self.weight = nn.Parameter(torch.zeros(d_model))",
     "weight initialised to zeros"),
    (F, "self.bias = nn.Parameter(torch.zeros(d_model))", "self.bias = nn.Parameter(torch.ones(d_model))",
     "bias initialised to ones"),
    (F, "self.weight = nn.Parameter(torch.ones(d_model))", "self.scale = nn.Parameter(torch.ones(d_model))",
     "weight named scale"),
    (F, "self.bias = nn.Parameter(torch.zeros(d_model))",
     "self.bias = nn.Parameter(torch.zeros(d_model), requires_grad=False)", "bias not trainable"),
    (F, "self.bias = nn.Parameter(torch.zeros(d_model))",
     "self.bias = nn.Parameter(torch.zeros(d_model))\n        self.register_buffer('eps_t', torch.tensor(eps))",
     "an extra saved buffer breaks state-dict loading"),
    (F, "self.weight = nn.Parameter(torch.ones(d_model))",
     "self.weight = nn.Parameter(torch.randn(d_model) * 0.02 + 1)", "weight initialised randomly"),
    # library shortcut
    (F, "    return normalized * weight + bias                          # broadcast over every position\n",
     "    return torch.nn.functional.layer_norm(x, (d,), weight, bias, eps)\n", "F.layer_norm used"),
    # shape errors
    (F, "    if tuple(weight.shape) != (d,) or tuple(bias.shape) != (d,):\n        raise",
     "    if False:\n        raise", "weight and bias shapes not checked"),
    (F, "if tuple(weight.shape) != (d,) or tuple(bias.shape) != (d,):",
     "if weight.shape[-1] != d or bias.shape[-1] != d:", "broadcastable weight/bias shapes accepted"),
    (F, "if tuple(weight.shape) != (d,) or tuple(bias.shape) != (d,):", "if tuple(weight.shape) != (d,):",
     "bias shape not checked"),
    (F, 'raise ValueError(f"LayerNorm({self.d_model}) got input with last axis {x.shape[-1]}")',
     'raise ValueError(f"LayerNorm got input with the wrong last axis")', "message names neither size"),
]

"""Planted bugs for topic 15. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "feedforward.py"

TANH_LINE = "return 0.5 * x * (1.0 + torch.tanh(inner))"
ERF_LINE = "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))"

MUTANTS = [
    (F, TANH_LINE, ERF_LINE, "exact erf form where the tanh form is asked"),
    (F, ERF_LINE, TANH_LINE, "tanh form where the exact form is asked"),
    (F, 'if approximate == "tanh":', 'if approximate != "none":',
     "unknown approximate silently treated as tanh instead of raising"),
    (F, "0.044715 * x ** 3", "0.44715 * x ** 3", "cubic coefficient mistyped (0.44715)"),
    (F, "0.044715 * x ** 3", "0.04715 * x ** 3", "cubic coefficient mistyped (0.04715)"),
    (F, "0.044715 * x ** 3", "0.044715 * x ** 2", "square instead of cube in the tanh form"),
    (F, "math.sqrt(2.0 / math.pi)", "math.sqrt(math.pi / 2.0)", "sqrt(pi/2) instead of sqrt(2/pi)"),
    (F, TANH_LINE, "return x * (1.0 + torch.tanh(inner))", "missing 0.5 in the tanh form"),
    (F, ERF_LINE, "return x * (1.0 + torch.erf(x / math.sqrt(2.0)))", "missing 0.5 in the exact form"),
    (F, "torch.erf(x / math.sqrt(2.0))", "torch.erf(x)", "erf(x) instead of erf(x / sqrt 2)"),
    (F, TANH_LINE, "return 0.5 * (1.0 + torch.tanh(inner))", "Phi(x) returned instead of x * Phi(x)"),
    (F, "return self.proj(self.act(self.fc(x)))", "return self.proj(torch.relu(self.fc(x)))",
     "ReLU instead of GELU in the feed-forward network"),
    (F, "return self.proj(self.act(self.fc(x)))", "return self.act(self.proj(self.fc(x)))",
     "GELU after proj instead of between the layers"),
    (F, "return self.proj(self.act(self.fc(x)))", "return self.proj(self.fc(x))", "no nonlinearity at all"),
    (F, "hidden = 4 * d_model if hidden is None else hidden", "hidden = 2 * d_model if hidden is None else hidden",
     "default hidden width 2 * d_model"),
    (F, "hidden = 4 * d_model if hidden is None else hidden", "hidden = 4 * d_model",
     "explicit hidden ignored"),
    (F, "self.fc = nn.Linear(d_model, hidden)\n        self.act = GELU(approximate)\n"
        "        self.proj = nn.Linear(hidden, d_model)",
     "self.proj = nn.Linear(d_model, hidden)\n        self.act = GELU(approximate)\n"
     "        self.fc = nn.Linear(hidden, d_model)",
     "fc and proj swapped (the widening layer named proj)"),
    (F, "self.act = GELU(approximate)", "self.act = GELU()", "approximate ignored by FeedForward"),
    (F, "self.proj = nn.Linear(hidden, d_model)", "self.proj = nn.Linear(hidden, d_model, bias=False)",
     "proj without bias"),
    (F, "return self.proj(self.act(self.fc(x)))",
     "return self.proj(self.act(self.fc(x - x.mean(dim=0, keepdim=True))))",
     "positions mixed: centred over the first axis"),
    (F, "inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)",
     "inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3).double()",
     "float64 result for a float32 input"),
    (F, TANH_LINE, 'return torch.nn.functional.gelu(x, approximate="tanh")', "library F.gelu instead of the formula"),
    (F, 'raise ValueError(f"gelu: approximate={approximate!r} is not one of {APPROXIMATIONS}")',
     'raise ValueError("gelu: unknown approximation")', "error message names neither the value nor the choices"),
]

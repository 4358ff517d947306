"""Planted bugs for topic 05. Each entry: (file, text in the reference, replacement, what it breaks)."""

MUTANTS = [
    ("positional.py", "table[:, 0::2] = torch.sin(angle)\n    table[:, 1::2] = torch.cos(angle[:, : d_model // 2])",
     "table[:, 0::2] = torch.cos(angle)\n    table[:, 1::2] = torch.sin(angle[:, : d_model // 2])",
     "sin and cos swapped"),
    ("positional.py", "inv_freq = base ** (-even / d_model)", "inv_freq = base ** (-(even / 2) / d_model)",
     "exponent i/d instead of 2i/d"),
    ("positional.py", "torch.cos(angle[:, : d_model // 2])", "torch.cos(angle)", "crashes on odd d_model"),
    ("positional.py", "inv_freq = base ** (-even / d_model)", "inv_freq = 10000.0 ** (-even / d_model)",
     "base ignored"),
    ("positional.py", "index = torch.arange(seq_len, device=self.table.weight.device)",
     "index = torch.arange(1, seq_len + 1, device=self.table.weight.device)",
     "learned positions start at 1"),
    ("positional.py", 'self.register_buffer("pe", sinusoidal_encoding(context_length, d_model, base), persistent=False)',
     'self.pe = nn.Parameter(sinusoidal_encoding(context_length, d_model, base), requires_grad=False)',
     "sinusoidal table stored as a parameter"),
    ("positional.py", 'self.register_buffer("pe", sinusoidal_encoding(context_length, d_model, base), persistent=False)',
     'self.register_buffer("pe", sinusoidal_encoding(context_length, d_model, base))',
     "sinusoidal buffer saved in the state_dict"),
    ("positional.py", "        return self.pe[:seq_len]", "        return self.pe[1 : seq_len + 1]",
     "sinusoidal positions start at 1"),
    ("positional.py", "    if pos.dim() != 2 or x.dim() < 2 or tuple(x.shape[-2:]) != tuple(pos.shape):",
     "    if False:", "add_positions lets PyTorch broadcast mismatched shapes"),
    ("positional.py", "        if seq_len > self.context_length:\n            raise ValueError(f\"sequence too long: got seq_len={seq_len} > \"\n"
     "                             f\"context_length={self.context_length}\")\n        index",
     "        index", "learned positions: no length check (IndexError from the table)"),
    ("positional.py", "        if seq_len > self.context_length:\n            raise ValueError(f\"sequence too long: got seq_len={seq_len} > \"\n"
     "                             f\"context_length={self.context_length}\")\n        return self.pe",
     "        return self.pe", "sinusoidal positions: silently truncated when too long"),
    ("positional.py", "        if seq_len > self.context_length:\n            raise ValueError(f\"sequence too long: got seq_len={seq_len} > \"\n"
     "                             f\"context_length={self.context_length}\")\n        index",
     "        if seq_len >= self.context_length:\n            raise ValueError(f\"sequence too long: got seq_len={seq_len} > \"\n"
     "                             f\"context_length={self.context_length}\")\n        index",
     "learned: full context_length rejected"),
    ("positional.py", "    if pos.dim() != 2 or x.dim() < 2 or tuple(x.shape[-2:]) != tuple(pos.shape):",
     "    if x.dim() < 2 or tuple(x.shape[-2:]) != tuple(pos.shape[-2:]):",
     "add_positions accepts a 3-D pos whose last two sizes fit"),
    ("positional.py", 'raise ValueError(f"cannot add positions of shape {tuple(pos.shape)} (seq, d_model) to inputs "\n'
     '                         f"of shape {tuple(x.shape)} (..., seq, d_model)")',
     'raise ValueError(f"cannot add positions of shape {tuple(pos.shape)} (seq, d_model)")',
     "add_positions' ValueError names only the shape of pos"),
]

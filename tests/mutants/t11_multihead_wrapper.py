"""Planted bugs for topic 11. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "multihead_wrapper.py"
CAT = "return torch.cat([head(x) for head in self.heads], dim=-1)"

HEADS = ("        self.heads = nn.ModuleList(\n"
         "            CausalAttention(d_in, head_dim, context_length, dropout=dropout, qkv_bias=qkv_bias)\n"
         "            for _ in range(num_heads)\n"
         "        )")
ONE_HEAD = "        first = CausalAttention(d_in, head_dim, context_length, dropout=dropout, qkv_bias=qkv_bias)\n"

MUTANTS = [
    (F, HEADS, ONE_HEAD + "        self.heads = nn.ModuleList(__import__('copy').deepcopy(first) for _ in range(num_heads))",
     "every head a copy of the first (same initial weights)"),
    (F, HEADS, ONE_HEAD + "        self.heads = nn.ModuleList([first] * num_heads)",
     "one head object registered num_heads times"),
    (F, CAT, "return torch.cat([head(x) for head in self.heads[::-1]], dim=-1)",
     "heads concatenated in reversed order"),
    (F, CAT, "return torch.stack([head(x) for head in self.heads], dim=-1).flatten(-2)",
     "heads interleaved feature by feature (stack + flatten)"),
    (F, CAT, "return torch.cat([head(x) for head in self.heads], dim=1)",
     "concatenated along the sequence axis"),
    (F, CAT, "return torch.cat([self.heads[0](x) for head in self.heads], dim=-1)",
     "the first head repeated"),
    (F, "self.heads = nn.ModuleList(", "self.heads = list(",
     "heads kept in a Python list: parameters not registered"),
    (F, "CausalAttention(d_in, head_dim, context_length, dropout=dropout, qkv_bias=qkv_bias)",
     "CausalAttention(d_in, head_dim // num_heads, context_length, dropout=dropout, qkv_bias=qkv_bias)",
     "each head given head_dim // num_heads features (head_dim read as the total width)"),
    (F, "CausalAttention(d_in, head_dim, context_length, dropout=dropout, qkv_bias=qkv_bias)",
     "CausalAttention(d_in, head_dim, context_length, qkv_bias=qkv_bias)", "dropout not passed to the heads"),
    (F, "CausalAttention(d_in, head_dim, context_length, dropout=dropout, qkv_bias=qkv_bias)",
     "CausalAttention(d_in, head_dim, context_length, dropout=dropout)", "qkv_bias not passed to the heads"),
    (F, "        if num_heads < 1:\n", "        if num_heads < 0:\n", "num_heads=0 accepted"),
    (F, "        if num_heads < 1:\n", "        if num_heads <= 1:\n", "a single head rejected (off by one)"),
]

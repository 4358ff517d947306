"""Planted bugs for topic 18. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "model.py"

BLOCKS = """        blocks = [TransformerBlock(c.d_model, c.num_heads, c.context_length, c.dropout, c.qkv_bias)
                  for _ in range(c.num_layers)]
"""
TIE = "            self.out_head.weight = self.embedding.tok_emb.weight\n"
EMBED = "        x = self.embedding(ids)            # (batch, seq, d_model)\n"

MUTANTS = [
    (F, "return self.out_head(self.final_norm(x))", "return self.out_head(x)", "final LayerNorm missing"),
    (F, "return self.out_head(self.final_norm(x))", "return self.final_norm(x) @ self.out_head.weight.T",
     "the head's weight used instead of the head (a swapped-in head's bias is ignored)"),
    (F, TIE, "            self.out_head.weight = nn.Parameter(self.embedding.tok_emb.weight.detach().clone())\n",
     "weight tying silently broken: a copy instead of the same Parameter"),
    (F, TIE, "            self.out_head.weight.data = self.embedding.tok_emb.weight.data\n",
     "weight tying through .data: shared storage but two Parameters"),
    (F, EMBED,
     "        seq = ids.shape[1]\n"
     "        x = self.embedding.drop(self.embedding.tok_emb(ids)\n"
     "                                + self.embedding.pos_emb.table(torch.arange(1, seq + 1)))\n",
     "position embeddings indexed from 1"),
    (F, BLOCKS,
     "        blocks = [TransformerBlock(c.d_model, c.num_heads, c.context_length, c.dropout,\n"
     "                                   c.qkv_bias)] * c.num_layers\n",
     "blocks sharing one module ([block] * n)"),
    (F, "param.normal_(0.0, residual_std)", "param.normal_(0.0, INIT_STD)", "residual projections not scaled"),
    (F, "residual_std = INIT_STD / math.sqrt(2 * num_layers)", "residual_std = INIT_STD / (2 * num_layers)",
     "residual projections scaled by 1/(2L) instead of 1/sqrt(2L)"),
    (F, "return sum(p.numel() for p in model.parameters())",
     "return sum(p.numel() for p in model.parameters(remove_duplicate=False))",
     "count_parameters counts the tied weight twice"),
    (F, "return sum(p.numel() for p in model.parameters())",
     "return sum(p.numel() for p in model.parameters() if p.requires_grad)",
     "count_parameters skips frozen parameters"),
    (F, "return sum(p.numel() for p in model.parameters())",
     "return sum(t.numel() for t in model.state_dict().values())",
     "count_parameters counts state-dict entries (the tied weight twice)"),
    (F, "return count_parameters(model) * torch.empty((), dtype=dtype).element_size()",
     "return count_parameters(model) * (2 if dtype == torch.float16 else 8 if dtype == torch.float64 else 4)",
     "bfloat16 counted as 4 bytes"),
    (F, "return count_parameters(model) * torch.empty((), dtype=dtype).element_size()",
     "return count_parameters(model) * next(model.parameters()).element_size()",
     "parameter_memory uses the model's own dtype, not the argument"),
    (F, "        init_gpt2_weights(self, c.num_layers)\n", "",
     "init_gpt2_weights never called: PyTorch's default init"),
    (F, "residual_std = INIT_STD / math.sqrt(2 * num_layers)",
     "residual_std = INIT_STD / math.sqrt(2 * len(model.blocks))",
     "num_layers argument ignored: the depth read from the model"),
    (F, "            param.fill_(1.0)\n", "            param.normal_(0.0, INIT_STD)\n",
     "LayerNorm weights drawn like the linear weights instead of set to 1"),
    (F, "        if name.endswith(\"bias\"):\n            param.zero_()\n",
     "        if name.endswith(\"bias\"):\n            pass\n", "biases left at PyTorch's default init"),
    (F, "            param.normal_(0.0, INIT_STD)\n",
     "            param.normal_(0.0, INIT_STD) if \"emb\" not in name else None\n",
     "embeddings left at topic 04's N(0, 1)"),
    (F, "            param.normal_(0.0, INIT_STD)\n", "            param.uniform_(-INIT_STD, INIT_STD)\n",
     "uniform instead of normal weights"),
    (F, "        if c.tie_weights:\n", "        if True:\n", "weights always tied"),
    (F, "        if c.tie_weights:\n", "        if False:\n", "weights never tied"),
    (F, "InputEmbedding(c.vocab_size, c.context_length, c.d_model, c.dropout)",
     "InputEmbedding(c.vocab_size, c.context_length, c.d_model, 0.0)", "no dropout in the embedding"),
    (F, "TransformerBlock(c.d_model, c.num_heads, c.context_length, c.dropout, c.qkv_bias)",
     "TransformerBlock(c.d_model, c.num_heads, c.context_length, 0.0, c.qkv_bias)", "no dropout in the blocks"),
    (F, "TransformerBlock(c.d_model, c.num_heads, c.context_length, c.dropout, c.qkv_bias)",
     "TransformerBlock(c.d_model, c.num_heads, c.context_length, c.dropout, True)", "qkv_bias ignored (always on)"),
    (F, "        x = self.blocks(x)                 # (batch, seq, d_model)\n",
     "        for block in reversed(self.blocks):\n            x = block(x)\n", "blocks run in reverse order"),
    (F, "return self.out_head(self.final_norm(x))", "return torch.softmax(self.out_head(self.final_norm(x)), dim=-1)",
     "softmax applied to the logits"),
    (F, "        self.config = config\n", "", "config attribute missing"),
]

"""Planted bugs for topic 12. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "multihead_attention.py"
SPLIT = "return x.view(batch, seq, num_heads, d // num_heads).transpose(1, 2)"
MERGE = "return x.transpose(1, 2).contiguous().view(batch, seq, num_heads * head_dim)"
MASK = 'self.register_buffer("mask", causal_mask(context_length), persistent=False)'
FORWARD = ("        weights = self.dropout(self.attention_weights(x))  # (batch, num_heads, seq, seq)\n"
           "        values = split_heads(self.W_value(x), self.num_heads)")

MUTANTS = [
    (F, MASK, 'self.register_buffer("mask", torch.triu(torch.ones(context_length, context_length, '
              'dtype=torch.bool), diagonal=0), persistent=False)',
     "mask off by one: triu(diagonal=0) also hides each token from itself"),
    (F, MASK, 'self.register_buffer("mask", torch.triu(torch.ones(context_length, context_length, '
              'dtype=torch.bool), diagonal=2), persistent=False)',
     "mask off by one the other way: each token sees the next one"),
    (F, '        scores = scores.masked_fill(self.mask[:seq, :seq], float("-inf"))\n', "",
     "mask ignored"),
    (F, FORWARD, "        weights = self.attention_weights(x)\n"
                 "        values = split_heads(self.dropout(self.W_value(x)), self.num_heads)",
     "dropout applied to the values instead of the weights"),
    (F, MERGE, "return x.flip(1).transpose(1, 2).contiguous().view(batch, seq, num_heads * head_dim)",
     "heads merged in reversed order"),
    (F, SPLIT, "return x.view(batch, num_heads, seq, d // num_heads)",
     "view without transpose: positions mixed into heads"),
    (F, SPLIT, "return x.view(batch, seq, d // num_heads, num_heads).permute(0, 3, 1, 2)",
     "heads take every num_heads-th feature instead of a contiguous block"),
    (F, MERGE, "return x.contiguous().view(batch, seq, num_heads * head_dim)",
     "transpose(1, 2) missing before merging the heads"),
    (F, "        return self.out_proj(context)\n", "        return context\n", "out_proj missing"),
    (F, "self.out_proj = nn.Linear(d_out, d_out)", "self.out_proj = nn.Linear(d_out, d_out, bias=False)",
     "out_proj without bias"),
    (F, "scores = queries @ keys.transpose(-2, -1) / math.sqrt(self.head_dim)",
     "scores = queries @ keys.transpose(-2, -1)", "missing 1/sqrt(head_dim) scaling"),
    (F, "scores = queries @ keys.transpose(-2, -1) / math.sqrt(self.head_dim)",
     "scores = queries @ keys.transpose(-2, -1) / math.sqrt(self.d_out)",
     "scaled by sqrt(d_out) instead of sqrt(head_dim)"),
    (F, "        if num_heads < 1 or d_out % num_heads != 0:\n", "        if num_heads < 1:\n",
     "d_out not divisible by num_heads accepted"),
    (F, "torch.cat([getattr(h, name).weight for h in heads], dim=0)",
     "torch.cat([getattr(h, name).weight for h in heads[::-1]], dim=0)",
     "wrapper_to_fused stacks the heads' weights in reversed order"),
    (F, "        fused.out_proj.weight.copy_(torch.eye(fused.d_out))\n", "",
     "wrapper_to_fused leaves out_proj random"),
    (F, "                target.bias.copy_(torch.cat([getattr(h, name).bias for h in heads], dim=0))\n",
     "                pass\n", "wrapper_to_fused drops the qkv biases"),
    (F, "weights = source.weight.split(mha.head_dim, dim=0)",
     "weights = source.weight.split(mha.head_dim, dim=0)[::-1]",
     "fused_to_wrapper gives head 0 the last block"),
    (F, "mha.dropout.p,", "0.0,", "fused_to_wrapper builds the wrapper without dropout"),
    (F, "first.dropout.p,", "0.0,", "wrapper_to_fused builds the fused module without dropout"),
    (F, "first.mask.shape[0]", "1024", "wrapper_to_fused uses GPT-2's context_length, not the heads' mask size"),
    (F, "mha.context_length, mha.dropout.p", "1024, mha.dropout.p",
     "fused_to_wrapper uses GPT-2's context_length, not the fused module's"),
    (F, "    if d % num_heads != 0:\n"
        "        raise ValueError(f\"split_heads: last dimension {d} is not divisible by num_heads={num_heads}\")\n",
     "", "split_heads does not check divisibility: view raises a RuntimeError"),
    (F, "        if seq > self.context_length:\n", "        if seq > self.context_length + 1:\n",
     "length check off by one: context_length + 1 tokens get past it and fail later with a RuntimeError"),
    (F, "if x.dim() != 3 or x.shape[-1] != self.d_in:", "if x.dim() != 3:",
     "input width not checked: a wrong d_in fails inside nn.Linear with a RuntimeError"),
    (F, "if num_heads < 1 or d_out % num_heads != 0:", "if d_out % num_heads != 0:",
     "num_heads=0 not rejected: ZeroDivisionError instead of ValueError"),
]

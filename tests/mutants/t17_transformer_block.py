"""Planted bugs for topic 17. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "block.py"

ATTN = "        x = x + self.drop(self.attn(self.norm1(x)))   # attention branch (pre-LN) + shortcut\n"
FF = "        x = x + self.drop(self.ff(self.norm2(x)))     # feed-forward branch (pre-LN) + shortcut\n"

MUTANTS = [
    (F, ATTN + FF,
     "        x = self.norm1(x + self.drop(self.attn(x)))\n        x = self.norm2(x + self.drop(self.ff(x)))\n",
     "post-LN: the sum is normalized instead of each branch's input"),
    (F, ATTN + FF,
     "        x = self.drop(x + self.attn(self.norm1(x)))\n        x = self.drop(x + self.ff(self.norm2(x)))\n",
     "dropout applied to the sum x + f(x) instead of the branch output"),
    (F, FF, "        x = self.drop(x + self.ff(self.norm2(x)))\n",
     "dropout applied to the sum on the feed-forward branch only"),
    (F, ATTN, "        x = self.drop(self.attn(self.norm1(x)))\n", "attention branch without its shortcut"),
    (F, FF, "        x = self.drop(self.ff(self.norm2(x)))\n", "feed-forward branch without its shortcut"),
    (F, "self.ff(self.norm2(x))", "self.ff(self.norm1(x))", "norm1 used for both branches"),
    (F, ATTN + FF, FF + ATTN, "feed-forward branch before the attention branch"),
    (F, "self.ff(self.norm2(x))", "self.ff(x)", "feed-forward branch reads the stream without norm2"),
    (F, "self.attn(self.norm1(x))", "self.attn(x)", "attention branch reads the stream without norm1"),
    (F, "self.drop(self.ff(self.norm2(x)))", "self.ff(self.norm2(x))", "no dropout on the feed-forward branch"),
    (F, "self.drop(self.attn(self.norm1(x)))", "self.attn(self.drop(self.norm1(x)))",
     "dropout on the attention branch's input instead of its output"),
    (F, "self.drop = nn.Dropout(dropout)", "self.drop = nn.Dropout(0.1)", "branch dropout rate fixed at 0.1"),
    (F, "MultiHeadAttention(d_model, d_model, context_length, dropout, num_heads",
     "MultiHeadAttention(d_model, d_model, context_length, 0.0, num_heads",
     "attention built without dropout on its weights"),
    (F, "MultiHeadAttention(d_model, d_model, context_length, dropout, num_heads",
     "MultiHeadAttention(d_model, d_model, context_length, dropout, 1",
     "num_heads ignored: a single head"),
    (F, "qkv_bias=qkv_bias)", "qkv_bias=False)", "qkv_bias ignored"),
    (F, "self.norm2 = LayerNorm(d_model)", "self.norm2 = self.norm1", "one LayerNorm object for both branches"),
    (F, "self.ff = FeedForward(d_model)", "self.ff = FeedForward(d_model, hidden=2 * d_model)",
     "feed-forward hidden width 2 * d_model instead of 4 * d_model"),
    (F, "        return x\n", "        return x.detach()\n", "output detached: no gradients reach the block"),
]

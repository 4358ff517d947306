"""Planted bugs for topic 10. Each entry: (file, text in the reference, replacement, what it breaks).

Scaling by sqrt(d_k) is delegated to topic 09's ``scaled_dot_product``, so the
"missing sqrt" bug is planted in topic 12, where the fused layer scales itself.
"""

F = "causal_attention.py"

MUTANTS = [
    (F, "diagonal=1)", "diagonal=0)", "mask off by one: each token also hidden from itself"),
    (F, "torch.triu(torch.ones(seq_len, seq_len, dtype=torch.bool), diagonal=1)",
     "torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool), diagonal=-1)",
     "mask hides the past instead of the future"),
    (F, "_, weights = scaled_dot_product(queries, keys, keys, mask)",
     "_, weights = scaled_dot_product(queries, keys, keys)", "mask ignored"),
    (F, "mask = self.mask[:seq, :seq]", "mask = self.mask",
     "whole mask used: sequences shorter than context_length break"),
    (F, "return self.dropout(weights) @ values", "return weights @ self.dropout(values)",
     "dropout applied to the values instead of the weights"),
    (F, "return self.dropout(weights) @ values", "return self.dropout(weights @ values)",
     "dropout applied to the output instead of the weights"),
    (F, 'self.register_buffer("mask", causal_mask(context_length), persistent=False)',
     "self.mask = causal_mask(context_length)", "mask is a plain attribute, not a buffer"),
    (F, 'self.register_buffer("mask", causal_mask(context_length), persistent=False)',
     "self.mask = nn.Parameter(causal_mask(context_length), requires_grad=False)",
     "mask registered as a parameter"),
    (F, "self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)",
     "self.W_key = nn.Linear(d_in, d_out, bias=False)", "qkv_bias ignored for the keys"),
    (F, "        if seq > self.context_length:\n",
     "        if seq > self.context_length + 100:\n",
     "too-long sequences not rejected with a clear error"),
    (F, "self.dropout = nn.Dropout(dropout)", "self.dropout = nn.Dropout(0.1)",
     "dropout rate fixed instead of the argument"),
    (F, "        if seq > self.context_length:\n", "        if seq > self.context_length + 1:\n",
     "length check off by one: context_length + 1 tokens get past it and fail later with a RuntimeError"),
    (F, "if x.dim() != 3 or x.shape[-1] != self.d_in:", "if x.dim() != 3:",
     "input width not checked: a wrong d_in fails inside nn.Linear with a RuntimeError"),
    (F, "self.dropout = nn.Dropout(dropout)",
     "self.dropout = lambda weights: nn.functional.dropout(weights, dropout, self.training)",
     "dropout kept as a function, not an nn.Dropout submodule (topic 12 reads a head's dropout.p)"),
]

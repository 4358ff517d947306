"""Planted bugs for topic 09. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "self_attention.py"
SCALE = "scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)"

MUTANTS = [
    (F, SCALE, "scores = q @ k.transpose(-2, -1)", "scores not scaled by sqrt(d_k)"),
    (F, SCALE, "scores = q @ k.transpose(-2, -1) / d_k", "scores divided by d_k instead of sqrt(d_k)"),
    (F, SCALE, "scores = q @ k.transpose(-2, -1) / math.sqrt(v.shape[-1])",
     "scores scaled by sqrt(d_v) instead of sqrt(d_k)"),
    (F, SCALE, "scores = q @ k.transpose(-2, -1) / math.isqrt(d_k)",
     "scaled by the integer square root of d_k"),
    (F, 'scores = scores.masked_fill(mask, float("-inf"))',
     'scores = scores.masked_fill(~mask, float("-inf"))', "mask polarity inverted"),
    (F, 'scores = scores.masked_fill(mask, float("-inf"))',
     'scores = scores.masked_fill(mask, -1e9)', "masked scores set to -1e9 instead of -inf"),
    (F, 'scores = scores.masked_fill(mask, float("-inf"))',
     'scores = scores.masked_fill(mask, 0.0)', "masked scores set to 0 instead of -inf"),
    (F, "weights = softmax(scores, dim=-1)  #", "weights = softmax(scores, dim=-2)  #",
     "softmax over the query axis"),
    (F, "getattr(v1, name).copy_(getattr(v2, name).weight.T)",
     "getattr(v1, name).copy_(getattr(v2, name).weight)", "transfer without transpose"),
    (F, "getattr(v1, name).copy_(getattr(v2, name).weight.T)",
     "getattr(v1, name).copy_(getattr(v2, name).weight.reshape(getattr(v1, name).shape))",
     "transfer without transpose (reshaped instead)"),
    (F, "getattr(v1, name).copy_(getattr(v2, name).weight.T)",
     "getattr(v1, name).copy_(getattr(v2, name).weight.T * 1.0 if name != 'W_value' "
     "else getattr(v2, 'W_key').weight.T)",
     "transfer copies W_key into W_value"),
    (F, "keys = x @ self.W_key", "keys = x @ self.W_query", "V1 uses W_query for the keys"),
    (F, "context, _ = scaled_dot_product(self.W_query(x), self.W_key(x), self.W_value(x))",
     "context, _ = scaled_dot_product(self.W_key(x), self.W_query(x), self.W_value(x))",
     "V2 swaps queries and keys"),
    (F, "self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)",
     "self.W_value = nn.Linear(d_in, d_out, bias=False)", "qkv_bias ignored for W_value"),
    # planted for the checks added with the README promises
    (F, "getattr(v1, name).copy_(getattr(v2, name).weight.T)",
     "setattr(v1, name, nn.Parameter(getattr(v2, name).weight.T.clone()))",
     "transfer replaces V1's parameters instead of copying into them in place"),
    (F, "if tuple(source.T.shape) != tuple(target.shape):", "if False:",
     "transfer does not check sizes (copy_ then raises RuntimeError, not ValueError)"),
    (F, "def scaled_dot_product(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,\n",
     "def scaled_dot_product(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,\n",
     "scaled_dot_product's mask made keyword-only (topic 10 passes it positionally)"),
    (F, "queries = x @ self.W_query  #", "queries = x @ self.W_query * (self.d_out / self.d_in) ** 0.5  #",
     "V1 scales the scores by sqrt(d_in) instead of sqrt(d_k) = sqrt(d_out)"),
]

"""Planted bugs for topic 08. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "simple_attention.py"

MUTANTS = [
    (F, "shifted = x - x.amax(dim=dim, keepdim=True)", "shifted = x",
     "softmax without subtracting the max (overflows on large logits)"),
    (F, "shifted = x - x.amax(dim=dim, keepdim=True)", "shifted = x - x.max()",
     "softmax subtracts the global max instead of the max along dim"),
    (F, "return exps / exps.sum(dim=dim, keepdim=True)", "return exps / exps.sum(dim=0, keepdim=True)",
     "softmax normalises over axis 0 whatever dim is"),
    (F, "shifted = x - x.amax(dim=dim, keepdim=True)\n    exps = torch.exp(shifted)",
     "shifted = x - x.amax(dim=-1, keepdim=True)\n    exps = torch.exp(shifted)\n    dim = -1",
     "softmax ignores dim and always uses the last axis"),
    (F, "return torch.stack(context_rows), torch.stack(weight_rows)",
     "return torch.stack(context_rows), torch.stack(weight_rows, dim=1)",
     "loop form returns the transposed weights matrix"),
    (F, "weights = softmax(scores, dim=-1)\n    return weights @ inputs, weights",
     "weights = softmax(scores, dim=0)\n    return weights @ inputs, weights",
     "matrix form: softmax over axis 0 (the queries)"),
    (F, "row = softmax(attention_scores(query, inputs), dim=-1)",
     "row = attention_scores(query, inputs)\n        row = row / row.sum()",
     "loop form normalises scores by their sum instead of softmax"),
    (F, "return weights @ inputs, weights", "return weights @ inputs, scores",
     "matrix form returns the raw scores as weights"),
    (F, "    return inputs @ query\n", "    return inputs @ query / query.shape[0] ** 0.5\n",
     "scores scaled by sqrt(d) (that is topic 09, not here)"),
    # planted for the checks added with the README promises
    (F, "    return exps / exps.sum(dim=dim, keepdim=True)\n", "    return torch.softmax(x, dim=dim)\n",
     "softmax calls torch.softmax instead of computing it"),
    (F, "exps = torch.exp(shifted)", "exps = torch.exp(shifted.double())",
     "softmax returns float64 whatever the input dtype"),
    (F, "shifted = x - x.amax(dim=dim, keepdim=True)", "shifted = x.sub_(x.amax(dim=dim, keepdim=True))",
     "softmax shifts its input in place"),
    (F, "row = softmax(attention_scores(query, inputs), dim=-1)", "row = softmax(inputs @ query, dim=-1)",
     "loop form computes the scores inline instead of calling attention_scores"),
    (F, 'f"to match inputs {tuple(inputs.shape)}, got {tuple(query.shape)}")', '"to match inputs")',
     "attention_scores error does not name the query's shape"),
]

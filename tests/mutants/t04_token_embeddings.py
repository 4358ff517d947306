"""Planted bugs for topic 04. Each entry: (file, text in the reference, replacement, what it breaks)."""

MUTANTS = [
    ("embedding.py", "return self.weight[ids]",
     "return self.weight[(ids + 1) % self.num_embeddings]", "off-by-one row"),
    ("embedding.py", "nn.Parameter(torch.randn(num_embeddings, embedding_dim))",
     "nn.Parameter(torch.randn(embedding_dim, num_embeddings))", "transposed weight"),
    ("embedding.py", "nn.Parameter(torch.randn(num_embeddings, embedding_dim))",
     "nn.Parameter(torch.rand(num_embeddings, embedding_dim))", "uniform [0, 1) init instead of N(0, 1)"),
    ("embedding.py", "return self.weight[ids]", "return self.weight.detach()[ids]",
     "lookup cut off from autograd"),
    ("embedding.py", "outside = (ids < 0) | (ids >= self.num_embeddings)",
     "outside = ids >= self.num_embeddings", "negative ids silently wrap around"),
    ("embedding.py", "return (ids.unsqueeze(-1) == classes).float()",
     "return (ids.unsqueeze(0) == classes.view(-1, *[1] * ids.dim())).float()",
     "one_hot on the wrong axis"),
    ("embedding.py", "return (ids.unsqueeze(-1) == classes).float()",
     "return (ids.unsqueeze(-1) == classes).long()", "one_hot not float"),
    ("embedding.py", "return one_hot(ids, weight.shape[0]).to(weight.dtype) @ weight",
     "return one_hot(ids, weight.shape[0]).to(weight.dtype) @ weight.flip(0)",
     "one-hot product with the rows reversed"),
    ("embedding.py", "if ids.dtype == torch.bool or ids.is_floating_point() or ids.is_complex():\n"
     "            raise TypeError(f\"token ids must be an integer tensor, got dtype {ids.dtype}\")",
     "pass", "float and bool ids not rejected"),
]

"""Planted bugs for topic 19. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "generate.py"

WINDOW = "    window = ids[:, -context_length:]          # (batch, min(n, context_length))\n"
PICK = "        next_id = logits.argmax(dim=-1, keepdim=True)             # (batch, 1), first index on ties\n"
CHECK_STEPS = """    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
"""
CHECK_CONTEXT = """    if context_length < 1:
        # ids[:, -0:] would be *all* ids: a silent bug, so refuse it
        raise ValueError(f"context_length must be at least 1, got {context_length}")
"""
BATCH_ERROR = """            if ids.shape[0] != 1:
                raise ValueError(f"ids_to_text decodes one sequence, got a batch of {ids.shape[0]} rows "
                                 f"(shape {tuple(ids.shape)}): decode each row ids[i] on its own")
"""

MUTANTS = [
    (F, WINDOW, "    window = ids\n", "generation not cropping the context: the whole prompt is fed"),
    (F, WINDOW, "    window = ids[:, -(context_length - 1):]\n", "off-by-one crop: one id short of the window"),
    (F, WINDOW, "    window = ids[:, :context_length]\n", "the first context_length ids kept instead of the last"),
    (F, "    return logits[:, -1, :]                    # the scores for the next token\n",
     "    return logits[:, 0, :]\n", "next token taken from the first position's logits"),
    (F, "    return logits[:, -1, :]                    # the scores for the next token\n",
     "    return logits[:, -2, :] if logits.shape[1] > 1 else logits[:, -1, :]\n",
     "next token taken from the second-to-last position's logits"),
    (F, PICK, "        next_id = logits.shape[-1] - 1 - logits.flip(-1).argmax(dim=-1, keepdim=True)\n",
     "argmax ties resolved to the last index"),
    (F, PICK, "        next_id = torch.multinomial(torch.softmax(logits, dim=-1), 1)\n",
     "samples instead of taking the argmax (random, uses the global generator)"),
    (F, PICK, "        next_id = logits.argsort(dim=-1)[:, -2:-1]\n", "second-best id instead of the best"),
    (F, "        ids = torch.cat([ids, next_id], dim=1) ", "        ids = torch.cat([next_id, ids], dim=1) ",
     "new id prepended instead of appended"),
    (F, "    for _ in range(max_new_tokens):\n", "    for _ in range(max_new_tokens - 1):\n",
     "one new token too few"),
    (F, "    for _ in range(max_new_tokens):\n", "    model.eval()\n    for _ in range(max_new_tokens):\n",
     "generate_greedy switches the model to eval mode"),
    (F, CHECK_STEPS, "", "negative max_new_tokens silently returns the prompt"),
    (F, CHECK_CONTEXT, "", "context_length 0 not refused: ids[:, -0:] feeds every id"),
    (F, '        ids = tokenizer.encode(text, allowed_special="all")\n', "        ids = tokenizer.encode(text)\n",
     "allowed_special never passed: <|endoftext|> is not one id"),
    (F, "    if accepts_allowed_special(tokenizer):\n", "    if True:\n",
     "allowed_special passed to a tokenizer whose encode does not take it"),
    (F, "    return torch.tensor(list(ids), dtype=torch.long).unsqueeze(0)\n",
     "    return torch.tensor(list(ids), dtype=torch.long)\n", "text_to_ids returns (n,) instead of (1, n)"),
    (F, "    return torch.tensor(list(ids), dtype=torch.long).unsqueeze(0)\n",
     "    return torch.tensor(list(ids)).unsqueeze(0)\n", "no dtype: an empty text gives a float tensor"),
    (F, BATCH_ERROR, "", "ids_to_text decodes only the first row of a batch"),
    (F, "        ids = ids.tolist()\n    return tokenizer.decode([int(i) for i in ids])\n",
     "    return tokenizer.decode(ids)\n", "ids_to_text hands decode a tensor instead of a list of ints"),
    (F, "    if ids.dim() != 2 or ids.shape[1] == 0:\n", "    if ids.dim() != 2:\n",
     "an empty prompt not refused"),
]

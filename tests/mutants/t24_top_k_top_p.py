"""Planted bugs for topic 24. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "sampling.py"

TOPK = """    kth = torch.topk(logits, k, dim=-1).values[..., -1:]   # (..., 1): the k-th largest of each row
    # strictly below the k-th: ties with it survive
    return logits.masked_fill(logits < kth, float("-inf"))
"""
NUCLEUS = """    ranked = probs.sort(dim=-1, descending=True).values
    above = ranked.cumsum(dim=-1) - ranked                 # total probability of the tokens ranked higher
    kept = above < p                                       # a prefix; the first token always (0 < p)
    # the smallest probability kept; every token at least that probable stays (ties included)
    threshold = ranked.masked_fill(~kept, float("inf")).amin(dim=-1, keepdim=True)
    return logits.masked_fill(probs < threshold, float("-inf"))
"""
SCALE = "            logits = logits / temperature\n"
FILTERS = """            if top_k is not None:
                logits = top_k_filter(logits, top_k)
            if top_p is not None:
                logits = top_p_filter(logits, top_p)                    # on the tempered, top-k'd distribution
"""
DRAW = "            next_id = sample_next_token(logits, 1.0, generator=generator)\n"
PAD = "            next_id = next_id.masked_fill(finished.unsqueeze(1), eos_id)\n"
STOP = "        if eos_id is not None and bool(finished.all()):\n            break\n"
LAST = "        logits = next_token_logits(model, ids, context_length)         # (batch, vocab_size)\n"

MUTANTS = [
    # top-k
    (F, TOPK, """    best = torch.topk(logits, min(k + 1, logits.shape[-1]), dim=-1)
    keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, best.indices[..., :k], True)
    if best.values.shape[-1] > k:  # keeps one tie with the k-th, not all of them
        tie = best.values[..., k:k + 1] == best.values[..., k - 1:k]
        keep = keep.scatter(-1, best.indices[..., k:k + 1], tie)
    return logits.masked_fill(~keep, float("-inf"))
""", "top-k keeping k+1 on ties: only one logit tied with the k-th survives"),
    (F, "    kth = torch.topk(logits, k, dim=-1).values[..., -1:]",
     "    kth = torch.topk(logits, k + 1, dim=-1).values[..., -1:]", "top-k keeps k+1 logits"),
    (F, TOPK, """    best = torch.topk(logits, k, dim=-1)
    return torch.full_like(logits, float("-inf")).scatter(-1, best.indices, best.values)
""", "top-k keeps exactly k logits: ties with the k-th dropped"),
    (F, "    return logits.masked_fill(logits < kth, float(\"-inf\"))",
     "    return logits.masked_fill(logits <= kth, float(\"-inf\"))", "top-k drops the k-th logit itself"),
    (F, "    return logits.masked_fill(logits < kth, float(\"-inf\"))",
     "    return logits.masked_fill_(logits < kth, float(\"-inf\"))", "top-k writes -inf into the caller's logits"),
    (F, "    if k >= logits.shape[-1]:\n        return logits.clone()\n", "",
     "k larger than the vocabulary not handled: torch.topk fails"),
    (F, "    if k < 1:\n", "    if k < 0:\n", "k = 0 not refused"),
    # top-p
    (F, "    above = ranked.cumsum(dim=-1) - ranked ", "    above = ranked.cumsum(dim=-1) ",
     "top-p dropping the top token: the inclusive cumulative sum drops the token that reaches p"),
    (F, "    if p == 1:\n        return logits.clone()   # also keeps tokens whose probability rounds to 0\n", "",
     "p=1 dropping tokens: no special case, a cumulative sum that reaches 1 early drops the rest"),
    (F, NUCLEUS, """    ranked, order = probs.sort(dim=-1, descending=True)
    kept = (ranked.cumsum(dim=-1) - ranked) < p
    return logits.masked_fill(~kept.scatter(-1, order, kept), float("-inf"))
""", "top-p keeps the sort order's prefix: ties with the last kept token dropped"),
    (F, "    probs = torch.softmax(logits, dim=-1) ", "    probs = torch.sigmoid(logits) ",
     "top-p on sigmoid scores instead of the softmax probabilities"),
    (F, "    return logits.masked_fill(probs < threshold, float(\"-inf\"))",
     "    return torch.log(probs).masked_fill(probs < threshold, float(\"-inf\"))",
     "top-p returns log-probabilities instead of the kept logits"),
    (F, "    if not 0 < p <= 1:\n        raise", "    if not 0 <= p <= 1:\n        raise", "p = 0 not refused"),
    # generate
    (F, LAST, "        logits = model(ids)[:, -1, :]\n", "generation not cropping the context"),
    (F, LAST, "        logits = model(ids[:, -context_length:])[:, 0, :]\n",
     "sampling from the first position's logits"),
    (F, SCALE + FILTERS, FILTERS + SCALE, "temperature applied after the filters: top-p on untempered probabilities"),
    (F, FILTERS, """            if top_p is not None:
                logits = top_p_filter(logits, top_p)
            if top_k is not None:
                logits = top_k_filter(logits, top_k)
""", "top-p before top-k"),
    (F, SCALE, "", "temperature ignored when sampling"),
    (F, DRAW, "            next_id = sample_next_token(logits, temperature, generator=generator)\n",
     "temperature applied twice"),
    (F, DRAW, "            next_id = sample_next_token(logits, 1.0)\n", "generator ignored"),
    (F, "            next_id = sample_next_token(logits, 0.0)                    # greedy: no draw\n",
     "            next_id = sample_next_token(logits * 1e4, 1.0, generator=generator)\n",
     "temperature 0 drawn from a sharpened softmax: the generator is used"),
    (F, STOP, "", "eos not stopping generation"),
    (F, STOP, "        if eos_id is not None and bool(finished.any()):\n            break\n",
     "generation stops when the first row produces eos"),
    (F, PAD, "", "finished rows not padded with eos_id"),
    (F, "    finished = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)\n",
     "    finished = (ids == eos_id).any(dim=1) if eos_id is not None else torch.zeros(len(ids), dtype=torch.bool)\n",
     "an eos_id in the prompt counts as produced"),
    (F, "    for _ in range(max_new_tokens):\n", "    for _ in range(max_new_tokens + 1):\n", "one token too many"),
    (F, "    if temperature < 0:\n        raise", "    if temperature < -1e9:\n        raise",
     "negative temperature not refused"),
    (F, "    for _ in range(max_new_tokens):\n", "    model.eval()\n    for _ in range(max_new_tokens):\n",
     "generate switches the model to eval mode"),
]

"""Planted bugs for topic 23. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "temperature.py"

SOFTMAX = "    return torch.softmax(logits / temperature, dim=-1)\n"
DRAW = "    return torch.multinomial(probs, num_samples=1, generator=generator)\n"
ARGMAX = "        return logits.argmax(dim=-1, keepdim=True)            # greedy: nothing random\n"
PROBS = "    probs = softmax_with_temperature(logits, temperature)     # raises for temperature < 0\n"

MUTANTS = [
    (F, SOFTMAX, "    return torch.softmax(logits, dim=-1) / temperature\n",
     "temperature applied after the softmax"),
    (F, SOFTMAX, "    return torch.softmax(logits * temperature, dim=-1)\n", "logits multiplied by the temperature"),
    (F, SOFTMAX, "    return torch.softmax(logits / temperature, dim=0)\n", "softmax over the first dimension"),
    (F, SOFTMAX, "    scaled = (logits / temperature).exp()\n    return scaled / scaled.sum(dim=-1, keepdim=True)\n",
     "softmax without subtracting the maximum: overflows on huge logits"),
    (F, SOFTMAX, "    return torch.softmax(logits / (temperature + 1e-2), dim=-1)\n",
     "temperature nudged to avoid a division by zero"),
    (F, "    if not temperature > 0:  # also refuses NaN\n", "    if temperature < 0:\n",
     "softmax_with_temperature accepts T = 0"),
    (F, "    if temperature == 0:\n", "    if temperature <= 0:\n",
     "negative temperatures sampled greedily instead of refused"),
    (F, "    if temperature == 0:\n", "    if temperature < 1e-6:\n",
     "temperatures below 1e-6, negative ones included, treated as greedy"),
    (F, ARGMAX, "        return logits.shape[-1] - 1 - logits.flip(-1).argmax(dim=-1, keepdim=True)\n",
     "T = 0 ties resolved to the last index"),
    (F, ARGMAX, "        return torch.multinomial(torch.softmax(logits * 1e6, dim=-1), 1, generator=generator)\n",
     "T = 0 sampled from a sharpened softmax: ties drawn at random, the generator advanced"),
    (F, DRAW, "    return torch.multinomial(probs, num_samples=1)\n",
     "generator ignored: the global generator is used"),
    (F, DRAW, "    return torch.multinomial(torch.softmax(logits, dim=-1), num_samples=1, generator=generator)\n",
     "sampling ignores the temperature"),
    (F, DRAW, "    return torch.stack([torch.multinomial(p, 1, generator=generator) for p in probs.flip(0)]).flip(0)\n",
     "one draw per row, last row first: the generator consumed in another order"),
    (F, DRAW, "    u = torch.rand(probs.shape[0], 1, generator=generator)\n"
              "    return (probs.cumsum(dim=-1) < u).sum(dim=-1, keepdim=True)\n",
     "inverse-CDF sampling: a different use of the generator"),
    (F, DRAW, "    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)\n",
     "ids of shape (batch,) instead of (batch, 1)"),
    (F, PROBS, "    probs = softmax_with_temperature(logits / temperature, temperature)\n",
     "temperature applied twice when sampling"),
    (F, "    if logits.dim() != 2:\n", "    if logits.dim() > 2:\n", "1-D logits not refused"),
    (F, "    return softmax_with_temperature(next_token_logits(model, ids, context_length), temperature)\n",
     "    return softmax_with_temperature(next_token_logits(model, ids, context_length), 1.0)\n",
     "next_token_probs ignores the temperature"),
    (F, "    return softmax_with_temperature(next_token_logits(model, ids, context_length), temperature)\n",
     "    return softmax_with_temperature(model(ids[:, -context_length:])[:, 0], temperature)\n",
     "next_token_probs reads the first position of the window"),
]

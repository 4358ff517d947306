"""Planted bugs for topic 20. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "loss.py"

SHIFT = "    shifted = logits - logits.amax(dim=-1, keepdim=True).detach()\n"
LOG_SUM = "    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()\n"
PICK = "    picked = log_softmax(logits).gather(-1, safe.unsqueeze(-1)).squeeze(-1)"
MEAN = "    return losses.sum() / counted\n"

MUTANTS = [
    # the bug the issue names
    (F, MEAN, "    return losses.mean()\n", "loss averaged over ignored targets too"),
    (F, "    counted = (targets != ignore_index).sum()", "    counted = targets.numel()",
     "ignored targets counted in the number of terms"),
    (F, "    return torch.where(keep, -picked, torch.zeros_like(picked))\n", "    return -picked\n",
     "ignored targets scored as if their target were id 0"),
    # stability
    (F, SHIFT, "    shifted = logits\n", "max not subtracted: exp overflows on large logits"),
    (F, SHIFT + LOG_SUM, "    return torch.log(logits.exp() / logits.exp().sum(dim=-1, keepdim=True))\n",
     "log of a softmax written without stability"),
    (F, SHIFT + LOG_SUM, "    return torch.softmax(logits, dim=-1).log()\n",
     "log of a (stable) softmax: -inf where a probability underflows"),
    (F, SHIFT, "    shifted = logits - logits.amax(dim=-1, keepdim=True).detach().clamp(max=50.0)\n",
     "the shift capped: large logits still overflow"),
    (F, SHIFT + LOG_SUM, "    return torch.log_softmax(logits, dim=-1)\n", "a built-in log_softmax"),
    # wrong axes
    (F, SHIFT + LOG_SUM,
     "    shifted = logits - logits.amax(dim=0, keepdim=True).detach()\n"
     "    return shifted - shifted.exp().sum(dim=0, keepdim=True).log()\n", "log_softmax over the first axis"),
    (F, LOG_SUM, "    return shifted - shifted.exp().sum().log()\n", "normalized over the whole tensor"),
    (F, PICK, "    picked = log_softmax(logits).gather(0, safe.unsqueeze(-1)).squeeze(-1)",
     "gather on the wrong dim"),
    (F, PICK, "    picked = log_softmax(logits)[..., 0] + 0 * safe",
     "always scores token 0 instead of the target"),
    # reductions
    (F, MEAN, "    return losses.sum()\n", "sum instead of mean"),
    (F, MEAN, "    return losses.sum() / counted.clamp(min=1)\n", "no target to count gives 0 instead of NaN"),
    (F, "    return torch.where(keep, -picked, torch.zeros_like(picked))\n",
     "    return torch.where(keep, picked, torch.zeros_like(picked))\n", "log-likelihood not negated"),
    (F, MEAN, "    return (losses.sum() / counted).detach()\n", "loss detached: no gradient"),
    (F, MEAN, "    return torch.nan_to_num(losses.sum() / counted)\n", "NaN hidden: no target to count gives 0"),
    # perplexity
    (F, "        return math.exp(value)\n", "        return math.exp(value) - 1\n", "perplexity off by one"),
    (F, "    value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)   # no graph needed\n"
        "    try:\n        return math.exp(value)\n    except OverflowError:"
        "                               # exp(710) does not fit in a float\n        return math.inf\n",
     "    return math.exp(loss)\n", "perplexity raises OverflowError for a large loss"),
    (F, "        return math.exp(value)\n", "        return torch.exp(torch.tensor(value))\n",
     "perplexity returns a tensor"),
    (F, "        return math.exp(value)\n", "        return 2 ** value\n",
     "perplexity in base 2 of a natural-log loss"),
    # errors
    (F, "    _check_targets(logits, targets, ignore_index)\n    ### BEGIN SOLUTION\n    keep",
     "    ### BEGIN SOLUTION\n    keep", "no target validation: an out-of-range id crashes inside gather"),
]

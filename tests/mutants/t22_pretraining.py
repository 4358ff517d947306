"""Planted bugs for topic 22. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "train.py"

DECAY = "                p.mul_(1.0 - lr * weight_decay)  # decoupled: shrink p itself, before the Adam update\n"
UPDATE = "                p.addcdiv_(m_hat, v_hat.sqrt().add_(eps), value=-lr)\n"
CORRECTIONS = ("                m_hat = exp_avg / (1.0 - beta1 ** t)\n"
               "                v_hat = exp_avg_sq / (1.0 - beta2 ** t)\n")
COUNT = ("                state[\"step\"] += 1\n"
         "                t = int(state[\"step\"])  # also right for a float tensor, as torch.optim.AdamW stores it\n")
SKIP = ("                if p.grad is None:  # not used in this step's loss (or frozen): leave it alone\n"
        "                    continue\n")
HYPER = "            lr, (beta1, beta2) = group[\"lr\"], group[\"betas\"]\n"
INIT = ("                    state[\"exp_avg\"] = torch.zeros_like(p)\n"
        "                    state[\"exp_avg_sq\"] = torch.zeros_like(p)\n")
MIDDLE = ("                exp_avg.mul_(beta1).add_(grad, alpha=1.0 - beta1)\n"
          "                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)\n"
          "                # both averages start at 0: dividing by 1 - beta^t removes that pull towards 0\n"
          + CORRECTIONS)
CLIP_SCALE = ("        for g in grads:\n"
              "            g.detach().mul_(factor)  # same direction, smaller step\n")
NORM = ("    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]))\n"
        "    factor = max_norm / (norm.item() + CLIP_EPS)\n"
        "    if factor < 1.0:\n" + CLIP_SCALE)
ZERO = "    optimizer.zero_grad()  # .backward() adds to .grad: start from nothing\n"
SET_LR = ("    if lr is not None:\n"
          "        for group in optimizer.param_groups:\n"
          "            group[\"lr\"] = lr\n")
BACKWARD_CLIP = ("    loss.backward()\n"
                 "    if max_grad_norm is not None:\n"
                 "        clip_grad_norm(model.parameters(), max_grad_norm)"
                 "  # after backward: the gradients exist now\n")
STEP = "    optimizer.step()\n"
LOSS = "    loss = calc_loss_batch(inputs, targets, model, device)  # forward pass and cross-entropy (topic 21)\n"
MOMENTS = "                exp_avg, exp_avg_sq = state[\"exp_avg\"], state[\"exp_avg_sq\"]\n"
SAMPLE = ("                    model.eval()\n"
          "                    with torch.no_grad():\n"
          "                        history[\"samples\"].append(sample(model))\n")

MUTANTS = [
    # AdamW.__init__
    (F, "        defaults = {\"lr\": lr, \"betas\": (beta1, beta2), \"eps\": eps, \"weight_decay\": weight_decay}\n",
     "        defaults = {\"lr\": lr, \"betas\": (beta1, beta2), \"eps\": eps, \"weight_decay\": 0.0}\n",
     "weight_decay argument dropped from the defaults"),
    (F, "        if not lr >= 0.0:\n", "        if not lr > 0.0:\n", "lr = 0 rejected"),
    (F, "            if not 0.0 <= beta < 1.0:\n", "            if not 0.0 <= beta <= 1.0:\n", "beta = 1 accepted"),
    # AdamW.step: the two
    (F, CORRECTIONS, "                m_hat = exp_avg\n                v_hat = exp_avg_sq\n", "no bias correction"),
    (F, DECAY, "                grad = grad.add(p, alpha=weight_decay)  # L2 penalty on the gradient\n",
     "weight decay added to the gradient (L2, Adam-style) instead of decoupled"),
    # AdamW.step: more
    (F, COUNT, "                t = int(state[\"step\"])\n                state[\"step\"] += 1\n",
     "bias correction with the step counted from 0"),
    (F, UPDATE, "                p.addcdiv_(m_hat, v_hat.add(eps).sqrt(), value=-lr)\n", "eps inside the square root"),
    (F, UPDATE, "                p.addcdiv_(m_hat, v_hat.add(eps), value=-lr)\n", "no square root of v_hat"),
    (F, DECAY + "                exp_avg.mul_(beta1)", "                exp_avg.mul_(beta1)", "weight decay forgotten"),
    (F, DECAY + MIDDLE + UPDATE, MIDDLE + UPDATE + "                p.mul_(1.0 - lr * weight_decay)\n",
     "weight decay applied after the Adam update"),
    (F, HYPER, "            lr, (beta2, beta1) = group[\"lr\"], group[\"betas\"]\n", "betas swapped"),
    (F, HYPER, "            lr, (beta1, beta2) = self.defaults[\"lr\"], group[\"betas\"]\n",
     "lr read from the defaults: schedules and group lrs ignored"),
    (F, "            eps, weight_decay = group[\"eps\"], group[\"weight_decay\"]\n",
     "            eps, weight_decay = self.defaults[\"eps\"], self.defaults[\"weight_decay\"]\n",
     "eps and weight_decay read from the defaults, not from the group"),
    (F, COUNT, "                state[\"step\"] += 1\n"
               "                t = max(int(s[\"step\"]) for s in self.state.values() if s)\n",
     "one step count for all parameters (the largest) instead of each parameter's own"),
    (F, SKIP, "                if p.grad is None:\n                    p.mul_(1.0 - lr * weight_decay)\n"
              "                    continue\n",
     "parameters without a gradient still decayed"),
    (F, SKIP, "                if p.grad is None:\n                    p.grad = torch.zeros_like(p)\n",
     "a missing gradient treated as zero (state created, t advanced, decay applied)"),
    (F, INIT + COUNT + MOMENTS,
     (INIT + COUNT + MOMENTS).replace("\"exp_avg\"", "\"m\"").replace("\"exp_avg_sq\"", "\"v\""),
     "state keys m and v instead of exp_avg and exp_avg_sq"),
    (F, "                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)\n",
     "                exp_avg_sq.mul_(beta2).add_(grad.abs(), alpha=1.0 - beta2)\n",
     "second moment of |g| instead of g^2"),
    (F, "                exp_avg.mul_(beta1).add_(grad, alpha=1.0 - beta1)\n",
     "                exp_avg.mul_(beta1).add_(grad)\n", "first moment without the (1 - beta1) factor"),
    (F, "                m_hat = exp_avg / (1.0 - beta1 ** t)\n",
     "                m_hat = exp_avg / (1.0 - beta1 ** (t + 1))\n", "bias correction of m off by one step"),
    # lr_at
    (F, "        return max_lr * (step + 1) / warmup_steps\n", "        return max_lr * step / warmup_steps\n",
     "warm-up off by one: step 0 at lr 0, max_lr one step late"),
    (F, "    if step < warmup_steps:\n        return max_lr", "    if step <= warmup_steps and warmup_steps > 0:\n"
                                                           "        return max_lr",
     "warm-up boundary: one warm-up step too many"),
    (F, "    progress = (step - warmup_steps) / (total_steps - warmup_steps)",
     "    progress = (step - warmup_steps) / (total_steps - warmup_steps + 1)",
     "cosine not reaching min_lr at total_steps"),
    (F, "    return min_lr + (max_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))\n",
     "    return max_lr * 0.5 * (1.0 + math.cos(math.pi * progress))\n", "cosine decaying to 0 instead of min_lr"),
    (F, "    if step >= total_steps:\n        return float(min_lr)\n", "",
     "no floor after total_steps: the cosine rises again"),
    (F, "    if total_steps < warmup_steps:\n", "    if total_steps <= warmup_steps:\n",
     "warmup_steps == total_steps rejected"),
    (F, "        return max_lr * (step + 1) / warmup_steps\n",
     "        return torch.tensor(max_lr * (step + 1) / warmup_steps)\n", "a tensor instead of a float"),
    # clip_grad_norm
    (F, NORM, "    for g in grads:\n"
              "        factor = max_norm / (torch.linalg.vector_norm(g).item() + CLIP_EPS)\n"
              "        if factor < 1.0:\n"
              "            g.mul_(factor)\n"
              "    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))\n",
     "each gradient clipped by its own norm instead of the global norm"),
    (F, "    return norm.item()\n    ### END SOLUTION\n\n\ndef train_step",
     "    return min(norm.item(), max_norm)\n    ### END SOLUTION\n\n\ndef train_step",
     "returns the norm after clipping"),
    (F, "    if factor < 1.0:\n", "    if True:\n", "gradients below max_norm scaled up to it"),
    (F, CLIP_SCALE, "        for p in parameters:\n"
                    "            if p.grad is not None:\n"
                    "                p.grad.mul_(factor)\n",
     "parameters read twice: a generator is empty the second time, nothing is clipped"),
    (F, "    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]))\n",
     "    norm = torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]).pow(2).sum()\n",
     "squared norm (no square root)"),
    (F, "    if not grads:\n        return 0.0\n", "    if not grads:\n        return None\n",
     "None instead of 0.0 without gradients"),
    (F, "    if not max_norm > 0:\n", "    if max_norm < 0:\n", "max_norm = 0 accepted"),
    # train_step
    (F, ZERO, "", "train_step not zeroing the gradients"),
    (F, ZERO + LOSS + BACKWARD_CLIP + STEP, LOSS + BACKWARD_CLIP + STEP
     + "    optimizer.zero_grad()\n",
     "zero_grad after optimizer.step(): gradients left from earlier passes leak into the first step"),
    (F, SET_LR, "", "lr argument ignored"),
    (F, SET_LR, "    if lr is not None:\n        optimizer.param_groups[0][\"lr\"] = lr\n",
     "lr set in the first parameter group only"),
    (F, "    model.train()  # dropout on\n", "", "train_step without model.train()"),
    (F, BACKWARD_CLIP, "    if max_grad_norm is not None:\n"
                       "        clip_grad_norm(model.parameters(), max_grad_norm)\n"
                       "    loss.backward()\n", "clipping before backward (it clips the stale gradients)"),
    (F, "        clip_grad_norm(model.parameters(), max_grad_norm)", "        pass  #",
     "max_grad_norm ignored"),
    (F, "    return loss.item()\n", "    return loss\n", "the loss returned as a tensor"),
    (F, STEP + "    return loss.item()\n",
     "    optimizer.step()\n    return calc_loss_batch(inputs, targets, model, device).item()\n",
     "the loss returned after the step (a second forward pass)"),
    # train_model
    (F, "            if step % eval_freq == 0:\n", "            if (step - 1) % eval_freq == 0:\n",
     "evaluations one step early (at step 1, eval_freq + 1, ...)"),
    (F, "            if max_steps is not None and step >= max_steps:\n",
     "            if max_steps is not None and step > max_steps:\n", "one step past max_steps"),
    (F, "            lr = schedule(step) if schedule is not None else None\n",
     "            lr = schedule(step + 1) if schedule is not None else None\n", "schedule read one step ahead"),
    (F, "            tokens_seen += inputs.numel()", "            tokens_seen += inputs.shape[0]",
     "tokens_seen counts sequences, not tokens"),
    (F, SAMPLE, "                    history[\"samples\"].append(sample(model))\n",
     "sample called in train mode with gradients on"),
    (F, "                    model.train()\n", "", "model left in eval mode after a sample"),
    (F, "evaluate_model(model, train_loader, val_loader, device, eval_iters)",
     "evaluate_model(model, val_loader, train_loader, device, eval_iters)", "train and val losses swapped"),
    (F, "optimizer, device, lr=lr, max_grad_norm=max_grad_norm)\n", "optimizer, device, lr=lr)\n",
     "max_grad_norm not passed on"),
    (F, "            history[\"lrs\"].append(optimizer.param_groups[0][\"lr\"])\n",
     "            history[\"lrs\"].append(lr)\n", "lrs records the schedule's value (None without a schedule)"),
    (F, "    for epoch in range(num_epochs):\n", "    for epoch in range(1):\n", "num_epochs ignored"),
]


"""A correct pretraining loop written from the README alone, differently from the reference."""

from __future__ import annotations

import itertools
import math

import torch

from course.t21_evaluation import calc_loss_batch, evaluate_model


class AdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        checks = [("lr", lr, lr < 0), ("eps", eps, eps < 0), ("weight_decay", weight_decay, weight_decay < 0)]
        checks += [(f"betas[{i}]", b, not (0 <= b < 1)) for i, b in enumerate(betas)]
        for name, value, bad in checks:
            if bad:
                raise ValueError(f"invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            for p in params:
                if len(self.state[p]) == 0:
                    self.state[p]["step"] = torch.tensor(0.0)
                    self.state[p]["exp_avg"] = torch.zeros_like(p)
                    self.state[p]["exp_avg_sq"] = torch.zeros_like(p)
            grads = [p.grad for p in params]
            m = [self.state[p]["exp_avg"] for p in params]
            v = [self.state[p]["exp_avg_sq"] for p in params]
            steps = [self.state[p]["step"] for p in params]
            torch._foreach_add_(steps, 1.0)
            torch._foreach_mul_(params, 1 - lr * wd)
            torch._foreach_lerp_(m, grads, 1 - beta1)          # m + (1 - beta1) (g - m)
            torch._foreach_mul_(v, beta2)
            torch._foreach_addcmul_(v, grads, grads, 1 - beta2)
            for p, m_i, v_i, s in zip(params, m, v, steps):
                t = s.item()
                # p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
                denom = v_i.sqrt() / math.sqrt(1 - beta2 ** t) + eps
                p.addcdiv_(m_i, denom, value=-lr / (1 - beta1 ** t))
        return loss


def lr_at(step, max_lr, min_lr, warmup_steps, total_steps):
    problems = []
    if step < 0:
        problems.append(f"step={step} is negative")
    if warmup_steps < 0:
        problems.append(f"warmup_steps={warmup_steps} is negative")
    if total_steps < warmup_steps:
        problems.append(f"total_steps={total_steps} < warmup_steps={warmup_steps}")
    if min_lr > max_lr:
        problems.append(f"min_lr={min_lr} > max_lr={max_lr}")
    if problems:
        raise ValueError("lr_at: " + "; ".join(problems))
    if step >= total_steps:
        return float(min_lr)
    if step < warmup_steps:
        return float((step + 1) * max_lr / warmup_steps)
    # (1 + cos(pi x)) / 2 == cos(pi x / 2) ** 2
    x = (step - warmup_steps) / (total_steps - warmup_steps)
    return float(min_lr + math.cos(math.pi * x / 2) ** 2 * (max_lr - min_lr))


def clip_grad_norm(parameters, max_norm):
    if max_norm <= 0:
        raise ValueError(f"max_norm={max_norm} must be positive")
    tensors = [parameters] if torch.is_tensor(parameters) else list(parameters)
    grads = [p.grad for p in tensors if p.grad is not None]
    if len(grads) == 0:
        return 0.0
    total = float(torch.cat([g.reshape(-1).double() for g in grads]).pow(2).sum().sqrt())
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        torch._foreach_mul_(grads, scale)
    return total


def train_step(model, inputs, targets, optimizer, device="cpu", lr=None, max_grad_norm=None):
    model.train(True)
    if lr is not None:
        for group in optimizer.param_groups:
            group.update(lr=lr)
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.grad = None
    loss = calc_loss_batch(inputs, targets, model, device)
    loss.backward()
    if max_grad_norm is not None:
        clip_grad_norm(list(model.parameters()), max_grad_norm)
    optimizer.step()
    return float(loss.detach())


def train_model(model, train_loader, val_loader, optimizer, device="cpu", num_epochs=1, eval_freq=50, eval_iters=5,
                max_steps=None, schedule=None, max_grad_norm=None, sample=None, verbose=False):
    keys = ("steps", "tokens_seen", "train_losses", "val_losses", "samples", "batch_losses", "lrs")
    history = {key: [] for key in keys}
    batches = itertools.chain.from_iterable(train_loader for _ in range(num_epochs))
    done = seen = 0
    for inputs, targets in batches:
        if max_steps is not None and done == max_steps:
            break
        loss = train_step(model, inputs, targets, optimizer, device,
                          lr=None if schedule is None else schedule(done), max_grad_norm=max_grad_norm)
        done, seen = done + 1, seen + inputs.numel()
        history["batch_losses"].append(loss)
        history["lrs"].append(optimizer.param_groups[0]["lr"])
        if done % eval_freq:
            continue
        losses = evaluate_model(model, train_loader, val_loader, device, eval_iters)
        for key, value in zip(keys[:4], (done, seen, *losses)):
            history[key].append(value)
        if sample is not None:
            with torch.no_grad():
                model.eval()
                text = sample(model)
                model.train()
            history["samples"].append(text)
        if verbose:
            print(f"step {done}: train {losses[0]:.3f} val {losses[1]:.3f}")
    return history

"""Topic 22 - the pretraining loop.

Training a GPT is a loop of four moves on one batch at a time::

    loss = cross_entropy(model(inputs), targets)   # topic 21's calc_loss_batch
    loss.backward()                                 # gradients of every parameter
    clip_grad_norm(params, max_norm)                # tame a rare huge gradient
    optimizer.step()                                # AdamW: move every parameter a little

with the learning rate of each step set by a schedule (a linear warm-up, then a
cosine decay). This topic writes each piece from scratch:

* ``AdamW`` - Adam (Kingma & Ba, 2015) with *decoupled* weight decay
  (Loshchilov & Hutter, 2019), step for step the update ``torch.optim.AdamW``
  makes. Adam keeps two running averages per parameter: ``m`` of the gradient
  (its direction) and ``v`` of the squared gradient (its typical size). The
  update ``m_hat / (sqrt(v_hat) + eps)`` is about +-1 per element whatever the
  gradient's scale, so one learning rate suits every parameter. Both averages
  start at 0 and would be biased towards 0 for the first steps, so they are
  divided by ``1 - beta ** t`` (the bias correction). Weight decay shrinks the
  parameter itself, ``p *= 1 - lr * weight_decay``, instead of adding
  ``weight_decay * p`` to the gradient (which Adam would then rescale, turning
  it into something other than decay).
* ``lr_at`` - the schedule: ``max_lr * (step + 1) / warmup_steps`` while warming
  up, then half a cosine from ``max_lr`` down to ``min_lr`` at ``total_steps``.
* ``clip_grad_norm`` - rescale all gradients together when their global L2
  norm exceeds ``max_norm``, as ``torch.nn.utils.clip_grad_norm_`` does.
* ``train_step`` and ``train_model`` - one optimizer step, and the loop that
  repeats it with periodic evaluation (topic 21) and samples.

Every optimizer in ``torch.optim`` subclasses ``torch.optim.Optimizer``, which
holds ``param_groups`` (a list of dicts: ``"params"`` and the hyperparameters)
and ``state`` (a dict from parameter to that parameter's own state). A schedule
changes ``group["lr"]`` between steps, so ``step`` reads it afresh every call;
``state_dict()`` / ``load_state_dict()`` (inherited) save and restore both, so
training can stop and resume (topic 25).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch

from course.t21_evaluation import calc_loss_batch, evaluate_model  # your topic 21

CLIP_EPS = 1e-6  # added to the norm before dividing, as torch.nn.utils.clip_grad_norm_ does


class AdamW(torch.optim.Optimizer):
    """Adam with decoupled weight decay; the same updates as ``torch.optim.AdamW``.

    ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)``:
    ``params`` is an iterable of tensors or of dicts (parameter groups, each with
    ``"params"`` and any hyperparameter that differs from the defaults). Every
    group then holds the keys ``lr``, ``betas``, ``eps`` and ``weight_decay``.

    Per parameter ``p`` with gradient ``g``, group values read at each ``step()``
    and the parameter's own step count ``t`` (1 at its first update)::

        p   <- p * (1 - lr * weight_decay)           # decoupled weight decay
        m   <- beta1 * m + (1 - beta1) * g           # state["exp_avg"]
        v   <- beta2 * v + (1 - beta2) * g * g       # state["exp_avg_sq"]
        m_hat = m / (1 - beta1 ** t)                 # bias corrections
        v_hat = v / (1 - beta2 ** t)
        p   <- p - lr * m_hat / (sqrt(v_hat) + eps)

    ``state[p]`` holds exactly ``step`` (``t``, an int or a float tensor),
    ``exp_avg`` and ``exp_avg_sq`` (tensors shaped like ``p``), created at the
    parameter's first update. A parameter whose ``.grad`` is ``None`` is skipped
    entirely: no decay, no state change, its ``t`` does not advance.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2):
        """Check the hyperparameters (``ValueError`` naming the bad value), then ``Optimizer.__init__``.

        Valid: ``lr >= 0``, ``0 <= beta1 < 1``, ``0 <= beta2 < 1``, ``eps >= 0``, ``weight_decay >= 0``.
        """
        ### BEGIN SOLUTION
        if not lr >= 0.0:
            raise ValueError(f"AdamW: the learning rate must be >= 0, got lr={lr}")
        beta1, beta2 = betas
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"AdamW: {name} must be in [0, 1), got {name}={beta}")
        if not eps >= 0.0:
            raise ValueError(f"AdamW: eps must be >= 0, got eps={eps}")
        if not weight_decay >= 0.0:
            raise ValueError(f"AdamW: weight_decay must be >= 0, got weight_decay={weight_decay}")
        defaults = {"lr": lr, "betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay}
        # Optimizer.__init__ builds self.param_groups (each group filled up with these defaults)
        # and self.state (empty until the first step)
        super().__init__(params, defaults)
        ### END SOLUTION

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None):
        """One AdamW update of every parameter that has a gradient (formula in the class docstring).

        Reads ``lr``, ``betas``, ``eps`` and ``weight_decay`` from each parameter
        group at every call. ``closure`` (optional, as for any ``torch.optim``
        optimizer) recomputes the loss first; its value is returned (else ``None``).
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        ### BEGIN SOLUTION
        for group in self.param_groups:
            lr, (beta1, beta2) = group["lr"], group["betas"]
            eps, weight_decay = group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:  # not used in this step's loss (or frozen): leave it alone
                    continue
                grad = p.grad
                state = self.state[p]
                if not state:  # first update of this parameter
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = int(state["step"])  # also right for a float tensor, as torch.optim.AdamW stores it
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]

                p.mul_(1.0 - lr * weight_decay)  # decoupled: shrink p itself, before the Adam update
                exp_avg.mul_(beta1).add_(grad, alpha=1.0 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                # both averages start at 0: dividing by 1 - beta^t removes that pull towards 0
                m_hat = exp_avg / (1.0 - beta1 ** t)
                v_hat = exp_avg_sq / (1.0 - beta2 ** t)
                p.addcdiv_(m_hat, v_hat.sqrt().add_(eps), value=-lr)
        ### END SOLUTION
        return loss


def lr_at(step: int, max_lr: float, min_lr: float, warmup_steps: int, total_steps: int) -> float:
    """The learning rate of step ``step`` (counted from 0): linear warm-up, then cosine decay.

    * ``step < warmup_steps``:                 ``max_lr * (step + 1) / warmup_steps``
      (the last warm-up step reaches ``max_lr``; no step runs at 0);
    * ``warmup_steps <= step < total_steps``:  ``min_lr + (max_lr - min_lr) * (1 + cos(pi * progress)) / 2``
      with ``progress = (step - warmup_steps) / (total_steps - warmup_steps)`` in ``[0, 1)``;
    * ``step >= total_steps``:                 ``min_lr``.

    Returns a Python float. ``ValueError`` (naming the values) when ``step < 0``,
    ``warmup_steps < 0``, ``total_steps < warmup_steps`` or ``min_lr > max_lr``.
    """
    ### BEGIN SOLUTION
    if step < 0:
        raise ValueError(f"lr_at: step must be >= 0, got step={step}")
    if warmup_steps < 0:
        raise ValueError(f"lr_at: warmup_steps must be >= 0, got warmup_steps={warmup_steps}")
    if total_steps < warmup_steps:
        raise ValueError(f"lr_at: total_steps={total_steps} is smaller than warmup_steps={warmup_steps}")
    if min_lr > max_lr:
        raise ValueError(f"lr_at: min_lr={min_lr} is larger than max_lr={max_lr}")
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return float(min_lr)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)  # 0 at the peak, -> 1 at the end
    return min_lr + (max_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
    ### END SOLUTION


def clip_grad_norm(parameters: Iterable[torch.Tensor] | torch.Tensor, max_norm: float) -> float:
    """Global-norm gradient clipping, as ``torch.nn.utils.clip_grad_norm_``; returns the norm before clipping.

    ``parameters``: an iterable of tensors (a generator such as ``model.parameters()``
    is fine: it is read once) or one tensor. Parameters whose ``.grad`` is ``None``
    are ignored. The global norm is ``sqrt(sum over every gradient element of g^2)``
    - one number for all parameters together. When ``max_norm / (norm + 1e-6) < 1``
    every gradient is multiplied in place by that factor (so the new global norm is
    ``max_norm``, up to the 1e-6); otherwise no gradient changes. No gradients at
    all: returns ``0.0``. ``max_norm <= 0`` -> ``ValueError`` naming it.
    """
    ### BEGIN SOLUTION
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be > 0, got max_norm={max_norm}")
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]  # a generator can be read only once
    if not grads:
        return 0.0
    # the norm of the per-tensor norms is the norm of all elements together
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]))
    factor = max_norm / (norm.item() + CLIP_EPS)
    if factor < 1.0:
        for g in grads:
            g.detach().mul_(factor)  # same direction, smaller step
    return norm.item()
    ### END SOLUTION


def train_step(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
               optimizer: torch.optim.Optimizer, device: torch.device | str = "cpu", lr: float | None = None,
               max_grad_norm: float | None = None) -> float:
    """One optimizer step on one batch; returns the batch's loss (before the step) as a float.

    In order: ``model.train()``; with ``lr`` given, ``group["lr"] = lr`` in every
    parameter group; ``optimizer.zero_grad()`` (gradients left from earlier
    backward passes must not leak in); topic 21's ``calc_loss_batch(inputs,
    targets, model, device)``; ``backward()``; with ``max_grad_norm`` given,
    ``clip_grad_norm(model.parameters(), max_grad_norm)``; ``optimizer.step()``.
    Uses no randomness of its own: only the model's dropout draws from torch's
    global generator, in one forward pass.
    """
    ### BEGIN SOLUTION
    model.train()  # dropout on
    if lr is not None:
        for group in optimizer.param_groups:
            group["lr"] = lr
    optimizer.zero_grad()  # .backward() adds to .grad: start from nothing
    loss = calc_loss_batch(inputs, targets, model, device)  # forward pass and cross-entropy (topic 21)
    loss.backward()
    if max_grad_norm is not None:
        clip_grad_norm(model.parameters(), max_grad_norm)  # after backward: the gradients exist now
    optimizer.step()
    return loss.item()
    ### END SOLUTION


def train_model(model: torch.nn.Module, train_loader: Iterable, val_loader: Iterable,
                optimizer: torch.optim.Optimizer, device: torch.device | str = "cpu", num_epochs: int = 1,
                eval_freq: int = 50, eval_iters: int = 5, max_steps: int | None = None,
                schedule: Callable[[int], float] | None = None, max_grad_norm: float | None = None,
                sample: Callable[[torch.nn.Module], str] | None = None, verbose: bool = False) -> dict:
    """The pretraining loop: ``train_step`` on every batch, evaluating every ``eval_freq`` steps.

    For each of ``num_epochs`` epochs, for each ``(inputs, targets)`` of
    ``train_loader`` in order, with ``step`` counting optimizer steps from 0:

    1. stop everything once ``max_steps`` steps are done (``None``: no limit);
    2. ``loss = train_step(model, inputs, targets, optimizer, device,
       lr=schedule(step) if schedule else None, max_grad_norm=max_grad_norm)``;
    3. append ``loss`` to ``batch_losses`` and ``optimizer.param_groups[0]["lr"]``
       to ``lrs``; ``step += 1``; ``tokens_seen += inputs.numel()``;
    4. when ``step % eval_freq == 0``: topic 21's ``evaluate_model(model,
       train_loader, val_loader, device, eval_iters)``; append ``step``,
       ``tokens_seen`` and both losses to ``steps``, ``tokens_seen``,
       ``train_losses``, ``val_losses``; with ``sample`` given, call
       ``sample(model)`` with the model in eval mode and without gradients, append
       its text to ``samples`` and put the model back in train mode;
       with ``verbose``, print one line.

    Returns the history ``{"steps", "tokens_seen", "train_losses", "val_losses",
    "samples", "batch_losses", "lrs"}``, lists of ints, floats and strings.
    """
    ### BEGIN SOLUTION
    history: dict[str, list] = {"steps": [], "tokens_seen": [], "train_losses": [], "val_losses": [],
                                "samples": [], "batch_losses": [], "lrs": []}
    step, tokens_seen = 0, 0
    for epoch in range(num_epochs):
        for inputs, targets in train_loader:
            if max_steps is not None and step >= max_steps:
                return history
            lr = schedule(step) if schedule is not None else None
            loss = train_step(model, inputs, targets, optimizer, device, lr=lr, max_grad_norm=max_grad_norm)
            history["batch_losses"].append(loss)
            history["lrs"].append(optimizer.param_groups[0]["lr"])
            step += 1
            tokens_seen += inputs.numel()  # batch * seq tokens went into this step
            if step % eval_freq == 0:
                train_loss, val_loss = evaluate_model(model, train_loader, val_loader, device, eval_iters)
                history["steps"].append(step)
                history["tokens_seen"].append(tokens_seen)
                history["train_losses"].append(train_loss)
                history["val_losses"].append(val_loss)
                if sample is not None:
                    model.eval()
                    with torch.no_grad():
                        history["samples"].append(sample(model))
                    model.train()
                if verbose:
                    print(f"epoch {epoch + 1} step {step:>6}: train loss {train_loss:.3f}, "
                          f"val loss {val_loss:.3f}, lr {history['lrs'][-1]:.2e}")
    return history
    ### END SOLUTION

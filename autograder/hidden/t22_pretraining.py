"""Hidden checks for topic 22 - the pretraining loop (fresh seed every run)."""

import torch

from checks.t18_gpt_model import by_name
from checks.t22_pretraining import (
    Setting,
    adamw_probe,
    against_torch,
    batches,
    corpus_probe,
    draw_grads,
    history_probe,
    loss_down_compare,
    sample_stub,
    stale_grads,
    tiny_config,
    tiny_model,
    train_step_case,
    weights,
)
from llmkit.checks import check
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `train.py` (it imports": "where the code goes and what it builds on",
    "Given: the `closure` argument": "code handed out, not written by the learner",
    "`verbose=True` prints one line per evaluation.": "console output, not graded",
}

# ----------------------------------------------------------------------------- AdamW


def uniform(rng, low: float, high: float) -> float:
    return rng.py.uniform(low, high)


def log_uniform(rng, low: float, high: float) -> float:
    return low * (high / low) ** rng.py.random()


def random_setting(rng, steps: int) -> Setting:
    """Two or three groups with different hyperparameters; in every run a parameter whose gradient is
    missing at some steps (at the first one always), one that never has a gradient, and one whose
    gradients are about as small as its group's ``eps``."""
    r, c = rng.integer(2, 5), rng.integer(2, 5)
    defaults = {"lr": uniform(rng, 0.02, 0.1), "betas": (uniform(rng, 0.6, 0.9), uniform(rng, 0.95, 0.999)),
                "eps": 1e-8, "weight_decay": uniform(rng, 0.1, 0.5)}
    small_eps = log_uniform(rng, 1e-4, 1e-2)
    # group 0: the defaults; group 1: every hyperparameter its own; group 2 (sometimes): no decay
    groups: list[dict] = [{"indices": [0, 1, 2], "hyper": {}},
              {"indices": [3, 4], "hyper": {"lr": uniform(rng, 0.01, 0.05),
                                            "betas": (uniform(rng, 0.3, 0.6), uniform(rng, 0.8, 0.95)),
                                            "eps": small_eps, "weight_decay": uniform(rng, 0.0, 0.2)}}]
    shapes = [(r, c), (c,), (r,), (c, r), (r,)]
    scales = [1.0, 0.5, 1.0, small_eps * uniform(rng, 0.3, 3.0), 1.0]
    names = ["g0.weight", "g0.sometimes", "g0.never", "g1.tiny_grads", "g1.bias"]
    if rng.coin():
        groups.append({"indices": [5], "hyper": {"weight_decay": 0.0}})
        shapes.append((c,))
        scales.append(1.0)
        names.append("g2.no_decay")
    present = []
    for k in range(steps):
        row = [True] * len(shapes)
        row[1] = k > 0 and rng.coin(0.6)  # missing at step 0: its own t lags behind the others
        row[2] = False                    # never a gradient: no decay, no state
        present.append(row)
    present[-1][1] = True
    return Setting(values=[rng.randn(*s) for s in shapes], groups=groups, defaults=defaults,
                   grads=draw_grads(rng, shapes, scales, steps, present),
                   lr_factors=[uniform(rng, 0.1, 1.0) for _ in range(steps)], names=names)


@check("AdamW equals torch.optim.AdamW after every one of 12-20 steps: 2-3 parameter groups with their own lr, "
       "betas, eps and weight decay, an lr changed at every step, gradients missing at some steps or always, "
       "gradients as small as eps; the final state too", compare=against_torch,
       promises=["`params` is an iterable of tensors or of parameter-group dicts",
                 "so every group of `param_groups` holds these four keys, its own values where it gave them and "
                 "the defaults elsewhere",
                 "updates every parameter whose `.grad` is not `None`, with the `lr`, `betas`, `eps` and "
                 "`weight_decay` its group holds at this call",
                 "The update is, in this order: `t = t + 1`;", "`p *= 1 - lr * weight_decay`;",
                 "`m = beta1 * m + (1 - beta1) * g`;", "`v = beta2 * v + (1 - beta2) * g * g`;",
                 "`p -= lr * m_hat / (sqrt(v_hat) + eps)` with `m_hat = m / (1 - beta1 ** t)`",
                 "Each parameter has its own `t`, `m` and `v`, kept in `self.state[p]` under exactly the keys "
                 "`step`, `exp_avg` and `exp_avg_sq`",
                 "A parameter whose `.grad` is `None` is skipped entirely: it is not decayed, gets no state, and "
                 "its `t` does not advance.",
                 "The parameters equal those of `torch.optim.AdamW` after every step, for any number of steps and "
                 "parameter groups."])
def adamw_random(t, rng):
    return adamw_probe(t, random_setting(rng, rng.integer(12, 20)))


@check("AdamW's state_dict, saved mid-way through torch.save / torch.load(weights_only=True) and loaded into an "
       "AdamW built with other hyperparameters, continues exactly as torch.optim.AdamW without the break",
       compare=against_torch,
       promises=["The inherited `state_dict()` and `load_state_dict()` save and restore everything: the state holds "
                 "only tensors and numbers, so it survives `torch.save` and `torch.load(weights_only=True)`, and an "
                 "optimizer that loads it continues exactly as the saved one would have",
                 "Each parameter has its own `t`, `m` and `v`, kept in `self.state[p]` under exactly the keys "
                 "`step`, `exp_avg` and `exp_avg_sq`"])
def adamw_round_trip(t, rng):
    steps = rng.integer(8, 12)
    return adamw_probe(t, random_setting(rng, steps), round_trip_at=rng.integer(2, steps - 2))


@check("AdamW(params) with its default hyperparameters equals torch.optim.AdamW's defaults; param_groups hold "
       "lr, betas, eps and weight_decay, a group's own values winning over the defaults", compare=against_torch,
       promises=["The defaults `lr=1e-3`, `betas=(0.9, 0.999)`, `eps=1e-8` and `weight_decay=1e-2` are those of "
                 "`torch.optim.AdamW`.",
                 "Then it calls `torch.optim.Optimizer.__init__(params, defaults)` with `defaults = {\"lr\": lr, "
                 "\"betas\": betas, \"eps\": eps, \"weight_decay\": weight_decay}`",
                 "so every group of `param_groups` holds these four keys, its own values where it gave them and "
                 "the defaults elsewhere"])
def adamw_defaults(t, rng):
    n, steps = rng.integer(3, 8), rng.integer(4, 8)
    present = [[True, True] for _ in range(steps)]
    setting = Setting(values=[rng.randn(n, n), rng.randn(n)], groups=[{"indices": [0, 1], "hyper": {}}],
                      defaults={}, grads=draw_grads(rng, [(n, n), (n,)], [1.0, 0.1], steps, present),
                      lr_factors=[1.0] * steps, names=["weight", "bias"])
    out = adamw_probe(t, setting)
    lr, wd = uniform(rng, 0.01, 0.1), uniform(rng, 0.0, 0.3)
    p, q = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    optimizer = t.AdamW([{"params": [p]}, {"params": [q], "lr": lr, "weight_decay": wd}], betas=(0.8, 0.9))
    out["param_groups"] = [{key: group.get(key) for key in ("lr", "betas", "eps", "weight_decay")}
                           for group in optimizer.param_groups]
    out["an Optimizer"] = isinstance(optimizer, torch.optim.Optimizer)
    return out


@check("AdamW: a negative lr, eps or weight_decay, a beta outside [0, 1) raise ValueError naming the value; "
       "0 is valid for each",
       promises=["`lr < 0`, a beta outside `[0, 1)`, `eps < 0` or `weight_decay < 0` raises `ValueError` naming "
                 "the value;",
                 "the boundary values `lr = 0`, `beta = 0`, `eps = 0` and `weight_decay = 0` are valid"])
def adamw_errors(t, rng):
    p = [torch.zeros(2, requires_grad=True)]
    bad = -round(uniform(rng, 0.1, 0.9), 2)
    over = round(uniform(rng, 1.1, 1.9), 2)
    return [error_case(f"AdamW(lr={bad})", t.AdamW, p, lr=bad, names=[bad]),
            error_case(f"AdamW(betas=({over}, 0.999))", t.AdamW, p, betas=(over, 0.999), names=[over]),
            error_case(f"AdamW(betas=(0.9, {over}))", t.AdamW, p, betas=(0.9, over), names=[over]),
            error_case(f"AdamW(betas=({bad}, 0.999))", t.AdamW, p, betas=(bad, 0.999), names=[bad]),
            error_case("AdamW(betas=(0.9, 1.0))", t.AdamW, p, betas=(0.9, 1.0)),
            error_case(f"AdamW(eps={bad})", t.AdamW, p, eps=bad, names=[bad]),
            error_case(f"AdamW(weight_decay={bad})", t.AdamW, p, weight_decay=bad, names=[bad]),
            error_case("AdamW(lr=0, betas=(0, 0), eps=0, weight_decay=0)", t.AdamW, p, lr=0.0, betas=(0.0, 0.0),
                       eps=0.0, weight_decay=0.0)]


# ----------------------------------------------------------------------------- the schedule


def schedule_cases(rng) -> list[tuple[str, float, float, int, int]]:
    """Every run: a warm-up then a cosine, no warm-up, a warm-up straight into min_lr, min_lr = 0, max = min."""
    max_lr = uniform(rng, 1e-4, 1e-1)
    min_lr = max_lr * uniform(rng, 0.01, 0.5)
    warmup = rng.integer(1, 8)
    total = warmup + rng.integer(2, 20)
    return [("warm-up and cosine", max_lr, min_lr, warmup, total),
            ("warmup_steps=0", max_lr, min_lr, 0, rng.integer(1, 15)),
            ("warmup_steps=total_steps", max_lr, min_lr, warmup, warmup),
            ("min_lr=0", max_lr, 0.0, rng.integer(0, 3), rng.integer(4, 12)),
            ("min_lr=max_lr", max_lr, max_lr, rng.integer(0, 3), rng.integer(4, 12))]


@check("lr_at at every step from 0 to total_steps + 3: warm-up (its last step at max_lr), cosine, min_lr after "
       "the end; warmup_steps=0, warmup_steps=total_steps, min_lr=0, min_lr=max_lr; Python floats",
       promises=["returns the learning rate of step `step` (counted from 0) as a Python float:",
                 "`max_lr * (step + 1) / warmup_steps` while `step < warmup_steps`;",
                 "`min_lr + (max_lr - min_lr) * (1 + cos(pi * (step - warmup_steps) / (total_steps - "
                 "warmup_steps))) / 2` while `warmup_steps <= step < total_steps`;",
                 "`min_lr` for every `step >= total_steps`.",
                 "With `warmup_steps = 0` the cosine starts at step 0 with `max_lr`.",
                 "With `warmup_steps = total_steps` there is no cosine part: the warm-up is followed by `min_lr`."])
def schedule_random(t, rng):
    return {f"{label}: lr_at(step, {max_lr:.6g}, {min_lr:.6g}, {warmup}, {total})":
            [t.lr_at(step, max_lr, min_lr, warmup, total) for step in range(total + 4)]
            for label, max_lr, min_lr, warmup, total in schedule_cases(rng)}


@check("lr_at raises ValueError naming the values for step < 0, warmup_steps < 0, total_steps < warmup_steps, "
       "min_lr > max_lr",
       promises=["`step < 0`, `warmup_steps < 0`, `total_steps < warmup_steps` or `min_lr > max_lr` raises "
                 "`ValueError` naming the offending values"])
def schedule_errors(t, rng):
    warmup = rng.integer(3, 9)
    total = warmup + rng.integer(1, 9)
    short = warmup - rng.integer(1, warmup)
    step = -rng.integer(1, 5)
    return [error_case(f"lr_at(step={step})", t.lr_at, step, 0.1, 0.0, warmup, total, names=[step]),
            error_case(f"lr_at(warmup_steps={-warmup})", t.lr_at, 0, 0.1, 0.0, -warmup, total, names=[-warmup]),
            error_case(f"lr_at(warmup_steps={warmup}, total_steps={short})", t.lr_at, 0, 0.1, 0.0, warmup, short,
                       names=[warmup, short]),
            error_case("lr_at(max_lr=0.25, min_lr=0.5)", t.lr_at, 0, 0.25, 0.5, warmup, total, names=[0.25, 0.5]),
            [t.lr_at(s, 0.1, 0.01, warmup, total) for s in (0, warmup, total)]]


# ----------------------------------------------------------------------------- clipping


def grads_of(rng, shapes, scale: float, missing: int | None = None) -> list[torch.Tensor]:
    """Tensors with gradients ``N(0, scale^2)``; the one at index ``missing`` has none."""
    params = [rng.randn(*shape).requires_grad_() for shape in shapes]
    for i, p in enumerate(params):
        if i != missing:
            p.grad = rng.randn(*shape_of(p), scale=scale)
    return params


def shape_of(p: torch.Tensor) -> tuple[int, ...]:
    return tuple(p.shape)


def norm_of(params) -> float:
    return float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params if p.grad is not None)))


def clip_case(t, params, max_norm: float, as_generator: bool = False) -> dict:
    arg = (p for p in params) if as_generator else params
    norm = t.clip_grad_norm(arg, max_norm)
    return {"norm": norm, "grads": [p.grad for p in params]}


@check("clip_grad_norm: one global norm over every gradient, returned before clipping as a float; gradients "
       "scaled in place only above max_norm; a generator, a single tensor, tensors without gradients, none at all",
       promises=["`parameters` is an iterable of tensors or a single tensor;",
                 "it may be a generator such as `model.parameters()`, which can be read only once.",
                 "Tensors whose `.grad` is `None` are ignored.",
                 "It computes the global norm, `sqrt` of the sum of `g ** 2` over every element of every gradient.",
                 "When `max_norm / (norm + 1e-6) < 1` it multiplies every gradient in place by that factor;",
                 "otherwise no gradient changes.",
                 "Returns the norm before clipping as a Python float, and `0.0` when no tensor has a gradient, as "
                 "`torch.nn.utils.clip_grad_norm_` does."])
def clip_random(t, rng):
    shapes = [(rng.integer(1, 6), rng.integer(1, 6)) for _ in range(rng.integer(2, 4))] + [(rng.integer(1, 9),)]
    scale = uniform(rng, 0.1, 10.0)
    out = {}
    params = grads_of(rng, shapes, scale, missing=rng.integer(0, len(shapes) - 1))
    out["above max_norm, a generator"] = clip_case(t, params, norm_of(params) * uniform(rng, 0.1, 0.7), True)
    params = grads_of(rng, shapes, scale)
    out["below max_norm, a list"] = clip_case(t, params, norm_of(params) * uniform(rng, 1.5, 4.0))
    one = grads_of(rng, [shapes[0]], scale)
    out["above max_norm, one tensor"] = {"norm": t.clip_grad_norm(one[0], norm_of(one) * uniform(rng, 0.1, 0.7)),
                                         "grads": [one[0].grad]}
    out["no gradients at all"] = clip_case(t, [torch.zeros(3, requires_grad=True)], 1.0)
    out["an empty list"] = clip_case(t, [], 1.0)
    return out


@check("clip_grad_norm: max_norm <= 0 raises ValueError naming it",
       promises=["`max_norm <= 0` raises `ValueError` naming it"])
def clip_errors(t, rng):
    params = grads_of(rng, [(2, 3)], 1.0)
    bad = -round(uniform(rng, 0.1, 5.0), 2)
    return [error_case(f"clip_grad_norm(max_norm={bad})", t.clip_grad_norm, params, bad, names=[bad]),
            error_case("clip_grad_norm(max_norm=0)", t.clip_grad_norm, params, 0.0),
            clip_case(t, params, 1e9)]


# ----------------------------------------------------------------------------- train_step and train_model


@check("train_step on a tiny GPT: starts in eval mode with stale gradients, an SGD optimizer of two groups; lr set "
       "in every group, clipping, then a step with neither; losses, lrs, weights, one forward pass in train mode, "
       "no random numbers drawn outside it",
       promises=["`model.train()`;", "when `lr` is given, `group[\"lr\"] = lr` for every group of "
                 "`optimizer.param_groups`;",
                 "`optimizer.zero_grad()`, so gradients left over from earlier backward passes do not count;",
                 "`loss = calc_loss_batch(inputs, targets, model, device)` (topic 21);", "`loss.backward()`;",
                 "when `max_grad_norm` is given, `clip_grad_norm(model.parameters(), max_grad_norm)`;",
                 "`optimizer.step()`.", "Returns the loss, computed before the step, as a Python float.",
                 "Without `lr` every group keeps its learning rate;", "without `max_grad_norm` nothing is clipped.",
                 "It uses torch's global random generator only through the model's dropout, in its one forward "
                 "pass, and leaves the model in train mode"])
def train_step_random(t, rng):
    config = tiny_config(rng)  # no dropout: the losses must not depend on how earlier topics draw masks
    model = tiny_model(rng, config).eval()
    stale_grads(rng, model)
    params = by_name(model)  # two groups split by name, whatever order the learner's modules were made in
    split = rng.integer(1, len(params) - 1)
    optimizer = torch.optim.SGD([{"params": params[:split], "lr": 0.7}, {"params": params[split:], "lr": 0.9}])
    data = batches(rng, config, 3, batch=rng.integer(1, 3))
    steps = [train_step_case(t, rng, model, optimizer, data[0], lr=uniform(rng, 0.05, 0.2),
                             max_grad_norm=uniform(rng, 0.01, 0.05)),
             train_step_case(t, rng, model, optimizer, data[1], lr=uniform(rng, 0.01, 0.05))]
    optimizer.param_groups[1]["lr"] = 0.02  # the groups differ again: a step without lr must keep both
    model.eval()
    steps.append(train_step_case(t, rng, model, optimizer, data[2]))
    return {"steps": steps, "weights": weights(model)}


@check("a few steps of your AdamW, lr_at and clipping through train_step on a tiny GPT give the reference's losses "
       "and weights",
       promises=["Returns the loss, computed before the step, as a Python float."])
def training_random(t, rng):
    config = tiny_config(rng)
    model = tiny_model(rng, config)
    optimizer = t.AdamW(model.parameters(), lr=0.01, betas=(uniform(rng, 0.8, 0.9), uniform(rng, 0.95, 0.99)),
                        eps=1e-3, weight_decay=uniform(rng, 0.0, 0.2))
    steps, warmup = rng.integer(4, 6), rng.integer(0, 2)
    losses = []
    for step, (inputs, targets) in enumerate(batches(rng, config, steps)):
        lr = t.lr_at(step, 0.02, 0.002, warmup, steps)
        losses.append(t.train_step(model, inputs, targets, optimizer, "cpu", lr=lr, max_grad_norm=0.5))
    return {"losses": losses, "weights": weights(model)}


@check("train_model: the history (batch losses, lrs from a schedule, evaluations every eval_freq steps with steps, "
       "tokens seen and losses, samples taken in eval mode without gradients), stopping at max_steps in the "
       "second epoch of three, right after an evaluation; final weights and train mode",
       promises=["makes `num_epochs` passes over `train_loader`, one `train_step` per batch, in the loader's order, "
                 "with `step` counting the steps done (from 0).",
                 "Before each step it checks `max_steps`: once `max_steps` steps are done it returns at once",
                 "The step is `train_step(model, inputs, targets, optimizer, device, lr=schedule(step), "
                 "max_grad_norm=max_grad_norm)`",
                 "After it, the returned loss is appended to `history[\"batch_losses\"]` and "
                 "`optimizer.param_groups[0][\"lr\"]` to `history[\"lrs\"]`;",
                 "`step` grows by 1 and `tokens_seen` by `inputs.numel()`.",
                 "Whenever `step` is a multiple of `eval_freq`, it runs `evaluate_model(model, train_loader, "
                 "val_loader, device, eval_iters)` (topic 21) and appends `step`, `tokens_seen` and the two losses",
                 "When `sample` is given, it then calls `sample(model)` with the model in eval mode and gradients "
                 "off, appends the string it returns to `history[\"samples\"]`, and puts the model back in train "
                 "mode.",
                 "Returns `history`: a dict with exactly the seven keys"])
def train_model_random(t, rng):
    config = tiny_config(rng, dropout=0.0)
    model = tiny_model(rng, config)
    per_epoch, eval_freq = rng.integer(3, 5), rng.integer(2, 3)
    # the first multiple of eval_freq past the first epoch: the run stops in its second epoch of three,
    # right after an evaluation (so the model must be back in train mode after the sample)
    max_steps = eval_freq * (per_epoch // eval_freq + 1)
    train, val = batches(rng, config, per_epoch, batch=rng.integer(1, 3)), batches(rng, config, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, eps=1e-3, weight_decay=0.1)
    table = [uniform(rng, 0.001, 0.02) for _ in range(max_steps)]
    return history_probe(t, model, train, val, optimizer, num_epochs=3, eval_freq=eval_freq,
                         eval_iters=rng.integer(1, 2), max_steps=max_steps, schedule=lambda step: table[step],
                         max_grad_norm=uniform(rng, 0.05, 0.2), sample=sample_stub)


@check("train_model without a schedule, max_steps or sample: every batch of every epoch, the optimizer's own lr, "
       "no evaluation when eval_freq exceeds the steps (empty lists)",
       promises=["with `lr=None` when `schedule` is `None`.", "(`None`: no limit)",
                 "Returns `history`: a dict with exactly the seven keys",
                 "each a list, empty when nothing of its kind happened"])
def train_model_plain(t, rng):
    config = tiny_config(rng, dropout=0.0)
    model = tiny_model(rng, config)
    epochs, per_epoch = rng.integer(1, 2), rng.integer(2, 3)
    train, val = batches(rng, config, per_epoch), batches(rng, config, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=uniform(rng, 0.01, 0.1))
    return history_probe(t, model, train, val, optimizer, num_epochs=epochs,
                         eval_freq=epochs * per_epoch + rng.integer(1, 3), eval_iters=1)


@check("your AdamW, lr_at, clipping and train_model train a tiny GPT on the bundled Shakespeare text: the loss goes "
       "down about as far as the reference's", compare=loss_down_compare,
       promises=["makes `num_epochs` passes over `train_loader`, one `train_step` per batch, in the loader's order, "
                 "with `step` counting the steps done (from 0)."])
def corpus_random(t, rng):
    return corpus_probe(t, rng, chars=2500, context=8, steps=24)

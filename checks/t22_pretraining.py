"""Public checks for topic 22 - the pretraining loop.

The helpers here are reused by the hidden checks of this topic:

* an *optimizer setting* (parameters, groups, one gradient per parameter and
  step or ``None``, a learning-rate factor per step) run through any optimizer
  class - the learner's ``AdamW`` and ``torch.optim.AdamW`` see exactly the same
  steps, and :func:`against_torch` judges the learner's trajectory against
  torch's, computed in the grader's process;
* tiny GPT models (topic 18) with given weights and batches, for the checks
  that train.
"""

from __future__ import annotations

import importlib
import io
from dataclasses import dataclass, field

import torch

from checks.t18_gpt_model import by_name, gpt_config, model_shapes, model_with
from llmkit import data
from llmkit.checks import check
from llmkit.probing import Rng, error_case, seeded
from llmkit.values import Mismatch, same

# ----------------------------------------------------------------------------- optimizer settings


@dataclass
class Setting:
    """What an optimizer is asked to do, step by step (the same for the learner and for torch).

    ``values``: initial parameter values; ``groups``: one dict per parameter group,
    ``{"indices": [...], "hyper": {overrides}}``; ``defaults``: the constructor's
    keywords; ``grads[k][i]``: parameter ``i``'s gradient at step ``k`` (``None``:
    no gradient); ``lr_factors[k]``: every group's learning rate at step ``k`` is
    its base ``lr`` times this (a schedule changing ``group["lr"]`` between steps).
    """

    values: list[torch.Tensor]
    groups: list[dict]
    defaults: dict
    grads: list[list[torch.Tensor | None]]
    lr_factors: list[float]
    names: list[str] = field(default_factory=list)

    def base_lr(self, group: dict) -> float:
        return group["hyper"].get("lr", self.defaults.get("lr", 1e-3))


def draw_grads(rng: Rng, shapes: list[tuple[int, ...]], scales: list[float], steps: int,
               present: list[list[bool]]) -> list[list[torch.Tensor | None]]:
    """``steps`` rows of gradients: ``N(0, scale^2)`` around a fixed direction, or ``None`` where not present."""
    # a fixed part (the same every step) plus noise: the running averages then build up, as in training
    drift = [rng.randn(*shape, scale=scale) for shape, scale in zip(shapes, scales)]
    rows = []
    for k in range(steps):
        row = []
        for i, (shape, scale) in enumerate(zip(shapes, scales)):
            noise = rng.randn(*shape, scale=scale)
            row.append(rng.input(drift[i] + noise) if present[k][i] else None)
        rows.append(row)
    return rows


def state_summary(optimizer, param: torch.Tensor) -> dict:
    """A parameter's optimizer state as plain values: its keys, ``step`` as an int, the two averages."""
    state = optimizer.state.get(param) or {}
    step = state.get("step")
    return {"keys": sorted(str(k) for k in state),
            "step": None if step is None else int(step),
            "exp_avg": state.get("exp_avg"), "exp_avg_sq": state.get("exp_avg_sq")}


def round_trip(optimizer, make, params: list[torch.Tensor], setting: Setting):
    """``state_dict()`` through ``torch.save`` / ``torch.load(weights_only=True)`` into a fresh optimizer.

    The fresh one is built with other hyperparameters everywhere: after
    ``load_state_dict`` every value must come from the saved state.
    """
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    groups = [{"params": [params[i] for i in g["indices"]]} for g in setting.groups]
    fresh = make(groups, lr=0.77, betas=(0.11, 0.22), eps=0.33, weight_decay=0.44)
    fresh.load_state_dict(saved)
    return fresh


def run_setting(make, setting: Setting, round_trip_at: int | None = None) -> dict:
    """Parameters after every step and each parameter's final state, for ``make(groups, **defaults)``.

    With ``round_trip_at = k`` the optimizer is saved and reloaded (:func:`round_trip`)
    right before step ``k`` (counted from 0).
    """
    params = [v.clone().requires_grad_(True) for v in setting.values]
    groups = [{"params": [params[i] for i in g["indices"]], **g["hyper"]} for g in setting.groups]
    optimizer = make(groups, **setting.defaults)
    out = {}
    for k, (grads, factor) in enumerate(zip(setting.grads, setting.lr_factors)):
        if k == round_trip_at:
            optimizer = round_trip(optimizer, make, params, setting)
        for group, spec in zip(optimizer.param_groups, setting.groups):
            group["lr"] = setting.base_lr(spec) * factor
        for p, g in zip(params, grads):
            p.grad = None if g is None else g.clone()
        optimizer.step()
        out[f"after step {k + 1}"] = {name: p.detach().clone() for name, p in zip(setting.names, params)}
    out["final state"] = {name: state_summary(optimizer, p) for name, p in zip(setting.names, params)}
    return out


def learner_adamw(t):
    return lambda groups, **kw: t.AdamW(groups, **kw)


def torch_adamw(groups, **kw):
    # foreach=False: the plain per-parameter loop (on CPU the default anyway)
    return torch.optim.AdamW(groups, foreach=False, **kw)


def adamw_probe(t, setting: Setting, round_trip_at: int | None = None) -> dict:
    """The learner's ``AdamW`` and ``torch.optim.AdamW`` on the same setting (see :func:`against_torch`)."""
    mine = run_setting(learner_adamw(t), setting, round_trip_at)
    return {"adamw": mine, "torch": run_setting(torch_adamw, setting)}


def against_torch(got, expected, *, reveal: bool) -> None:
    """The learner's trajectory equals ``torch.optim.AdamW``'s, as computed in the grader's process;
    any other key of the probe's output equals the reference's."""
    if not isinstance(got, dict) or "adamw" not in got:
        raise Mismatch("expected the trajectory of your AdamW")
    same(got["adamw"], expected["torch"], reveal=reveal, path="AdamW vs torch.optim.AdamW")
    for key in sorted(set(expected) - {"adamw", "torch"}):
        same(got.get(key), expected[key], reveal=reveal, path=key)


def small_setting(rng: Rng, steps: int) -> Setting:
    """Public: two parameters in one group, every gradient present."""
    shapes = [(3, 4), (4,)]
    present = [[True, True] for _ in range(steps)]
    return Setting(values=[rng.randn(*s) for s in shapes], groups=[{"indices": [0, 1], "hyper": {}}],
                   defaults={"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-3, "weight_decay": 0.2},
                   grads=draw_grads(rng, shapes, [1.0, 0.01], steps, present),
                   lr_factors=[1.0 - 0.05 * k for k in range(steps)], names=["weight", "bias"])


# ----------------------------------------------------------------------------- tiny models that train


def t18():
    """Topic 18, resolved like the learner's own import (their model or the reference)."""
    return importlib.import_module("course.t18_gpt_model")


def tiny_config(rng: Rng, dropout: float = 0.0):
    """vocab 20-40, context 4-8, d_model 4-16 (1-2 heads), 1-2 layers."""
    heads = rng.integer(1, 2)
    d_model = heads * rng.integer(4, 8)
    return gpt_config(rng.integer(20, 40), rng.integer(4, 8), d_model, heads, rng.integer(1, 2), dropout,
                      qkv_bias=rng.coin(), tie_weights=rng.coin())


def tiny_model(rng: Rng, config, params: dict | None = None):
    return model_with(t18(), rng, config, params)


def gpt_init_params(rng: Rng, config) -> dict[str, torch.Tensor]:
    """Weights as GPT-2 initializes them (N(0, 0.02^2), biases 0, LayerNorm weights 1), drawn from ``rng``."""
    params = {}
    for name, shape in model_shapes(config).items():
        if len(shape) == 2:
            params[name] = rng.randn(*shape, scale=0.02)
        elif name.endswith(".weight"):  # a LayerNorm's scale
            params[name] = torch.ones(shape)
        else:
            params[name] = torch.zeros(shape)
    return params


def batches(rng: Rng, config, count: int, batch: int = 2) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``count`` random ``(inputs, targets)`` pairs of shape ``(batch, context_length)``."""
    shape = (batch, config.context_length)
    return [(rng.randint(0, config.vocab_size, shape), rng.randint(0, config.vocab_size, shape))
            for _ in range(count)]


def weights(model, small: bool = False) -> dict[str, torch.Tensor]:
    """Every parameter by name; ``small``: only the vectors and the position table (short snapshots)."""
    return {name: p.detach().clone() for name, p in model.named_parameters()
            if not small or p.dim() == 1 or "pos_emb" in name}


def stale_grads(rng: Rng, model) -> None:
    """Gradients left over from an earlier backward pass: a step must not use them."""
    for p in by_name(model):
        p.grad = rng.randn(*p.shape)


def train_step_case(t, rng: Rng, model, optimizer, batch, **kwargs) -> dict:
    """One ``train_step``: what it returned, the lrs it left, and what the model saw.

    Hooks on the model record each forward pass: the model's mode then, and torch's
    global random state just before and just after it. ``train_step`` may draw random
    numbers only inside its one forward pass (the model's dropout), so the state on
    entering the forward pass must be the one ``train_step`` started from, and the state
    it leaves with the one the forward pass ended with. Judged this way (not by the
    numbers drawn), the check holds whatever an earlier topic's dropout draws.
    """
    inputs, targets = batch
    passes: list[list] = []
    before = model.register_forward_pre_hook(lambda m, args: passes.append([m.training, torch.get_rng_state()]))
    after = model.register_forward_hook(lambda m, args, out: passes[-1].append(torch.get_rng_state()))
    try:
        with seeded(rng):
            start = torch.get_rng_state()
            loss = t.train_step(model, inputs, targets, optimizer, "cpu", **kwargs)
            end = torch.get_rng_state()
    finally:
        before.remove()
        after.remove()
    one = len(passes) == 1 and len(passes[0]) == 3
    return {"loss": loss, "forward passes, in train mode?": [p[0] for p in passes],
            "no random numbers drawn before the forward pass": one and torch.equal(passes[0][1], start),
            "no random numbers drawn after the forward pass": one and torch.equal(passes[0][2], end),
            "model in train mode after": model.training,
            "group lrs": [group["lr"] for group in optimizer.param_groups]}


def sample_stub(model) -> str:
    """A stand-in for topic 19's generation: what ``sample`` sees (the model's mode, whether gradients
    are on) and that the model runs there. No argmax: a near tie would make the text knife-edge."""
    ids = torch.arange(model.config.context_length).remainder(model.config.vocab_size).unsqueeze(0)
    logits = model(ids)
    return f"training={model.training} grad={torch.is_grad_enabled()} graph={logits.requires_grad}"


def history_probe(t, model, train_loader, val_loader, optimizer, small: bool = False, **kwargs) -> dict:
    """``train_model``'s history and the model's final weights and mode."""
    history = t.train_model(model, train_loader, val_loader, optimizer, "cpu", **kwargs)
    return {"history": history, "weights": weights(model, small), "model in train mode": model.training}


# ----------------------------------------------------------------------------- the bundled corpus


def char_batches(text: str, context: int, batch: int) -> tuple[list, list, int]:
    """Character-level ``(train_batches, val_batches, vocab_size)`` from ``text``: windows of
    ``context`` tokens with stride ``context``, the first 90% for training."""
    chars = sorted(set(text))
    ids = torch.tensor([chars.index(c) for c in text])
    starts = range(0, len(ids) - context - 1, context)
    windows = [(ids[s:s + context], ids[s + 1:s + context + 1]) for s in starts]
    pairs = [(torch.stack([w[0] for w in windows[i:i + batch]]), torch.stack([w[1] for w in windows[i:i + batch]]))
             for i in range(0, len(windows) - batch + 1, batch)]
    split = int(0.9 * len(pairs))
    return pairs[:split], pairs[split:], len(chars)


def milli(loss: float) -> int:
    """A loss in thousandths of a nat, rounded: the corpus check compares losses coarsely, and a probe
    without float outputs needs no float64 reruns (it is the slowest probe of the topic)."""
    return round(1000 * loss)


def last_loss(history, key: str) -> float:
    """``history[key][-1]`` of the one evaluation ``train_model`` made at the last step."""
    values = history.get(key) if isinstance(history, dict) else None
    if not isinstance(values, list) or len(values) != 1 or not isinstance(values[0], (int, float)):
        raise Mismatch(f"train_model with eval_freq = max_steps: history[{key!r}] should hold the one evaluation "
                       f"at the last step, got {values!r}")
    return values[0]


def corpus_probe(t, rng: Rng, chars: int, context: int, steps: int) -> dict:
    """Your whole topic on the bundled text: AdamW, the schedule, clipping and ``train_model``.

    Returns the losses (in thousandths of a nat, :func:`milli`) of topic 21's
    ``evaluate_model`` before training and of the evaluation at the last step.
    """
    train, val, vocab = char_batches(data.sample_text(chars), context, batch=8)
    heads = rng.integer(1, 2)
    config = gpt_config(vocab, context, 8 * heads, heads, 1, 0.0, qkv_bias=rng.coin(), tie_weights=True)
    model = tiny_model(rng, config, gpt_init_params(rng, config))
    evaluation = importlib.import_module("course.t21_evaluation")
    before = evaluation.evaluate_model(model, train, val, "cpu", len(val))
    optimizer = t.AdamW(model.parameters(), lr=0.02, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1)

    def schedule(step: int) -> float:
        return t.lr_at(step, 0.02, 0.002, 3, steps)

    history = t.train_model(model, train, val, optimizer, "cpu", num_epochs=steps // len(train) + 1,
                            eval_freq=steps, eval_iters=len(val), max_steps=steps, schedule=schedule,
                            max_grad_norm=1.0)
    return {"before": {"train": milli(before[0]), "val": milli(before[1])},
            "after": {"train": milli(last_loss(history, "train_losses")),
                      "val": milli(last_loss(history, "val_losses"))}}


def loss_down_compare(got, expected, *, reveal: bool) -> None:
    """Training lowered the train loss by at least 60% of what the reference's training achieved (from the
    same start: the same weights, measured by the reference), and the validation loss went down too."""
    start, end = expected["before"], expected["after"]
    gain = start["train"] - end["train"]
    after = got.get("after") if isinstance(got, dict) else None
    if not isinstance(after, dict) or not all(isinstance(after.get(k), int) for k in ("train", "val")):
        raise Mismatch("expected the losses after training")
    if not start["train"] - after["train"] >= 0.6 * gain:
        raise Mismatch(f"training on the bundled text took the train loss from {start['train'] / 1000:.3f} to "
                       f"{after['train'] / 1000:.3f}" + (f"; the reference reached {end['train'] / 1000:.3f}"
                                                         if reveal else ": it should go down much further"))
    if not after["val"] < start["val"]:
        raise Mismatch(f"the validation loss went from {start['val'] / 1000:.3f} to {after['val'] / 1000:.3f}: "
                       "it should go down too")


# ----------------------------------------------------------------------------- checks


@check("AdamW equals torch.optim.AdamW over 8 steps (weight decay, bias correction, lr changed between steps)",
       compare=against_torch)
def adamw_matches_torch(t, rng):
    return adamw_probe(t, small_setting(rng, 8))


@check("AdamW's state holds step, exp_avg and exp_avg_sq; state_dict() saved and loaded mid-way resumes exactly",
       compare=against_torch)
def adamw_state_dict(t, rng):
    return adamw_probe(t, small_setting(rng, 6), round_trip_at=3)


@check("lr_at: warm-up to max_lr, cosine down to min_lr, min_lr after total_steps")
def schedule_values(t, rng):
    return {"warmup 4, total 12": [t.lr_at(s, 0.1, 0.01, 4, 12) for s in range(15)],
            "no warm-up": [t.lr_at(s, 3e-4, 0.0, 0, 5) for s in range(7)]}


@check("clip_grad_norm: the global norm before clipping; gradients scaled only when above max_norm")
def clipping(t, rng):
    out = []
    for max_norm in (0.5, 50.0):
        params = [rng.randn(3, 4).requires_grad_(), rng.randn(5).requires_grad_(), rng.randn(2).requires_grad_()]
        params[0].grad, params[1].grad = rng.randn(3, 4), rng.randn(5, scale=2.0)  # params[2] has no gradient
        norm = t.clip_grad_norm(params, max_norm)
        out.append({"norm": norm, "grads": [p.grad for p in params]})
    return out


@check("train_step: one forward pass in train mode, lr set, stale gradients cleared, loss as a float, clipped "
       "SGD step")
def train_step_sgd(t, rng):
    config = gpt_config(24, 6, 8, 2, 1, dropout=0.0, qkv_bias=True, tie_weights=True)
    model = tiny_model(rng, config).eval()
    stale_grads(rng, model)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    data_ = batches(rng, config, 2)
    steps = [train_step_case(t, rng, model, optimizer, data_[0], lr=0.1, max_grad_norm=0.05),
             train_step_case(t, rng, model, optimizer, data_[1])]
    return {"steps": steps, "weights": weights(model, small=True)}


@check("train_model: history of losses, lrs, evaluations every eval_freq steps, samples; stops at max_steps")
def train_model_history(t, rng):
    config = gpt_config(20, 4, 8, 2, 1, dropout=0.0, qkv_bias=False, tie_weights=True)
    model = tiny_model(rng, config)
    train, val = batches(rng, config, 3), batches(rng, config, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, eps=1e-3)
    return history_probe(t, model, train, val, optimizer, small=True, num_epochs=2, eval_freq=2, eval_iters=1,
                         max_steps=5, schedule=lambda step: 0.01 / (step + 1), sample=sample_stub)


@check("errors: AdamW's hyperparameters, lr_at's arguments, clip_grad_norm's max_norm")
def errors(t, rng):
    p = [torch.zeros(2, requires_grad=True)]
    return [error_case("AdamW(lr=-0.5)", t.AdamW, p, lr=-0.5, names=[-0.5]),
            error_case("AdamW(betas=(0.9, 1.5))", t.AdamW, p, betas=(0.9, 1.5), names=[1.5]),
            error_case("lr_at(step=-1)", t.lr_at, -1, 0.1, 0.0, 2, 10, names=[-1]),
            error_case("lr_at(warmup_steps=12, total_steps=10)", t.lr_at, 0, 0.1, 0.0, 12, 10, names=[12, 10]),
            error_case("clip_grad_norm(max_norm=-2.5)", t.clip_grad_norm, p, -2.5, names=[-2.5])]

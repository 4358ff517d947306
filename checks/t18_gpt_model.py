"""Public checks for topic 18 - the GPT-2 model.

The helpers here (documented parameter names of a whole model, given weights,
the init statistics and the parameter counts on the ``meta`` device) are
reused by the hidden checks of this topic.
"""

from __future__ import annotations

import importlib
import math

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from llmkit.attention_probes import no_future_compare, projection_shapes
from llmkit.checks import check
from llmkit.probing import Rng, error_case, load_params, seeded
from llmkit.values import Mismatch, exact, per_item

# GPT-2 small's published sizes (Radford et al., 2019): with and without the tied output head
GPT2_SMALL = dict(vocab_size=50257, context_length=1024, d_model=768, num_heads=12, num_layers=12,
                  dropout=0.1, qkv_bias=True)
GPT2_SMALL_TIED, GPT2_SMALL_UNTIED = 124_439_808, 163_037_184
INIT_STD = 0.02

# ----------------------------------------------------------------------------- configs and weights


def gpt_config(vocab_size: int, context_length: int, d_model: int, num_heads: int, num_layers: int,
               dropout: float = 0.0, qkv_bias: bool = False, tie_weights: bool = True):
    """A topic-13 ``GPTConfig`` (resolved like the model's own import: learner's or reference)."""
    config_class = importlib.import_module("course.t13_gpt_config").GPTConfig
    return config_class(vocab_size=vocab_size, context_length=context_length, d_model=d_model,
                        num_heads=num_heads, num_layers=num_layers, dropout=dropout, qkv_bias=qkv_bias,
                        tie_weights=tie_weights)


def random_config(rng: Rng, *, tie_weights: bool, qkv_bias: bool, dropout: float = 0.0,
                  min_layers: int = 1, max_layers: int = 3, min_context: int = 2, max_context: int = 12):
    """A small random config: vocab 20-100, d_model 8-48 (1-4 heads), 1-3 layers."""
    heads = rng.integer(1, 4)
    d_model = heads * rng.integer(max(1, -(-8 // heads)), 48 // heads)
    return gpt_config(rng.integer(20, 100), rng.integer(min_context, max_context), d_model, heads,
                      rng.integer(min_layers, max_layers), dropout, qkv_bias, tie_weights)


def block_shapes(d: int, qkv_bias: bool, prefix: str) -> dict[str, tuple[int, ...]]:
    """The documented parameters of one topic-17 block, under ``prefix``."""
    shapes = {f"{prefix}norm1.weight": (d,), f"{prefix}norm1.bias": (d,)}
    shapes.update(projection_shapes(d, d, qkv_bias, prefix=f"{prefix}attn."))
    shapes.update({f"{prefix}attn.out_proj.weight": (d, d), f"{prefix}attn.out_proj.bias": (d,),
                   f"{prefix}norm2.weight": (d,), f"{prefix}norm2.bias": (d,),
                   f"{prefix}ff.fc.weight": (4 * d, d), f"{prefix}ff.fc.bias": (4 * d,),
                   f"{prefix}ff.proj.weight": (d, 4 * d), f"{prefix}ff.proj.bias": (d,)})
    return shapes


def model_shapes(config) -> dict[str, tuple[int, ...]]:
    """Documented parameter names and shapes of ``GPTModel(config)`` (tied: no ``out_head.weight``)."""
    d = config.d_model
    shapes = {"embedding.tok_emb.weight": (config.vocab_size, d),
              "embedding.pos_emb.table.weight": (config.context_length, d)}
    for i in range(config.num_layers):
        shapes.update(block_shapes(d, config.qkv_bias, f"blocks.{i}."))
    shapes.update({"final_norm.weight": (d,), "final_norm.bias": (d,)})
    if not config.tie_weights:
        shapes["out_head.weight"] = (config.vocab_size, d)
    return shapes


def model_params(rng: Rng, config) -> dict[str, torch.Tensor]:
    """Random values for every parameter: tables N(0, 1), matrices 1/sqrt(fan_in), vectors 0.5."""
    params = {}
    for name, shape in model_shapes(config).items():
        if name.startswith("embedding."):
            scale = 1.0
        elif len(shape) == 2:
            scale = shape[1] ** -0.5
        else:
            scale = 0.5
        params[name] = rng.randn(*shape, scale=scale)
    return params


def model_with(t, rng: Rng, config, params: dict | None = None):
    """A learner's ``GPTModel(config)`` with every parameter overwritten by given values."""
    model = t.GPTModel(config)
    if params is None:
        params = model_params(rng, config)
    return load_params(model, params, "t18 GPTModel")


def by_name(model) -> list[torch.nn.Parameter]:
    """The model's parameters sorted by name: the contract fixes the names, not the order a learner's
    modules were created in (a probe that splits or draws by position must not depend on it)."""
    return [p for _, p in sorted(model.named_parameters(), key=lambda item: item[0])]


def layout(model) -> dict:
    return {name: list(p.shape) for name, p in model.named_parameters()}


class _NoRandomFillOnMeta(TorchDispatchMode):
    """Random fills of ``meta`` tensors become no-ops: such a tensor has a shape but no values to fill.

    PyTorch runs ``normal_`` / ``uniform_`` on ``meta`` through Python decompositions (about 1 ms a
    call); skipping them halves the time to build GPT-2 small on the meta device and changes no shape,
    dtype or parameter object. Every other operation runs as usual.
    """

    FILLS = {torch.ops.aten.normal_.default, torch.ops.aten.uniform_.default}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in self.FILLS and isinstance(args[0], torch.Tensor) and args[0].is_meta:
            return args[0]
        return func(*args, **(kwargs or {}))


def on_meta(t, config):
    """The learner's ``GPTModel(config)`` with every tensor on the ``meta`` device: shapes only."""
    with torch.device("meta"), _NoRandomFillOnMeta():
        return t.GPTModel(config)


# ----------------------------------------------------------------------------- probes


def ids_future_probe(model, rng: Rng, ids: torch.Tensor, vocab_size: int) -> dict:
    """Logits for ``ids`` and for ``ids`` with every token from ``split`` on replaced (``no_future_compare``)."""
    batch, seq = ids.shape
    split = rng.integer(1, seq - 1)
    changed = ids.clone()
    changed[:, split:] = rng.randint(0, vocab_size, (batch, seq - split))
    return {"split": split, "original": model(ids), "perturbed": model(changed)}


def tying_probe(t, rng: Rng, config) -> dict:
    """What tying means, observed: identity, names, an in-place edit, the gradient, one SGD step."""
    model = model_with(t, rng, config).eval()
    emb = model.embedding.tok_emb.weight
    out = {"same_object": model.out_head.weight is emb,
           "names": sorted(name for name, _ in model.named_parameters()),
           "state_dict_keys": sorted(k for k in model.state_dict() if k.endswith("weight") or k.endswith("bias"))}
    with torch.no_grad():
        emb.add_(rng.randn(*emb.shape, scale=0.5))  # the head changes with it only if it is the same Parameter
    out["head_after_embedding_edit"] = model.out_head.weight.detach().clone()
    ids = rng.randint(0, config.vocab_size, (2, config.context_length))
    (model(ids) * rng.randn(2, config.context_length, config.vocab_size)).sum().backward()
    out["embedding_grad"] = emb.grad
    torch.optim.SGD(model.parameters(), lr=0.05).step()
    with torch.no_grad():
        out["logits_after_step"] = model(ids)
    return out


def count_probe(t, config) -> dict:
    """The learner's model built on the ``meta`` device: its distinct parameters, ``count_parameters``
    and topic 13's formula (in the reference run: the reference formula)."""
    model = on_meta(t, config)
    try:  # only the reference run's value is used: the learner's own topic 13 is judged in topic 13
        formula = importlib.import_module("course.t13_gpt_config").count_parameters(config)
    except Exception:
        formula = None
    return {"model": sum(p.numel() for p in model.parameters()), "count_parameters": t.count_parameters(model),
            "formula": formula}


@per_item
def count_compare(got, expected, *, reveal: bool, path: str = "count") -> None:
    """The learner's model and its ``count_parameters`` both equal the reference's topic-13 formula."""
    config = expected.get("config", path)
    if got.get("model") != expected["formula"]:
        raise Mismatch(f"{config}: the model built from it has {got.get('model')} distinct parameters, topic 13's "
                       f"formula says {expected['formula'] if reveal else 'otherwise'}")
    if got.get("count_parameters") != expected["formula"]:
        raise Mismatch(f"{config}: count_parameters returned {got.get('count_parameters')!r}, expected "
                       f"{expected['formula'] if reveal else 'the number of distinct parameters'}")


def labelled_count(t, config, label: str) -> dict:
    return {"config": label, **count_probe(t, config)}


def init_target(name: str, shape: list[int], num_layers: int) -> tuple[str, float]:
    """What GPT-2's init gives a parameter: ``("zero" | "one" | "normal", std)``."""
    if name.endswith(".bias") or name == "bias":
        return "zero", 0.0
    if len(shape) == 1:
        return "one", 0.0
    if name.endswith(("attn.out_proj.weight", "ff.proj.weight")):
        return "normal", INIT_STD / math.sqrt(2 * num_layers)
    return "normal", INIT_STD


# A fresh init is random, so it is judged against GPT-2's distribution, not against the reference's own
# draw. For a tensor of n >= 2,000 values from N(0, s^2): the sample mean has standard deviation s/sqrt(n),
# the sample std about s/sqrt(2n), the share of values within one s of 0 (0.6827 for a normal)
# sqrt(0.6827 * 0.3173 / n). Each is allowed 7 of its standard deviations: a correct init fails one
# statistic with probability < 3e-12, a model of <= 70 weight tensors (3 statistics each) < 1e-9 per run.
# The mistakes this catches miss by far more: PyTorch's default nn.Linear init (std 1/sqrt(3 fan_in),
# 0.072 for fan_in 64), an unscaled residual projection (std 0.02 instead of 0.02/sqrt(2L), L >= 2),
# the N(0, 1) of topic 04's Embedding, a uniform draw (0.577 of it within one std).
INIT_SIGMAS = 7.0
NORMAL_WITHIN_ONE_STD = 0.6826894921370859


def init_compare(got, expected, *, reveal: bool) -> None:
    """Every parameter follows GPT-2's init: N(0, 0.02^2), residual projections scaled, biases 0, norms 1."""
    num_layers = expected["num_layers"]
    want, have = expected["params"], got.get("params") if isinstance(got, dict) else None
    if not isinstance(have, dict) or set(have) != set(want):
        names = sorted(have) if isinstance(have, dict) else have
        raise Mismatch(f"parameters {names}, expected {sorted(want)}")
    for name, stats in have.items():
        kind, std = init_target(name, want[name]["shape"], num_layers)
        if stats.get("shape") != want[name]["shape"]:
            raise Mismatch(f"{name}: shape {stats.get('shape')}, expected {want[name]['shape']}")
        if kind == "zero" and not stats["min"] == stats["max"] == 0.0:
            raise Mismatch(f"{name} should start at 0, it holds values in [{stats['min']:.3g}, {stats['max']:.3g}]")
        if kind == "one" and not stats["min"] == stats["max"] == 1.0:
            raise Mismatch(f"{name} (a LayerNorm weight) should start at 1, it holds values in "
                           f"[{stats['min']:.3g}, {stats['max']:.3g}]")
        if kind != "normal":
            continue
        n = stats["n"]
        checks = [("mean", stats["mean"], 0.0, std / math.sqrt(n)),
                  ("standard deviation", stats["std"], std, std / math.sqrt(2 * n)),
                  ("share of values within one standard deviation of 0", stats["within"], NORMAL_WITHIN_ONE_STD,
                   math.sqrt(NORMAL_WITHIN_ONE_STD * (1 - NORMAL_WITHIN_ONE_STD) / n))]
        for what, value, target, sd in checks:
            if abs(value - target) > INIT_SIGMAS * sd:
                raise Mismatch(f"{name}: {what} {value:.4g}, expected {target:.4g} (GPT-2's init draws it from "
                               f"N(0, {std:.4g}^2){' - a residual projection' if std < INIT_STD else ''}, "
                               f"num_layers={num_layers})")


def init_summary(model, num_layers: int) -> dict:
    """Plain statistics of every parameter, for :func:`init_compare`."""
    params = {}
    for name, p in model.named_parameters():
        w = p.detach().double().flatten()
        kind, std = init_target(name, list(p.shape), num_layers)
        if kind == "normal":
            params[name] = {"shape": list(p.shape), "n": w.numel(), "mean": w.mean().item(),
                            "std": w.std().item(), "within": (w.abs() < std).double().mean().item()}
        else:  # a bias or a LayerNorm weight: a constant
            params[name] = {"shape": list(p.shape), "min": w.min().item(), "max": w.max().item()}
    return {"num_layers": num_layers, "params": params}


def fresh_model_statistics(t, rng: Rng, config) -> dict:
    """``GPTModel(config)`` as built (so with the learner's own call of the init), seeded."""
    with seeded(rng):
        model = t.GPTModel(config)
    return init_summary(model, config.num_layers)


def memory_cases(t, model, label: str) -> dict:
    return {f"{label} {name}": t.parameter_memory(model, dtype) for name, dtype in
            (("float32", torch.float32), ("bfloat16", torch.bfloat16), ("float16", torch.float16),
             ("float64", torch.float64))} | {f"{label} default": t.parameter_memory(model)}


def too_long_case(t, rng: Rng, config, longer: int) -> dict:
    model = model_with(t, rng, config).eval()
    ids = rng.randint(0, config.vocab_size, (1, longer))
    return error_case(f"GPTModel(context_length={config.context_length}) on {longer} tokens", model, ids,
                      names=[longer, config.context_length])


# ----------------------------------------------------------------------------- dropout, decoded


def zero_projection_params(rng: Rng, config) -> dict[str, torch.Tensor]:
    """Model parameters whose blocks have zero output projections and well-separated output biases.

    A block then returns ``x + drop(b_attn) + drop(b_ff)`` (topic 17): with ``b_attn`` in [1, 2) and
    ``b_ff`` in [4, 6), each feature of ``y - x`` shows which of the two dropout masks kept it.
    """
    params = model_params(rng, config)
    d = config.d_model
    for i in range(config.num_layers):
        params[f"blocks.{i}.attn.out_proj.weight"] = torch.zeros(d, d)
        params[f"blocks.{i}.ff.proj.weight"] = torch.zeros(d, 4 * d)
        params[f"blocks.{i}.attn.out_proj.bias"] = rng.input(1.0 + rng.rand(d))
        params[f"blocks.{i}.ff.proj.bias"] = rng.input(4.0 + 2.0 * rng.rand(d))
    return params


def dropout_probe(t, rng: Rng, config, batch: int) -> dict:
    """Train mode: the embedding's output and each block's ``y - x``, with what they are made of."""
    params = zero_projection_params(rng, config)
    model = model_with(t, rng, config, params).train()
    seq = config.context_length
    ids = rng.randint(0, config.vocab_size, (batch, seq))
    with seeded(rng):
        embedded = model.embedding(ids)
    # token + position rows, computed here from the given tables (not by the learner's code)
    clean = params["embedding.tok_emb.weight"][ids] + params["embedding.pos_emb.table.weight"][:seq]
    blocks = []
    for i, block in enumerate(model.blocks):
        x = rng.randn(batch, seq, config.d_model, scale=2.0)
        with seeded(rng):
            y = block(x)
        blocks.append({"b_attn": params[f"blocks.{i}.attn.out_proj.bias"],
                       "b_ff": params[f"blocks.{i}.ff.proj.bias"], "delta": (y - x).detach()})
    return {"p": config.dropout, "embedding": {"output": embedded.detach(), "clean": clean}, "blocks": blocks}


# Each dropout mask is judged by its rate: with n elements and rate p the dropped share has standard
# deviation sqrt(p(1-p)/n). The band, 6 of them + 0.01, has an exact binomial tail < 4e-10 for every
# p in {0.2, 0.3, 0.5} at n >= 512 (the hidden probe: 4 sequences of >= 8 tokens, >= 16 features): a
# correct model fails one of the <= 7 statistics of a run with probability < 3e-9.
BAND_SIGMAS = 6.0


def _rate_ok(what: str, dropped: float, p: float, n: int) -> None:
    band = BAND_SIGMAS * (p * (1 - p) / n) ** 0.5 + 0.01
    if abs(dropped - p) > band:
        raise Mismatch(f"in train mode {dropped:.1%} of {what} were dropped, expected about {p:.0%} "
                       f"(config.dropout={p}): is config.dropout passed on?")


def dropout_compare(got, expected, *, reveal: bool) -> None:
    """The embedding drops (token + position) at rate p; every block drops each branch's output at rate p."""
    p = float(exact(expected["p"]))
    scale = 1.0 / (1.0 - p)
    if not isinstance(got, dict) or len(got.get("blocks", [])) != len(expected["blocks"]):
        raise Mismatch(f"expected the embedding's output and {len(expected['blocks'])} blocks' outputs")
    out = got["embedding"]["output"]
    clean = exact(expected["embedding"]["clean"]).double()
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != tuple(clean.shape):
        raise Mismatch(f"embedding output shape {getattr(out, 'shape', None)}, expected {tuple(clean.shape)}")
    out = out.double()
    dropped = out.abs() <= 1e-4
    kept = (out - clean * scale).abs() <= 1e-3 * (1.0 + (clean * scale).abs())
    if not bool((dropped | kept).all()):
        where = tuple(int(i) for i in torch.nonzero(~(dropped | kept))[0])
        raise Mismatch(f"in train mode the embedding's output at {where} is {out[where].item():.4g}: every "
                       f"element must be 0 or (token + position) / (1 - p), p = config.dropout = {p}")
    _rate_ok("the embedding's outputs", (dropped & ~kept).double().mean().item(), p, out.numel())
    for i, (g, e) in enumerate(zip(got["blocks"], expected["blocks"])):
        b_attn, b_ff = exact(e["b_attn"]).double(), exact(e["b_ff"]).double()
        delta = g["delta"]
        if not isinstance(delta, torch.Tensor) or tuple(delta.shape) != tuple(e["delta"].shape):
            raise Mismatch(f"block {i}: output shape {getattr(delta, 'shape', None)}, "
                           f"expected {tuple(e['delta'].shape)}")
        candidates = torch.stack([torch.zeros_like(b_attn), b_attn, b_ff, b_attn + b_ff]) * scale
        distance = (delta.double().unsqueeze(-2) - candidates).abs()
        best = distance.argmin(dim=-2)
        if not bool((distance.min(dim=-2).values <= 1e-3 * (1.0 + candidates.abs().max())).all()):
            raise Mismatch(f"block {i} in train mode: with zero output projections, y - x must be 0, b_attn/(1-p), "
                           f"b_ff/(1-p) or (b_attn+b_ff)/(1-p) in every feature (topic 17's dropout)")
        _rate_ok(f"block {i}'s attention outputs", 1.0 - ((best == 1) | (best == 3)).double().mean().item(),
                 p, best.numel())
        _rate_ok(f"block {i}'s feed-forward outputs", 1.0 - ((best == 2) | (best == 3)).double().mean().item(),
                 p, best.numel())


# ----------------------------------------------------------------------------- checks


@check("parameter names and shapes, tied (no out_head.weight) and untied")
def parameter_layout(t, rng):
    return [layout(t.GPTModel(gpt_config(30, 6, 8, 2, 2, qkv_bias=True, tie_weights=True))),
            layout(t.GPTModel(gpt_config(25, 5, 12, 3, 1, qkv_bias=False, tie_weights=False)))]


@check("logits (batch, seq, vocab_size) equal the reference given weights: tied, qkv bias")
def logits_tied(t, rng):
    config = gpt_config(24, 8, 16, 4, 2, dropout=0.1, qkv_bias=True, tie_weights=True)
    model = model_with(t, rng, config).eval()
    return [model(rng.randint(0, 24, (1, 8))), model(rng.randint(0, 24, (1, 3)))]


@check("logits equal the reference given weights: untied head, no qkv bias")
def logits_untied(t, rng):
    config = gpt_config(20, 6, 12, 3, 2, qkv_bias=False, tie_weights=False)
    model = model_with(t, rng, config).eval()
    return model(rng.randint(0, 20, (2, 6)))


@check("tied weights: the head IS the token embedding (one Parameter, listed once, sharing edits and gradients)")
def weight_tying(t, rng):
    return tying_probe(t, rng, gpt_config(16, 4, 8, 2, 1, qkv_bias=True, tie_weights=True))


@check("changing later tokens leaves the logits at earlier positions unchanged", compare=no_future_compare)
def no_future(t, rng):
    model = model_with(t, rng, gpt_config(16, 8, 8, 2, 2, tie_weights=True)).eval()
    return ids_future_probe(model, rng, rng.randint(0, 16, (1, 8)), 16)


@check("GPT-2 small built on the meta device: 124,439,808 parameters tied, 163,037,184 untied",
       compare=count_compare)
def gpt2_small_count(t, rng):
    return [labelled_count(t, gpt_config(**GPT2_SMALL, tie_weights=True), "GPT-2 small, tied"),
            labelled_count(t, gpt_config(**GPT2_SMALL, tie_weights=False), "GPT-2 small, untied")]


@check("parameter_memory: 4 bytes per parameter in float32, 2 in bfloat16 and float16, 8 in float64")
def memory(t, rng):
    model = t.GPTModel(gpt_config(30, 6, 8, 2, 1, tie_weights=True))
    wide = on_meta(t, gpt_config(**(GPT2_SMALL | {"num_layers": 1}), tie_weights=True))
    return memory_cases(t, model, "tiny model") | memory_cases(t, wide, "GPT-2 small's widths, 1 layer, on meta")


@check("a fresh model follows GPT-2's init: N(0, 0.02^2), residual projections / sqrt(2 * num_layers), "
       "biases 0, LayerNorm weights 1", compare=init_compare)
def fresh_init(t, rng):
    return fresh_model_statistics(t, rng, gpt_config(300, 64, 64, 4, 2, qkv_bias=True, tie_weights=False))


@check("seq > context_length raises ValueError naming both numbers")
def too_long(t, rng):
    return [too_long_case(t, rng, gpt_config(20, 4, 8, 2, 1), 6)]

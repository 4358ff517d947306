"""Public checks for topic 13 - Bird's-eye view (GPTConfig, GPT-2's size, the dummy model).

The helpers here (a config as plain data, a dummy model with given weights, the
train-mode dropout probe) are reused by the hidden checks.
"""

from __future__ import annotations

import torch

from llmkit.checks import check
from llmkit.probing import Rng, error_case, load_params
from llmkit.values import Mismatch, exact

FIELDS = ("vocab_size", "context_length", "d_model", "num_heads", "num_layers", "dropout", "qkv_bias",
          "tie_weights")
SIZES = ("124M", "355M", "774M", "1558M")
BREAKDOWN_KEYS = ("token_embedding", "position_embedding", "blocks", "final_norm", "output_head")

# ----------------------------------------------------------------------------- plain views


def config_view(config) -> dict:
    """A config as plain data: every field with its value and the value's type name."""
    missing = [name for name in FIELDS if not hasattr(config, name)]
    if missing:
        raise Mismatch(f"the config has no field(s) {', '.join(missing)}")
    return {"type": type(config).__name__,
            "fields": {name: getattr(config, name) for name in FIELDS},
            "types": {name: type(getattr(config, name)).__name__ for name in FIELDS}}


def breakdown_view(t, config) -> dict:
    """``parameter_breakdown`` with its key order and value types, and ``count_parameters``."""
    parts = t.parameter_breakdown(config)
    if not isinstance(parts, dict):
        raise Mismatch(f"parameter_breakdown returned a {type(parts).__name__}, expected a dict")
    total = t.count_parameters(config)
    return {"parts": parts, "key_order": list(parts), "types": sorted({type(v).__name__ for v in parts.values()}),
            "total": total, "total_type": type(total).__name__}


def counts_view(t, config) -> list:
    """``count_parameters`` of ``config`` and its type name."""
    total = t.count_parameters(config)
    return [total, type(total).__name__]


# ----------------------------------------------------------------------------- configs and models


def small_config(t, rng: Rng, **changes):
    """A random small config: vocab 20-100, context 4-16, d_model = heads * head size <= 32, 1-3 layers."""
    heads = rng.integer(1, 4)
    fields = {"vocab_size": rng.integer(20, 100), "context_length": rng.integer(4, 16),
              "d_model": heads * rng.integer(2, 8), "num_heads": heads, "num_layers": rng.integer(1, 3),
              "dropout": 0.0, "qkv_bias": rng.coin(), "tie_weights": rng.coin()}
    fields.update(changes)
    return t.GPTConfig(**fields)


def dummy_shapes(config) -> dict:
    """Documented parameter names and shapes of ``DummyGPTModel``."""
    return {"tok_emb.weight": (config.vocab_size, config.d_model),
            "pos_emb.weight": (config.context_length, config.d_model),
            "out_head.weight": (config.vocab_size, config.d_model)}


def dummy_with(t, rng: Rng, config, params: dict | None = None):
    """A learner's ``DummyGPTModel(config)`` with every parameter overwritten by given values."""
    if params is None:
        params = rng.params(dummy_shapes(config))
    return load_params(t.DummyGPTModel(config), params, "t13 DummyGPTModel")


def dummy_logits(model, ids: torch.Tensor):
    """Eval-mode logits (no dropout) of ``model`` on ``ids``."""
    model.eval()
    with torch.no_grad():
        return model(ids)


def dummy_dropout_probe(t, rng: Rng, p: float) -> dict:
    """Train-mode logits of a dummy model whose head starts with the identity, summarised.

    ``out_head.weight`` is ``[I; R]``, so the first ``d_model`` logits are the
    dropped-out embeddings themselves and the rest are ``R`` times them. Each of
    those first logits over the undropped embedding (computed here from the given
    weights) must be 0 or ``1/(1-p)`` if dropout acts on the summed embeddings; the
    other logits must be ``R`` times the same vectors (not so if dropout acted on
    the logits instead). Returns ``p``, the first ratio that is neither (``None`` if none), that consistency and whether about a
    share ``p`` of the values was dropped.
    """
    d, seq = rng.integer(8, 16), rng.integer(8, 16)
    vocab = d + rng.integer(4, 20)
    config = t.GPTConfig(vocab_size=vocab, context_length=seq + rng.integer(0, 4), d_model=d, num_heads=1,
                         num_layers=rng.integer(1, 3), dropout=p)
    tok, pos, rest = rng.randn(vocab, d), rng.randn(config.context_length, d), rng.randn(vocab - d, d, scale=0.5)
    head = rng.input(torch.cat([torch.eye(d), rest]))
    model = dummy_with(t, rng, config, {"tok_emb.weight": tok, "pos_emb.weight": pos, "out_head.weight": head})
    ids = rng.randint(0, vocab, (rng.integer(4, 6), seq))
    model.train()
    with torch.no_grad():
        logits = model(ids)
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (ids.shape[0], seq, vocab):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise Mismatch(f"train-mode logits have shape {shape}, expected {(ids.shape[0], seq, vocab)}")
    embeddings = (tok[ids] + pos[:seq]).double()  # from the given weights, not from the learner's code
    used = logits[..., :d].double()
    ratio = used / embeddings
    kept = 1.0 / (1.0 - p)
    dropped = ratio.abs() < 1e-3
    odd = ~dropped & ((ratio - kept).abs() > 1e-3 * kept)
    first_odd = ratio[tuple(torch.nonzero(odd)[0])].item() if bool(odd.any()) else None
    predicted = used @ rest.double().T
    consistent = bool(torch.allclose(logits[..., d:].double(), predicted, rtol=1e-4, atol=1e-4))
    # the dropped share of n >= 256 values is Binomial(n, p) / n: 6 standard deviations (+0.02) leave a
    # false failure rate below 1e-8 per run (only the verdict is returned: snapshots hold no random draw)
    n = ratio.numel()
    share_ok = abs(dropped.double().mean().item() - p) <= 6 * (p * (1 - p) / n) ** 0.5 + 0.02
    return {"p": p, "odd_ratio": first_odd, "other_logits_consistent": consistent, "dropped_share_near_p": share_ok}


def dropout_compare(got, expected, *, reveal: bool) -> None:
    """Train-mode dropout zeroes a share ~p of the summed embeddings and scales the rest by 1/(1-p)."""
    p = exact(expected["p"])
    if not isinstance(got, dict) or set(got) != set(expected):
        raise Mismatch(f"expected a dict with keys {sorted(expected)}")
    if got["odd_ratio"] is not None:
        raise Mismatch(f"in train mode with dropout={p}, each embedding value should reach the head either "
                       f"as 0 or scaled by 1/(1-p)={1 / (1 - p):.4g}; one is scaled by {got['odd_ratio']:.4g} - "
                       "is dropout applied to tok_emb(ids) + pos_emb(positions), the sum?")
    if got["other_logits_consistent"] is not True:
        raise Mismatch("in train mode the logits are not out_head applied to one dropped-out embedding: is "
                       "dropout applied to the logits instead of the summed embeddings?")
    if got["dropped_share_near_p"] is not True:
        raise Mismatch(f"in train mode the share of embedding values dropped is far from p={p}")


# ----------------------------------------------------------------------------- checks


@check("count_parameters(GPTConfig()) is GPT-2 small's 124,439,808; 163,037,184 without weight tying")
def gpt2_small_count(t, rng):
    return [counts_view(t, t.GPTConfig()), counts_view(t, t.GPTConfig(tie_weights=False))]


@check("parameter_breakdown of GPT-2 small: the five parts, in order, as ints")
def gpt2_small_breakdown(t, rng):
    return [breakdown_view(t, t.GPTConfig()), breakdown_view(t, t.GPTConfig(qkv_bias=False, tie_weights=False))]


@check("gpt2_config gives the four published sizes, and applies changes")
def presets(t, rng):
    return [config_view(t.gpt2_config(size)) for size in SIZES] + [
        config_view(t.gpt2_config("355M", dropout=0.0)), config_view(t.gpt2_config("124M", num_layers=2))]


@check("count_parameters of the four published sizes (355M: 354,823,168)")
def published_counts(t, rng):
    return [counts_view(t, t.gpt2_config(size)) for size in SIZES]


@check("the breakdown of a small config, with and without qkv bias and weight tying")
def small_breakdown(t, rng):
    return [breakdown_view(t, small_config(t, rng, qkv_bias=bias, tie_weights=tie))
            for bias in (False, True) for tie in (False, True)]


@check("GPTConfig rejects a zero size, a bool size, d_model not divisible by num_heads and dropout 1.0")
def config_errors(t, rng):
    return [error_case("GPTConfig(num_layers=0)", t.GPTConfig, num_layers=0, names=["num_layers", 0]),
            error_case("GPTConfig(vocab_size=True)", t.GPTConfig, vocab_size=True, names=["vocab_size", True]),
            error_case("GPTConfig(d_model=100, num_heads=12)", t.GPTConfig, d_model=100, names=[100, 12]),
            error_case("GPTConfig(dropout=1.0)", t.GPTConfig, dropout=1.0, names=["dropout", 1.0]),
            error_case("GPTConfig(d_model=12, num_heads=12, dropout=0.0)", t.GPTConfig, d_model=12,
                       dropout=0.0),
            error_case("gpt2_config('125M')", t.gpt2_config, "125M", names=["125M", *SIZES])]


@check("DummyGPTModel: (batch, seq) ids -> (batch, seq, vocab_size) logits equal to the reference's")
def dummy_forward(t, rng):
    config = small_config(t, rng, vocab_size=rng.integer(20, 30))
    model = dummy_with(t, rng, config)
    return [dummy_logits(model, rng.randint(0, config.vocab_size, (2, config.context_length))),
            dummy_logits(model, rng.randint(0, config.vocab_size, (3, 1)))]


@check("DummyGPTModel in train mode: dropout on the summed embeddings, kept values scaled by 1/(1-p)",
       compare=dropout_compare)
def dummy_dropout(t, rng):
    return dummy_dropout_probe(t, rng, 0.5)


@check("DummyGPTModel rejects seq > context_length (naming both numbers) and ids that are not 2-D")
def dummy_errors(t, rng):
    config = small_config(t, rng, context_length=6)
    model = dummy_with(t, rng, config)
    return [error_case("8 tokens, context_length=6", model, rng.randint(0, config.vocab_size, (1, 8)),
                       names=[8, 6]),
            error_case("ids of shape (5,)", model, rng.randint(0, config.vocab_size, (5,)), names=[5])]

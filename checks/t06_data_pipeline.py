"""Public checks for topic 06 - Full data pipeline."""

import torch

from llmkit import data
from llmkit.checks import check
from llmkit.probing import Rng, contract_buffers, error_case, load_params
from llmkit.values import Mismatch

GPT2_VOCAB = 50257


def param_shapes(vocab: int, context: int, d_model: int, positional: str) -> dict:
    shapes = {"tok_emb.weight": (vocab, d_model)}
    if positional != "sinusoidal":  # only learned positions are a parameter
        shapes["pos_emb.table.weight"] = (context, d_model)
    return shapes


def input_embedding_with(t, rng: Rng, vocab: int, context: int, d_model: int, positional: str,
                         dropout: float | None = 0.0):
    """A learner's ``InputEmbedding`` with every parameter overwritten by given values.

    ``dropout=None`` leaves the argument out (the default, 0.0).
    """
    options = {"positional": positional} if dropout is None else {"positional": positional,
                                                                  "dropout": dropout}
    module = t.InputEmbedding(vocab, context, d_model, **options)
    return load_params(module, rng.params(param_shapes(vocab, context, d_model, positional)),
                       f"t06 InputEmbedding(positional={positional!r})")


def structure(module) -> dict:
    """Parameter and buffer names and shapes, and the class of each submodule."""

    def kind(name):
        sub = getattr(module, name, None)
        return None if sub is None else f"{type(sub).__module__}.{type(sub).__name__}"

    drop = getattr(module, "drop", None)
    return {
        "parameters": {n: list(p.shape) for n, p in module.named_parameters()},
        "buffers": {n: list(b.shape) for n, b in contract_buffers(module, ["pe"]).items()},
        "classes": {name: kind(name) for name in ("tok_emb", "pos_emb", "drop")},
        "dropout_p": getattr(drop, "p", None),
    }


def dropout_stats(module, ids: torch.Tensor, digits: int | None = None) -> dict:
    """Compare train-mode and eval-mode outputs of ``module`` on ``ids``.

    ``zero_fraction``: share of train-mode outputs that are exactly 0 (about p);
    ``survivor_scale``: smallest and largest train/eval ratio over the other
    elements (both 1 / (1 - p) when dropout comes last). ``digits`` rounds them,
    so that the result does not depend on which elements were dropped.
    """
    with torch.no_grad():
        module.train()
        dropped = module(ids)
        module.eval()
        clean = module(ids)
    if dropped.shape != clean.shape:
        raise Mismatch(f"train-mode output has shape {tuple(dropped.shape)}, eval-mode {tuple(clean.shape)}")
    kept = dropped != 0
    ratio = dropped[kept] / clean[kept]
    stats = {"zero_fraction": (~kept).float().mean().item(),
             "survivor_scale": [ratio.min().item(), ratio.max().item()] if ratio.numel() else None,
             "shape": list(dropped.shape)}
    if digits is not None:
        # p is a multiple of 0.1, and the share of zeros among n outputs varies by sqrt(p(1-p)/n): for the
        # public probe (p = 0.3, n = 8192) 0.0051, so rounding to one decimal moves off p only past 0.05,
        # 9.8 such deviations (a false failure rate near 1e-22). The survivors' scale 1/(1-p) is exact up to
        # float32 rounding (~1e-7), far from any rounding boundary at ``digits`` = 3.
        stats["zero_fraction"] = round(stats["zero_fraction"], 1)
        if stats["survivor_scale"] is not None:
            stats["survivor_scale"] = [round(v, digits) for v in stats["survivor_scale"]]
    return stats


def fast_tokenizer():
    """tiktoken's ``gpt2`` (same ids as topic 02's tokenizer, but loads in no time)."""
    return data.tiktoken_gpt2()


@check("InputEmbedding has tok_emb.weight, pos_emb.table.weight (learned) / buffer pe (sinusoidal), drop")
def parameters(t, rng):
    learned = t.InputEmbedding(20, 8, 4, dropout=0.1, positional="learned")
    fixed = t.InputEmbedding(20, 8, 4, dropout=0.2, positional="sinusoidal")
    return {"learned": structure(learned), "sinusoidal": structure(fixed),
            "default": sorted(n for n, _ in t.InputEmbedding(20, 8, 4).named_parameters())}


@check("learned positions: forward equals token rows + position rows given weights (eval mode)")
def forward_learned(t, rng):
    module = input_embedding_with(t, rng, 30, 8, 5, "learned", dropout=0.3).eval()
    return module(rng.randint(0, 30, (2, 6)))


@check("sinusoidal positions: forward equals token rows + sinusoid table (dropout 0, train mode)")
def forward_sinusoidal(t, rng):
    module = input_embedding_with(t, rng, 30, 8, 6, "sinusoidal").train()
    return module(rng.randint(0, 30, (3, 8)))


@check("train mode: dropout on the sum zeroes about p of the outputs and scales the rest by 1/(1-p)")
def dropout_train_mode(t, rng):
    module = input_embedding_with(t, rng, 50, 32, 32, "learned", dropout=0.3)
    return dropout_stats(module, rng.randint(0, 50, (8, 32)), digits=3)


@check("embed_first_batch: Hamlet -> GPT-2 ids -> first (inputs, targets) batch -> embeddings")
def first_batch(t, rng):
    module = input_embedding_with(t, rng, GPT2_VOCAB, 16, 4, "learned").eval()
    start = rng.integer(0, 2000)
    text = data.sample_text(4000)[start:start + 600]
    inputs, targets, vectors = t.embed_first_batch(text, module, batch_size=2, max_length=6, stride=4,
                                                   tokenizer=fast_tokenizer())
    return {"inputs": inputs, "targets": targets, "embeddings": vectors}


@check("unknown positional kind and sequences longer than context_length raise ValueError")
def errors(t, rng):
    module = input_embedding_with(t, rng, 10, 4, 3, "learned")
    return [
        error_case("InputEmbedding(10, 4, 3, positional='rotary')", t.InputEmbedding, 10, 4, 3, 0.0,
                   "rotary", names=["rotary", "learned", "sinusoidal"]),
        error_case("InputEmbedding(10, 4, 3) on ids of shape (1, 5)", module, rng.randint(0, 10, (1, 5)),
                   names=[5, 4]),
    ]

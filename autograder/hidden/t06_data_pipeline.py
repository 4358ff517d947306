"""Hidden checks for topic 06 - Full data pipeline (fresh seed every run)."""

from checks.t06_data_pipeline import (
    GPT2_VOCAB,
    dropout_stats,
    fast_tokenizer,
    input_embedding_with,
    structure,
)
from llmkit import data
from llmkit.checks import check
from llmkit.probing import error_case
from llmkit.values import Mismatch, exact, same

NOT_BEHAVIOUR = {
    "In `pipeline.py` (it imports your topics 03, 04 and 05):": "where the code goes; what it uses from topics "
                                                                "03-05 is promised (and checked) clause by clause",
    "Hints: topic 05's modules already add their positions": "how to write forward, not what it returns",
}

KINDS = ("learned", "sinusoidal")

# Dropout zeroes each of the n = 8 * 32 * 64 = 16,384 outputs of a dropout_property probe independently
# with probability p, so the share of zeros has standard deviation sqrt(p(1-p)/n) <= 0.0039 (at p = 0.5).
# It is judged against p itself (not against the reference's own, just as random, share): a band of 0.03
# is 7.7 such deviations, a false failure rate below 2e-14 per kind, 4e-14 per run. Real mistakes miss it
# by far: dropout never applied or applied before the positions are added (share 0), a halved rate
# (p/2 >= 0.05 off). The survivors' scale 1/(1-p) is exact up to float32 rounding and keeps the default
# tolerance.
ZERO_FRACTION_BAND = 0.03


def dropout_band(got, expected, *, reveal: bool = True) -> None:
    """Each kind's share of zeros within ZERO_FRACTION_BAND of p; everything else as ``same``."""
    def without_share(stats):
        return [{k: v for k, v in s.items() if k != "zero_fraction"} for s in stats]

    same(without_share(got), without_share(expected), reveal=reveal)
    for g, e in zip(got, expected):
        p = exact(e["p"])
        if abs(g["zero_fraction"] - p) > ZERO_FRACTION_BAND:
            raise Mismatch(f"dropout p={p}: {g['zero_fraction']:.3f} of the train-mode outputs are exactly 0, "
                           f"expected about p (within {ZERO_FRACTION_BAND})")


def random_sizes(rng):
    return rng.integer(2, 200), rng.integer(1, 40), rng.integer(1, 24)  # vocab, context, d_model


def random_text(rng, chars: int) -> str:
    """A slice of a random bundled play (at least ``chars`` characters)."""
    play = data.shakespeare(rng.choice(data.plays()))
    start = rng.integer(0, max(0, len(play) - chars - 1))
    return play[start:start + chars]


@check("end-to-end equality given weights, both positional kinds, eval mode with dropout > 0, batches of "
       "2-4 sequences and the full context window",
       promises=["`(batch, seq)` integer ids -> `(batch, seq, d_model)`, computed as "
                 "`drop(tok_emb(ids) + position rows 0..seq-1)`, with the same positions for every sequence.",
                 "When `positional=\"sinusoidal\"` it is `SinusoidalPositionalEncoding(context_length, d_model)`"])
def forward_eval_random(t, rng):
    out = []
    for kind in KINDS:
        vocab, context, d_model = random_sizes(rng)
        dropout = rng.choice([0.1, 0.2, 0.5, 0.9])
        module = input_embedding_with(t, rng, vocab, context, d_model, kind, dropout=dropout).eval()
        seq = rng.integer(1, context)
        out.append(module(rng.randint(0, vocab, (rng.integer(2, 4), seq))))  # >= 2 sequences share positions
        out.append(module(rng.randint(0, vocab, (1, context))))  # the full context window
    return out


@check("end-to-end equality given weights in train mode with dropout=0 (the default)",
       promises=["`(batch, seq)` integer ids -> `(batch, seq, d_model)`, computed as "
                 "`drop(tok_emb(ids) + position rows 0..seq-1)`, with the same positions for every sequence.",
                 "**`drop`** is `nn.Dropout(dropout)`."])
def forward_train_no_dropout(t, rng):
    out = []
    for kind in KINDS:
        vocab, context, d_model = random_sizes(rng)
        module = input_embedding_with(t, rng, vocab, context, d_model, kind, dropout=None)
        module.train()
        out.append(module(rng.randint(0, vocab, (rng.integer(2, 3), rng.integer(1, context)))))
    return out


@check("output shape (batch, seq, d_model) for random batch and seq; the three submodules, their classes, "
       "parameters and buffers for both kinds; the given attributes",
       promises=["creates three submodules.", "**`tok_emb`** is topic 04's `Embedding(vocab_size, d_model)`, with "
                 "parameter `tok_emb.weight` of shape `(vocab_size, d_model)`.",
                 "**`pos_emb`** is topic 05's `LearnedPositionalEmbedding(context_length, d_model)` when "
                 "`positional=\"learned\"` (GPT-2's choice), with parameter `pos_emb.table.weight` of shape "
                 "`(context_length, d_model)`.",
                 "which has no parameter, only the buffer `pe`.", "**`drop`** is `nn.Dropout(dropout)`.",
                 "The attributes `vocab_size`, `context_length` and `d_model` are given",
                 "Build the position module according to `positional`, not both."])
def shapes_and_structure(t, rng):
    out = []
    for kind in KINDS:
        vocab, context, d_model = random_sizes(rng)
        dropout = rng.choice([0.0, 0.1, 0.25])
        module = t.InputEmbedding(vocab, context, d_model, dropout=dropout, positional=kind)
        batch, seq = rng.integer(1, 6), rng.integer(1, context)
        result = module.eval()(rng.randint(0, vocab, (batch, seq)))
        out.append({"structure": structure(module), "shape": list(result.shape), "dtype": str(result.dtype),
                    "children": sorted(name for name, _ in module.named_children()),
                    "attributes": {a: getattr(module, a, None) for a in ("vocab_size", "context_length", "d_model")}})
    return out


@check("train mode: about p of the outputs are zero, the others are scaled by exactly 1/(1-p)",
       compare=dropout_band,
       promises=["`(batch, seq)` integer ids -> `(batch, seq, d_model)`, computed as "
                 "`drop(tok_emb(ids) + position rows 0..seq-1)`",
                 "**`drop`** is `nn.Dropout(dropout)`.", "Keep dropout last, after the sum."])
def dropout_property(t, rng):
    out = []
    for kind in KINDS:
        vocab = rng.integer(20, 200)
        p = rng.choice([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        module = input_embedding_with(t, rng, vocab, 32, 64, kind, dropout=p)
        out.append({"p": p, **dropout_stats(module, rng.randint(0, vocab, (8, 32)))})
    return out


@check("gradients reach tok_emb.weight and pos_emb.table.weight, only on the used rows",
       promises=["computed as `drop(tok_emb(ids) + position rows 0..seq-1)`"])
def gradient_rows(t, rng):
    vocab, context, d_model = random_sizes(rng)
    module = input_embedding_with(t, rng, vocab, context, d_model, "learned")
    ids = rng.randint(0, vocab, (2, rng.integer(1, context)))
    out = module(ids)
    (out * rng.randn(*out.shape)).sum().backward()
    return {name: p.grad for name, p in module.named_parameters()}


@check("embed_first_batch on random slices of the bundled plays, random batch_size, max_length and stride",
       promises=["calls topic 03's `create_dataloader` on `text`, passing on `batch_size`, `max_length`, `stride` "
                 "and `tokenizer`, with `shuffle=False` and `drop_last=False`, and takes its **first** batch.",
                 "Returns `(input_ids, target_ids, embeddings)` with shapes `(B, max_length)`, `(B, max_length)` "
                 "and `(B, max_length, d_model)`", "the embeddings are `embedding(input_ids)`"])
def first_batch_random(t, rng):
    out = []
    for _ in range(3):
        kind = rng.choice(KINDS)
        max_length = rng.integer(2, 12)
        stride = rng.integer(1, max_length + 3)
        batch_size = rng.integer(1, 4)
        d_model = rng.integer(1, 6)
        module = input_embedding_with(t, rng, GPT2_VOCAB, max_length + rng.integer(0, 4), d_model,
                                      kind).eval()
        text = random_text(rng, rng.integer(300, 900))
        inputs, targets, vectors = t.embed_first_batch(text, module, batch_size=batch_size,
                                                       max_length=max_length, stride=stride,
                                                       tokenizer=fast_tokenizer())
        out.append({"inputs": inputs, "targets": targets, "embeddings": vectors})
    return out


@check("embed_first_batch on a text with fewer windows than batch_size keeps the short batch",
       promises=["with `shuffle=False` and `drop_last=False`", "where `B = min(batch_size, number of windows)`"])
def first_batch_short_text(t, rng):
    kind = rng.choice(KINDS)
    max_length = rng.integer(2, 5)
    module = input_embedding_with(t, rng, GPT2_VOCAB, max_length, rng.integer(1, 6), kind).eval()
    text = random_text(rng, rng.integer(40, 80))  # at most a few dozen tokens
    inputs, targets, vectors = t.embed_first_batch(text, module, batch_size=64, max_length=max_length,
                                                   stride=rng.integer(1, max_length + 2),
                                                   tokenizer=fast_tokenizer())
    return {"inputs": inputs, "targets": targets, "embeddings": vectors}


@check("embed_first_batch with its defaults (topic 02's GPT-2 tokenizer, batch 2, windows of 8)",
       promises=["`tokenizer=None` means GPT-2's tokenizer from topic 02."])
def first_batch_defaults(t, rng):
    module = input_embedding_with(t, rng, GPT2_VOCAB, 8, rng.integer(1, 6), rng.choice(KINDS)).eval()
    start = rng.integer(0, 3000)
    text = data.sample_text(4000)[start:start + rng.integer(200, 800)]
    inputs, targets, vectors = t.embed_first_batch(text, module)
    return {"inputs": inputs, "targets": targets, "embeddings": vectors}


@check("unknown positional kind -> ValueError naming it and the two choices; too long sequences -> "
       "ValueError naming the numbers; seq = context_length raises nothing",
       promises=["Any other `positional` raises `ValueError` naming it and the two choices (`POSITIONAL_KINDS`).",
                 "`seq > context_length` raises `ValueError` (from `pos_emb`)"])
def errors_random(t, rng):
    vocab, context, d_model = random_sizes(rng)
    too_long = context + rng.integer(1, 10)
    out = []
    for kind in KINDS:
        module = input_embedding_with(t, rng, vocab, context, d_model, kind)
        out.append(error_case(f"InputEmbedding({vocab}, {context}, {d_model}, positional={kind!r}) on "
                              f"(2, {too_long}) ids", module, rng.randint(0, vocab, (2, too_long)),
                              names=[too_long, context]))
        out.append(error_case(f"InputEmbedding(..., positional={kind!r}) on (2, {context}) ids", module,
                              rng.randint(0, vocab, (2, context))))
    for bad in ("Learned", "rope", "", "sin"):  # a near miss in case, a real name, empty, a prefix
        named = [bad] if bad else []  # an empty name has nothing to show
        out.append(error_case(f"InputEmbedding(..., positional={bad!r})", t.InputEmbedding, vocab, context,
                              d_model, 0.0, bad, names=[*named, *KINDS]))
    return out

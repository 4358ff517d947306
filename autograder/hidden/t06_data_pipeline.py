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
from llmkit.values import close

KINDS = ("learned", "sinusoidal")


def random_sizes(rng):
    return rng.integer(2, 200), rng.integer(1, 40), rng.integer(1, 24)  # vocab, context, d_model


def random_text(rng, chars: int) -> str:
    """A slice of a random bundled play (at least ``chars`` characters)."""
    play = data.shakespeare(rng.choice(data.plays()))
    start = rng.integer(0, max(0, len(play) - chars - 1))
    return play[start:start + chars]


@check("end-to-end equality given weights, both positional kinds, eval mode with dropout > 0")
def forward_eval_random(t, rng):
    out = []
    for kind in KINDS:
        vocab, context, d_model = random_sizes(rng)
        dropout = rng.choice([0.1, 0.2, 0.5, 0.9])
        module = input_embedding_with(t, rng, vocab, context, d_model, kind, dropout=dropout).eval()
        seq = rng.integer(1, context)
        out.append(module(rng.randint(0, vocab, (rng.integer(1, 4), seq))))
        out.append(module(rng.randint(0, vocab, (1, context))))  # the full context window
    return out


@check("end-to-end equality given weights in train mode with dropout=0 (the default)")
def forward_train_no_dropout(t, rng):
    out = []
    for kind in KINDS:
        vocab, context, d_model = random_sizes(rng)
        module = input_embedding_with(t, rng, vocab, context, d_model, kind, dropout=None)
        module.train()
        out.append(module(rng.randint(0, vocab, (rng.integer(1, 3), rng.integer(1, context)))))
    return out


@check("output shape (batch, seq, d_model) for random batch and seq; structure of the submodules")
def shapes_and_structure(t, rng):
    out = []
    for kind in KINDS:
        vocab, context, d_model = random_sizes(rng)
        dropout = rng.choice([0.0, 0.1, 0.25])
        module = t.InputEmbedding(vocab, context, d_model, dropout=dropout, positional=kind)
        batch, seq = rng.integer(1, 6), rng.integer(1, context)
        result = module.eval()(rng.randint(0, vocab, (batch, seq)))
        out.append({"structure": structure(module), "shape": list(result.shape), "dtype": str(result.dtype)})
    return out


@check("train mode: about p of the outputs are zero, the others are scaled by exactly 1/(1-p)",
       compare=close(rtol=0.0, atol=0.03))
def dropout_property(t, rng):
    out = []
    for kind in KINDS:
        vocab = rng.integer(20, 200)
        p = rng.choice([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        module = input_embedding_with(t, rng, vocab, 32, 64, kind, dropout=p)
        out.append(dropout_stats(module, rng.randint(0, vocab, (8, 32))))
    return out


@check("gradients reach tok_emb.weight and pos_emb.table.weight, only on the used rows")
def gradient_rows(t, rng):
    vocab, context, d_model = random_sizes(rng)
    module = input_embedding_with(t, rng, vocab, context, d_model, "learned")
    ids = rng.randint(0, vocab, (2, rng.integer(1, context)))
    out = module(ids)
    (out * rng.randn(*out.shape)).sum().backward()
    return {name: p.grad for name, p in module.named_parameters()}


@check("embed_first_batch on random slices of the bundled plays equals the reference")
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


@check("embed_first_batch on a text with fewer windows than batch_size keeps the short batch")
def first_batch_short_text(t, rng):
    kind = rng.choice(KINDS)
    max_length = rng.integer(2, 5)
    module = input_embedding_with(t, rng, GPT2_VOCAB, max_length, rng.integer(1, 6), kind).eval()
    text = random_text(rng, rng.integer(40, 80))  # at most a few dozen tokens
    inputs, targets, vectors = t.embed_first_batch(text, module, batch_size=64, max_length=max_length,
                                                   stride=rng.integer(1, max_length + 2),
                                                   tokenizer=fast_tokenizer())
    return {"inputs": inputs, "targets": targets, "embeddings": vectors}


@check("embed_first_batch with its defaults (topic 02's GPT-2 tokenizer, batch 2, windows of 8)")
def first_batch_defaults(t, rng):
    module = input_embedding_with(t, rng, GPT2_VOCAB, 8, rng.integer(1, 6), rng.choice(KINDS)).eval()
    start = rng.integer(0, 3000)
    text = data.sample_text(4000)[start:start + rng.integer(200, 800)]
    inputs, targets, vectors = t.embed_first_batch(text, module)
    return {"inputs": inputs, "targets": targets, "embeddings": vectors}


@check("unknown positional kind, too long sequences -> ValueError naming the numbers")
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
    for bad in ("Learned", "rope", "", "sin"):
        out.append(error_case(f"InputEmbedding(..., positional={bad!r})", t.InputEmbedding, vocab, context,
                              d_model, 0.0, bad))
    return out

"""Hidden checks for topic 05 - Positional embeddings (fresh seed every run)."""

import torch

from checks.t05_positional_embeddings import learned_with, structure
from llmkit.checks import check
from llmkit.probing import error_case
from llmkit.values import close

NOT_BEHAVIOUR = {
    "In `positional.py`:": "where the code goes, not what it does",
    "Hints: build the whole sinusoidal table with broadcasting": "how to write it; a loop gives the same table "
                                                                "(the alternative implementation uses loops)",
}

# The sinusoid probes draw no float inputs (sizes and base only), so their exact answer has no spread and
# a float32 computation is judged by atol/rtol alone. float32 cannot hold an angle of ~10^4 radians to
# better than ~5e-4, so at large positions a correct float32 computation (p * w, p / base**(2i/d),
# exp(-2i log(base)/d)) is off by up to 9e-4 (measured over bases 10..1e5, d_model 4..65, positions up to
# 12,000); 2e-3 leaves a 2x margin. A real bug (sin/cos swapped, wrong exponent, base ignored) is O(1) off.
# Small tables (positions < 40) keep the default tolerance, 1e-5 + 1e-4 |value|: the same float32
# formulations use at most 0.2 of it there.
LARGE_POSITION_TOLERANCE = close(rtol=0.0, atol=2e-3)

OTHER_BASES = (100.0, 500.0, 1234.5, 50000.0, 10.0, 1000.0, 100000.0)


def random_base(rng) -> float:
    return float(rng.choice([10000.0, 10000.0, 100.0, 500.0, 1234.5, 50000.0, 10.0**rng.integer(1, 5)]))


def shape_numbers(*tensors) -> list[int]:
    """Every size in the shapes of ``tensors``: a message that names both shapes names all of them."""
    return sorted({n for x in tensors for n in x.shape})


def sample_table(table: torch.Tensor, rng, n: int):
    """``n`` entries of ``table`` at random (position, column) pairs, plus the pairs."""
    rows = rng.randint(0, table.shape[0], (n,))
    cols = rng.randint(0, table.shape[1], (n,))
    return {"rows": rows, "cols": cols, "values": table[rows, cols]}


@check("sinusoid values at every position and column of small tables: random sizes, a base other than "
       "10000, the default base, odd d_model and d_model = 1 on every run",
       promises=["the table above, `(seq_len, d_model)` float32;", "odd `d_model` works"])
def sinusoid_small_random(t, rng):
    out = []
    for _ in range(2):
        seq_len, d_model = rng.integer(1, 40), rng.integer(1, 24)
        out.append(t.sinusoidal_encoding(seq_len, d_model, random_base(rng)))
    out.append(t.sinusoidal_encoding(rng.integer(2, 40), rng.integer(2, 24), rng.choice(OTHER_BASES)))
    out.append(t.sinusoidal_encoding(rng.integer(2, 30), 2 * rng.integer(1, 12) + 1))  # odd, default base
    out.append(t.sinusoidal_encoding(3, 1))  # a single sine column
    return out


@check("sinusoid values at 200 random (position, column) pairs and the last rows of tables of about 10^4 "
       "positions, even and odd d_model on every run, random base; shape and dtype float32",
       compare=LARGE_POSITION_TOLERANCE,
       promises=["the table above, `(seq_len, d_model)` float32;", "odd `d_model` works",
                 "At positions in the thousands the angles are large and float32 loses a few",
                 "computing in float64 and converting at the end avoids that (the checks accept either)."])
def sinusoid_large_positions(t, rng):
    out = []
    for d_model in (2 * rng.integer(2, 32), 2 * rng.integer(2, 32) + 1):
        seq_len = rng.integer(10_000, 12_000)
        table = t.sinusoidal_encoding(seq_len, d_model, random_base(rng))
        sampled = sample_table(table, rng, 200)
        sampled["last_rows"] = table[-3:]
        sampled["shape"] = list(table.shape)
        sampled["dtype"] = str(table.dtype)
        out.append(sampled)
    return out


@check("SinusoidalPositionalEncoding: 'pe' equals the table, non-persistent, no parameters at all; "
       "positions and forward (a batch of 2-3 sequences, and one unbatched sequence)",
       promises=["the table for `context_length` positions as a **non-persistent buffer `pe`**", "no parameters",
                 "rows `0..seq_len-1` of `pe`, `(seq_len, d_model)`;",
                 "Given: both `forward` methods, `forward(x) = add_positions(x, self.positions(x.shape[-2]))`"])
def sinusoidal_module_random(t, rng):
    context, d_model = rng.integer(2, 64), rng.integer(1, 20)
    base = random_base(rng)
    module = t.SinusoidalPositionalEncoding(context, d_model, base)
    seq_len = rng.integer(1, context)
    return {"structure": structure(module), "pe": getattr(module, "pe", None),
            "positions": module.positions(seq_len), "full": module.positions(context),
            "forward": module(rng.randn(rng.integer(2, 3), seq_len, d_model)),
            "unbatched": module(rng.randn(seq_len, d_model))}


@check("LearnedPositionalEmbedding positions equal rows 0..seq_len-1 of table.weight given weights; "
       "forward on a batch of 2-4 sequences and on one unbatched sequence",
       promises=["one submodule **`table`** = topic 04's `Embedding(context_length, d_model)`",
                 "rows `0..seq_len-1` of the table, `(seq_len, d_model)`;",
                 "Given: both `forward` methods, `forward(x) = add_positions(x, self.positions(x.shape[-2]))`"])
def learned_random(t, rng):
    context, d_model = rng.integer(1, 50), rng.integer(1, 16)
    module = learned_with(t, rng, context, d_model)
    seq_len = rng.integer(1, context)
    return {"structure": structure(module), "positions": module.positions(seq_len),
            "full": module.positions(context),
            "forward": module(rng.randn(rng.integer(2, 4), seq_len, d_model)),
            "unbatched": module(rng.randn(seq_len, d_model))}


@check("LearnedPositionalEmbedding passes gradients to the used position rows only",
       promises=["so the parameter is **`table.weight`**"])
def learned_gradient(t, rng):
    context, d_model = rng.integer(4, 30), rng.integer(1, 8)
    module = learned_with(t, rng, context, d_model)
    seq_len = rng.integer(1, context - 1)
    out = module(rng.randn(2, seq_len, d_model))
    (out * rng.randn(2, seq_len, d_model)).sum().backward()
    return module.table.weight.grad


@check("add_positions broadcasts over 0 to 3 batch dimensions (each of size 2-3) and keeps x's shape",
       promises=["`x` `(..., seq, d_model)` with any leading batch dimensions, `pos` `(seq, d_model)` -> `x + pos`;"])
def add_random_batches(t, rng):
    seq_len, d_model = rng.integer(1, 10), rng.integer(1, 8)
    pos = rng.randn(seq_len, d_model)
    out = []
    for n_batch in range(4):  # no batch dimension, then one, two and three of them
        batch = [rng.integer(2, 3) for _ in range(n_batch)]  # size >= 2: pos really is repeated
        out.append(t.add_positions(rng.randn(*batch, seq_len, d_model), pos))
    return out


@check("seq_len > context_length and mismatched shapes raise ValueError naming the numbers / both shapes; "
       "seq_len = context_length raises nothing",
       promises=["`seq_len > context_length` -> `ValueError` naming both numbers",
                 "`seq_len > context_length` -> the same `ValueError` naming both numbers",
                 "if `x.shape[-2:] != pos.shape` (or `pos` is not 2-D) -> `ValueError` naming both shapes",
                 "Do not let `add_positions` rely on PyTorch's broadcasting to catch mistakes"])
def errors_random(t, rng):
    context, d_model = rng.integer(1, 30), rng.integer(1, 8)
    too_long = context + rng.integer(1, 40)
    learned = learned_with(t, rng, context, d_model)
    fixed = t.SinusoidalPositionalEncoding(context, d_model)
    seq_len = rng.integer(2, 6)
    x = rng.randn(2, seq_len, d_model)
    out = [
        error_case(f"LearnedPositionalEmbedding({context}, {d_model}).positions({too_long})",
                   learned.positions, too_long, names=[too_long, context]),
        error_case(f"SinusoidalPositionalEncoding({context}, {d_model}).positions({too_long})",
                   fixed.positions, too_long, names=[too_long, context]),
        error_case(f"LearnedPositionalEmbedding({context}, {d_model}) on a batch of {too_long} tokens",
                   learned, rng.randn(1, too_long, d_model), names=[too_long, context]),
        error_case(f"LearnedPositionalEmbedding({context}, {d_model}).positions({context})",
                   learned.positions, context),
        error_case(f"SinusoidalPositionalEncoding({context}, {d_model}).positions({context})",
                   fixed.positions, context),
    ]
    # add_positions: x and a pos that PyTorch would broadcast (or fail on) in its own way. The message
    # must name both shapes, so every size in them; the format - (2, 3, 4), [2, 3, 4], torch.Size - is free.
    for case, x_, pos in (
            ("the wrong seq", x, rng.randn(seq_len + 1, d_model)),
            ("the wrong d_model", x, rng.randn(seq_len, d_model + 1)),
            ("x's seq of 1", rng.randn(2, 1, d_model), rng.randn(seq_len, d_model)),  # broadcasts silently
            ("pos (1, d_model)", x, rng.randn(1, d_model)),  # broadcasts silently
            ("a 1-D pos", x, rng.randn(d_model)),  # broadcasts silently
            ("a 3-D pos (1, seq, d_model)", x, rng.randn(1, seq_len, d_model)),  # last two sizes fit, too
    ):
        out.append(error_case(f"add_positions(x {tuple(x_.shape)}, pos {tuple(pos.shape)}) with {case}",
                              t.add_positions, x_, pos, names=shape_numbers(x_, pos)))
    return out

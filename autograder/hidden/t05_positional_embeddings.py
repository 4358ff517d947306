"""Hidden checks for topic 05 - Positional embeddings (fresh seed every run)."""

import torch

from checks.t05_positional_embeddings import learned_with, structure
from llmkit.checks import check
from llmkit.probing import error_case
from llmkit.values import close

# float32 cannot hold an angle of ~10^4 radians to better than ~5e-4, so at large
# positions any correct float32 computation differs from the float64 reference by
# up to a few 1e-4. A planted bug (sin/cos swapped, wrong exponent) differs by O(1).
LARGE_POSITION_TOLERANCE = close(rtol=0.0, atol=2e-3)


def random_base(rng) -> float:
    return float(rng.choice([10000.0, 10000.0, 100.0, 500.0, 1234.5, 50000.0, 10.0**rng.integer(1, 5)]))


def sample_table(table: torch.Tensor, rng, n: int):
    """``n`` entries of ``table`` at random (position, column) pairs, plus the pairs."""
    rows = rng.randint(0, table.shape[0], (n,))
    cols = rng.randint(0, table.shape[1], (n,))
    return {"rows": rows, "cols": cols, "values": table[rows, cols]}


@check("sinusoid values at random positions and columns, small tables, random base and d_model")
def sinusoid_small_random(t, rng):
    out = []
    for _ in range(3):
        seq_len, d_model = rng.integer(1, 40), rng.integer(1, 24)
        out.append(t.sinusoidal_encoding(seq_len, d_model, random_base(rng)))
    out.append(t.sinusoidal_encoding(rng.integer(2, 30), 2 * rng.integer(1, 12) + 1))  # odd d_model
    out.append(t.sinusoidal_encoding(3, 1))  # a single sine column
    return out


@check("sinusoid values at large positions (about 10^4), even and odd d_model, random base",
       compare=LARGE_POSITION_TOLERANCE)
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


@check("SinusoidalPositionalEncoding: 'pe' equals the table, non-persistent, no parameters at all")
def sinusoidal_module_random(t, rng):
    context, d_model = rng.integer(2, 64), rng.integer(1, 20)
    base = random_base(rng)
    module = t.SinusoidalPositionalEncoding(context, d_model, base)
    seq_len = rng.integer(1, context)
    return {"structure": structure(module), "pe": getattr(module, "pe", None),
            "positions": module.positions(seq_len), "full": module.positions(context),
            "forward": module(rng.randn(rng.integer(1, 3), seq_len, d_model))}


@check("LearnedPositionalEmbedding positions equal rows 0..seq_len-1 of table.weight given weights")
def learned_random(t, rng):
    context, d_model = rng.integer(1, 50), rng.integer(1, 16)
    module = learned_with(t, rng, context, d_model)
    seq_len = rng.integer(1, context)
    return {"structure": structure(module), "positions": module.positions(seq_len),
            "full": module.positions(context),
            "forward": module(rng.randn(rng.integer(1, 4), seq_len, d_model)),
            "unbatched": module(rng.randn(seq_len, d_model))}


@check("LearnedPositionalEmbedding passes gradients to the used position rows only")
def learned_gradient(t, rng):
    context, d_model = rng.integer(4, 30), rng.integer(1, 8)
    module = learned_with(t, rng, context, d_model)
    seq_len = rng.integer(1, context - 1)
    out = module(rng.randn(2, seq_len, d_model))
    (out * rng.randn(2, seq_len, d_model)).sum().backward()
    return module.table.weight.grad


@check("add_positions broadcasts over 0 to 3 batch dimensions and keeps x's shape")
def add_random_batches(t, rng):
    seq_len, d_model = rng.integer(1, 10), rng.integer(1, 8)
    pos = rng.randn(seq_len, d_model)
    out = []
    for n_batch in range(4):
        batch = [rng.integer(1, 3) for _ in range(n_batch)]
        out.append(t.add_positions(rng.randn(*batch, seq_len, d_model), pos))
    return out


@check("seq_len > context_length and mismatched shapes raise ValueError (naming the numbers)")
def errors_random(t, rng):
    context, d_model = rng.integer(1, 30), rng.integer(1, 8)
    too_long = context + rng.integer(1, 40)
    learned = learned_with(t, rng, context, d_model)
    fixed = t.SinusoidalPositionalEncoding(context, d_model)
    seq_len = rng.integer(2, 6)
    x = rng.randn(2, seq_len, d_model)
    return [
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
        error_case("add_positions with the wrong seq", t.add_positions, x,
                   rng.randn(seq_len + 1, d_model)),
        error_case("add_positions with the wrong d_model", t.add_positions, x,
                   rng.randn(seq_len, d_model + 1)),
        error_case("add_positions with x's seq of 1", t.add_positions, rng.randn(2, 1, d_model),
                   rng.randn(seq_len, d_model)),
        error_case("add_positions with pos (1, d_model)", t.add_positions, x, rng.randn(1, d_model)),
        error_case("add_positions with a 1-D pos", t.add_positions, x, rng.randn(d_model)),
    ]

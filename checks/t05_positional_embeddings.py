"""Public checks for topic 05 - Positional embeddings."""

from llmkit.checks import check
from llmkit.probing import Rng, contract_buffers, error_case, load_params


def learned_with(t, rng: Rng, context_length: int, d_model: int):
    """A learner's ``LearnedPositionalEmbedding`` with ``table.weight`` overwritten by given values."""
    module = t.LearnedPositionalEmbedding(context_length, d_model)
    return load_params(module, rng.params({"table.weight": (context_length, d_model)}),
                       "t05 LearnedPositionalEmbedding")


def structure(module) -> dict:
    """Names of a module's parameters, buffers and state_dict entries, plus the class of ``table``."""
    table = getattr(module, "table", None)
    return {
        "parameters": sorted(name for name, _ in module.named_parameters()),
        "buffers": sorted(contract_buffers(module, ["pe"])),
        "state_dict": sorted(module.state_dict()),
        "table_class": None if table is None else f"{type(table).__module__}.{type(table).__name__}",
    }


@check("sinusoidal_encoding(seq_len, d_model): sin on even columns, cos on odd ones")
def sinusoid_table(t, rng):
    return [t.sinusoidal_encoding(6, 8), t.sinusoidal_encoding(rng.integer(3, 9), 4)]


@check("sinusoidal_encoding works for odd d_model (the last column is a sine) and another base")
def sinusoid_odd_and_base(t, rng):
    return [t.sinusoidal_encoding(5, 7), t.sinusoidal_encoding(4, 6, base=100.0)]


@check("LearnedPositionalEmbedding: parameter 'table.weight' (topic 04's Embedding), rows 0..seq_len-1")
def learned_positions(t, rng):
    module = learned_with(t, rng, 8, 4)
    return {"structure": structure(module), "positions": module.positions(5),
            "all": module.positions(8)}


@check("LearnedPositionalEmbedding(x) adds the same position rows to every sequence of the batch")
def learned_forward(t, rng):
    module = learned_with(t, rng, 6, 3)
    return [module(rng.randn(2, 4, 3)), module(rng.randn(5, 3))]


@check("SinusoidalPositionalEncoding: no parameters, a non-persistent buffer 'pe', rows 0..seq_len-1")
def sinusoidal_module(t, rng):
    module = t.SinusoidalPositionalEncoding(10, 6)
    return {"structure": structure(module), "pe": getattr(module, "pe", None),
            "positions": module.positions(4), "forward": module(rng.randn(2, 3, 6))}


@check("add_positions broadcasts pos (seq, d_model) over no, one or two batch dimensions")
def add_broadcast(t, rng):
    pos = rng.randn(3, 2)
    return [t.add_positions(rng.randn(3, 2), pos), t.add_positions(rng.randn(4, 3, 2), pos),
            t.add_positions(rng.randn(2, 2, 3, 2), pos)]


@check("ValueError for seq_len > context_length (naming both) and for mismatched shapes in add_positions "
       "(naming both shapes)")
def errors(t, rng):
    learned = learned_with(t, rng, 4, 2)
    fixed = t.SinusoidalPositionalEncoding(6, 2)
    return [
        error_case("LearnedPositionalEmbedding(4, 2).positions(5)", learned.positions, 5, names=[5, 4]),
        error_case("LearnedPositionalEmbedding(4, 2).positions(4)", learned.positions, 4),
        error_case("SinusoidalPositionalEncoding(6, 2).positions(9)", fixed.positions, 9, names=[9, 6]),
        # the message names both shapes: every size in them
        error_case("add_positions(x (2, 3, 4), pos (3, 5))", t.add_positions, rng.randn(2, 3, 4),
                   rng.randn(3, 5), names=[2, 3, 4, 5]),
        error_case("add_positions(x (2, 1, 4), pos (3, 4))", t.add_positions, rng.randn(2, 1, 4),
                   rng.randn(3, 4), names=[1, 2, 3, 4]),
    ]

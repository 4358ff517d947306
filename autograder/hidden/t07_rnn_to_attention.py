"""Hidden checks for topic 07 - From RNNs to attention (fresh seed every run)."""

import torch
from torch import nn

from checks.t07_rnn_to_attention import (
    agrees_with_torch,
    attention_case,
    attention_properties,
    attention_with,
    cell_params,
    init_report,
    load_torch,
    lstm_pair,
    random_mask,
    rnn_pair,
    torch_layer_run,
)
from llmkit.checks import check
from llmkit.probing import load_params, raises
from llmkit.values import close


def sizes(rng, low: int = 1, high: int = 9) -> tuple[int, int, int]:
    """Random ``(batch, input_size, hidden_size)``."""
    return rng.integer(1, 5), rng.integer(low, high), rng.integer(low, high)


@check("parameter names, shapes and U(-1/sqrt(hidden), 1/sqrt(hidden)) init for random sizes, both cells")
def init_random_sizes(t, rng):
    hidden_rnn, hidden_lstm = rng.integer(120, 260), rng.integer(60, 130)
    report = {
        "RNNCell tanh": init_report(t.RNNCell(rng.integer(10, 40), hidden_rnn), hidden_rnn),
        "RNNCell relu": init_report(t.RNNCell(rng.integer(10, 40), hidden_rnn, "relu"), hidden_rnn),
        "LSTMCell": init_report(t.LSTMCell(rng.integer(10, 40), hidden_lstm), hidden_lstm),
    }
    # small sizes: only the shapes (too few values for statistics)
    i, h = rng.integer(1, 4), rng.integer(1, 4)
    report["small shapes"] = {
        "RNNCell": {n: list(p.shape) for n, p in sorted(t.RNNCell(i, h).named_parameters())},
        "LSTMCell": {n: list(p.shape) for n, p in sorted(t.LSTMCell(i, h).named_parameters())},
    }
    return report


@check("RNNCell equals nn.RNNCell given weights: random sizes and batch, tanh and relu, h given or None",
       compare=agrees_with_torch)
def rnn_cell_vs_torch(t, rng):
    cases = {}
    for k in range(6):
        batch, input_size, hidden_size = sizes(rng)
        nonlinearity = ("tanh", "relu")[k % 2]
        yours, theirs, _ = rnn_pair(t, rng, input_size, hidden_size, nonlinearity)
        x = rng.randn(batch, input_size)
        h = rng.randn(batch, hidden_size) if k < 4 else None
        label = f"case {k}: {nonlinearity}, batch {batch}, input {input_size}, hidden {hidden_size}, " \
                f"{'h given' if h is not None else 'h=None'}"
        cases[label] = {"torch": theirs(x, h), "yours": yours(x, h)}
    return cases


@check("LSTMCell equals nn.LSTMCell given weights: random sizes and batch, state given or None",
       compare=agrees_with_torch)
def lstm_cell_vs_torch(t, rng):
    cases = {}
    for k in range(5):
        batch, input_size, hidden_size = sizes(rng)
        yours, theirs, _ = lstm_pair(t, rng, input_size, hidden_size)
        x = rng.randn(batch, input_size)
        state = (rng.randn(batch, hidden_size), rng.randn(batch, hidden_size, scale=2.0)) if k < 3 else None
        label = f"case {k}: batch {batch}, input {input_size}, hidden {hidden_size}, " \
                f"{'state given' if state else 'state=None'}"
        cases[label] = {"torch": theirs(x, state), "yours": yours(x, state)}
    return cases


@check("run_rnn unrolls PyTorch's own cells exactly like nn.RNN / nn.LSTM (outputs and last state)",
       compare=agrees_with_torch)
def run_rnn_with_torch_cells(t, rng):
    cases = {}
    for kind in ("rnn", "lstm"):
        for with_state in (True, False):
            batch, input_size, hidden_size = sizes(rng)
            seq = rng.integer(1, 9)
            params = cell_params(rng, input_size, hidden_size, gates=4 if kind == "lstm" else 1)
            cell = nn.RNNCell(input_size, hidden_size) if kind == "rnn" else nn.LSTMCell(input_size, hidden_size)
            load_torch(cell, params)
            xs = rng.randn(batch, seq, input_size)
            state = None
            if with_state:
                state = rng.randn(batch, hidden_size)
                if kind == "lstm":
                    state = (state, rng.randn(batch, hidden_size))
            label = f"nn.{'RNNCell' if kind == 'rnn' else 'LSTMCell'}, seq {seq}, " \
                    f"{'h0 given' if with_state else 'h0=None'}"
            cases[label] = {"torch": torch_layer_run(kind, params, xs, state),
                            "yours": t.run_rnn(cell, xs, state)}
    return cases


@check("run_rnn over your RNNCell (tanh, relu) and LSTMCell equals nn.RNN / nn.LSTM over many steps",
       compare=agrees_with_torch)
def unroll_vs_torch_layers(t, rng):
    cases = {}
    for kind, nonlinearity in (("rnn", "tanh"), ("rnn", "relu"), ("lstm", None), ("lstm", None)):
        batch, input_size, hidden_size = sizes(rng)
        seq = rng.integer(2, 12)
        xs = rng.randn(batch, seq, input_size)
        with_state = rng.coin()
        if kind == "rnn":
            cell, _, params = rnn_pair(t, rng, input_size, hidden_size, nonlinearity)
            state = rng.randn(batch, hidden_size) if with_state else None
        else:
            cell, _, params = lstm_pair(t, rng, input_size, hidden_size)
            state = (rng.randn(batch, hidden_size), rng.randn(batch, hidden_size)) if with_state else None
        label = f"{'RNNCell ' + nonlinearity if kind == 'rnn' else 'LSTMCell'}, batch {batch}, " \
                f"seq {seq}, {'h0 given' if with_state else 'h0=None'} ({len(cases)})"
        cases[label] = {"torch": torch_layer_run(kind, params, xs, state, nonlinearity or "tanh"),
                        "yours": t.run_rnn(cell, xs, state)}
    return cases


def lstm_gradients(run, xs, h0, c0, weighting) -> dict:
    """Gradients of a fixed weighting of an unrolled LSTM's outputs and last cell state."""
    xs, h0, c0 = (v.clone().requires_grad_(True) for v in (xs, h0, c0))
    outputs, c_last, named = run(xs, h0, c0)
    loss = (outputs * weighting).sum() + c_last.sum()
    loss.backward()
    grads = {name: p.grad for name, p in sorted(named.items())}
    grads.update({"xs": xs.grad, "h0": h0.grad, "c0": c0.grad})
    return grads


@check("gradients through an unrolled LSTMCell equal nn.LSTM's (weights, inputs, initial state)",
       compare=agrees_with_torch)
def lstm_gradients_vs_torch(t, rng):
    batch, input_size, hidden_size = sizes(rng, 2, 6)
    seq = rng.integer(3, 8)
    params = cell_params(rng, input_size, hidden_size, gates=4)
    xs, h0, c0 = rng.randn(batch, seq, input_size), rng.randn(batch, hidden_size), rng.randn(batch, hidden_size)
    weighting = rng.randn(batch, seq, hidden_size)

    layer = load_torch(nn.LSTM(input_size, hidden_size, batch_first=True), params, "_l0")

    def torch_run(xs, h0, c0):
        outputs, (_, c_n) = layer(xs, (h0.unsqueeze(0), c0.unsqueeze(0)))
        return outputs, c_n[0], {n.removesuffix("_l0"): p for n, p in layer.named_parameters()}

    cell = load_params(t.LSTMCell(input_size, hidden_size), params, "t07 LSTMCell")

    def your_run(xs, h0, c0):
        outputs, (_, c_last) = t.run_rnn(cell, xs, (h0, c0))
        return outputs, c_last, dict(cell.named_parameters())

    return {f"batch {batch}, seq {seq}, input {input_size}, hidden {hidden_size}": {
        "torch": lstm_gradients(torch_run, xs, h0, c0, weighting),
        "yours": lstm_gradients(your_run, xs, h0, c0, weighting)}}


@check("AdditiveAttention on random sizes and masks: weights >= 0, sum to 1, 0 where masked, "
       "context = weighted keys, equal to the reference", compare=attention_properties)
def attention_random(t, rng):
    cases = {}
    for k in range(5):
        batch, seq = rng.integer(2, 5), rng.integer(2, 9)
        query_dim, key_dim = rng.integer(1, 7), rng.integer(2, 7)
        # case 1: hidden_dim == key_dim (projected keys then have the keys' shape)
        hidden_dim = key_dim if k == 1 else rng.integer(1, 7)
        module = attention_with(t, rng, query_dim, key_dim, hidden_dim)
        query, keys = rng.randn(batch, query_dim), rng.randn(batch, seq, key_dim, scale=2.0)
        mask = None if k == 0 else random_mask(rng, batch, seq, p_keep=rng.choice([0.2, 0.5, 0.8]))
        label = f"case {k}: batch {batch}, seq {seq}, query {query_dim}, key {key_dim}, hidden {hidden_dim}, " \
                f"{'no mask' if mask is None else 'masked'}"
        cases[label] = attention_case(module, query, keys, mask)
        if k == 2:  # huge values at masked positions must not leak into the context
            loud = keys.masked_fill(~mask.unsqueeze(-1), 1e6)
            cases[label + ", masked keys set to 1e6"] = attention_case(module, query, loud, mask)
    # batch of one, and a sequence of one (its single weight must be exactly 1)
    module = attention_with(t, rng, 3, 4, 5)
    cases["batch 1"] = attention_case(module, rng.randn(1, 3), rng.randn(1, 6, 4), random_mask(rng, 1, 6))
    cases["seq 1"] = attention_case(module, rng.randn(3, 3), rng.randn(3, 1, 4))
    # one allowed position per row: all weight goes there
    one = torch.zeros(4, 6, dtype=torch.bool)
    one[torch.arange(4), rng.randint(0, 6, (4,))] = True
    cases["one allowed position per row"] = attention_case(module, rng.randn(4, 3), rng.randn(4, 6, 4), one)
    return cases


@check("gradients through AdditiveAttention equal the reference's (all three weights, query, keys)",
       compare=close(rtol=1e-4, atol=1e-5))
def attention_gradients(t, rng):
    batch, seq = rng.integer(2, 4), rng.integer(2, 7)
    module = attention_with(t, rng, 3, 4, 5)
    query = rng.randn(batch, 3).requires_grad_(True)
    keys = rng.randn(batch, seq, 4).requires_grad_(True)
    mask = random_mask(rng, batch, seq)
    context, weights = module(query, keys, mask)
    ((context * rng.randn(batch, 4)).sum() + (weights * rng.randn(batch, seq)).sum()).backward()
    grads = {name: p.grad for name, p in sorted(module.named_parameters())}
    return {**grads, "query": query.grad, "keys": keys.grad}


@check("errors: unknown nonlinearity, wrong state shapes, an all-masked row raise ValueError")
def errors_random(t, rng):
    batch, input_size, hidden_size = rng.integer(2, 4), rng.integer(2, 5), rng.integer(2, 5)
    rnn, _, _ = rnn_pair(t, rng, input_size, hidden_size)
    lstm, _, _ = lstm_pair(t, rng, input_size, hidden_size)
    x = rng.randn(batch, input_size)
    attention = attention_with(t, rng, 2, 3, 4)
    seq = rng.integer(2, 6)
    mask = random_mask(rng, batch, seq)
    mask[rng.integer(0, batch - 1)] = False
    return {
        "nonlinearity": raises(t.RNNCell, input_size, hidden_size, rng.choice(["sigmoid", "gelu", ""])),
        "nonlinearity is case-sensitive": raises(t.RNNCell, input_size, hidden_size, "Tanh"),
        "RNNCell h of wrong size": raises(rnn, x, rng.randn(batch, hidden_size + 1)),
        "LSTMCell c of wrong batch": raises(lstm, x, (rng.randn(batch, hidden_size),
                                                      rng.randn(batch + 1, hidden_size))),
        "all-masked row": raises(attention, rng.randn(batch, 2), rng.randn(batch, seq, 3), mask),
    }

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
from llmkit.probing import error_case, load_params

NOT_BEHAVIOUR = {
    "In `recurrent.py`.": "where the code goes",
    "PyTorch's `scaled_dot_product_attention` uses the opposite)": "a remark about PyTorch, not about this code",
    "Given: `NONLINEARITIES`, `check_step_input`, `check_state`, `check_attention_inputs`, and the "
    "`extra_repr` methods.": "lists the code handed out; what the given checks raise is checked in errors_random",
}


def sizes(rng, low: int = 1, high: int = 9) -> tuple[int, int, int]:
    """Random ``(batch, input_size, hidden_size)``."""
    return rng.integer(1, 5), rng.integer(low, high), rng.integer(low, high)


@check("parameter names, shapes and U(-1/sqrt(hidden), 1/sqrt(hidden)) init for random sizes, both cells; "
       "AdditiveAttention's three bias-free nn.Linear with their default init",
       promises=["The parameter names are part of the contract",
                 "parameters `weight_ih` `(hidden_size, input_size)`, `weight_hh` `(hidden_size, hidden_size)`",
                 "parameters `weight_ih` `(4*hidden_size, input_size)`",
                 "three submodules without bias", "So the parameters are exactly `query_proj.weight`"])
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
    # nn.Linear's default init draws a weight (out, fan_in) from U(-1/sqrt(fan_in), 1/sqrt(fan_in));
    # sizes give >= 200 values per weight and >= 3000 in all (the statistics in init_report)
    query_dim, key_dim, hidden_dim = rng.integer(8, 16), rng.integer(8, 16), rng.integer(200, 400)
    attention = t.AdditiveAttention(query_dim, key_dim, hidden_dim)
    report["AdditiveAttention"] = init_report(attention, None)
    report["AdditiveAttention submodules are nn.Linear"] = [
        isinstance(getattr(attention, name, None), nn.Linear) for name in ("query_proj", "key_proj", "score")]
    return report


@check("RNNCell equals nn.RNNCell given weights: random sizes and batch, tanh and relu, h given or None",
       compare=agrees_with_torch,
       promises=["`nonlinearity` must be one of `NONLINEARITIES`",
                 "`x (batch, input_size)`, `h (batch, hidden_size)` -> `h' (batch, hidden_size)`",
                 "`h=None` means a zero state"])
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
       compare=agrees_with_torch,
       promises=["The row blocks are in the order i, f, g, o",
                 "`x (batch, input_size)`, `state = (h, c)`, both `(batch, hidden_size)`",
                 "`state=None` means zeros for both"])
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
       compare=agrees_with_torch,
       promises=["`xs (batch, seq, input_size)` -> `(outputs, state)`",
                 "`outputs (batch, seq, hidden_size)` stacks the `h` of every step",
                 "`state` is the last state, a tensor or an `(h, c)` tuple",
                 "Must work for your cells and for `nn.RNNCell` / `nn.LSTMCell`"])
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
       compare=agrees_with_torch,
       promises=["`xs (batch, seq, input_size)` -> `(outputs, state)`",
                 "`outputs (batch, seq, hidden_size)` stacks the `h` of every step",
                 "`state` is the last state, a tensor or an `(h, c)` tuple",
                 "Must work for your cells and for `nn.RNNCell` / `nn.LSTMCell`"])
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


class CallLog(nn.Module):
    """A PyTorch cell that logs every call ``run_rnn`` makes to it.

    Each entry is ``[step, passed_on]``: ``step`` is the time step whose input ``x_t`` the call
    got (-1 if it matches none), ``passed_on`` whether the state argument equals what the
    previous call returned (``h0`` for the first call).
    """

    def __init__(self, cell: nn.Module, xs: torch.Tensor, h0):
        super().__init__()
        self.cell, self.xs, self.last = cell, xs, h0
        self.log: list[list] = []

    def forward(self, x, state=None):
        step = next((s for s in range(self.xs.shape[1])
                     if x.shape == self.xs[:, s].shape and torch.equal(x, self.xs[:, s])), -1)
        self.log.append([step, equal_states(state, self.last)])
        self.last = self.cell(x, state)
        return self.last


def equal_states(a, b) -> bool:
    """Same state by value: both ``None``, equal tensors, or ``(h, c)`` pairs of equal tensors."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b):
        return all(equal_states(x, y) for x, y in zip(a, b))
    return False


@check("run_rnn calls the cell once per step, in order, with the state the last call returned (h0 first)",
       promises=["Calls `cell(x_t, state)` once per step, in order, passing on the state it got back "
                 "(`h0` at the start)"])
def run_rnn_call_log(t, rng):
    logs = {}
    for kind in ("rnn", "lstm"):
        batch, input_size, hidden_size = sizes(rng)
        seq = rng.integer(2, 7)
        params = cell_params(rng, input_size, hidden_size, gates=4 if kind == "lstm" else 1)
        cell = nn.RNNCell(input_size, hidden_size) if kind == "rnn" else nn.LSTMCell(input_size, hidden_size)
        load_torch(cell, params)
        xs = rng.randn(batch, seq, input_size)
        h0 = rng.randn(batch, hidden_size)
        if kind == "lstm":
            h0 = (h0, rng.randn(batch, hidden_size))
        logged = CallLog(cell, xs, h0)
        t.run_rnn(logged, xs, h0)
        logs[f"nn.{'RNNCell' if kind == 'rnn' else 'LSTMCell'}, seq {seq}: [step, state passed on] per call"] = \
            logged.log
    return logs


@check("output forms: RNNCell returns a tensor, LSTMCell the tuple (h', c'), run_rnn the tuple (outputs, state)",
       promises=["-> the tuple `(h', c')`, both `(batch, hidden_size)`"])
def output_forms(t, rng):
    batch, input_size, hidden_size = sizes(rng)
    rnn, _, _ = rnn_pair(t, rng, input_size, hidden_size)
    lstm, _, _ = lstm_pair(t, rng, input_size, hidden_size)
    x, xs = rng.randn(batch, input_size), rng.randn(batch, rng.integer(1, 5), input_size)

    def form(value):
        if isinstance(value, torch.Tensor):
            return ["tensor", list(value.shape)]
        if isinstance(value, (tuple, list)):
            return [type(value).__name__, [form(v) for v in value]]
        return [type(value).__name__]

    return {"RNNCell(x)": form(rnn(x)), "LSTMCell(x)": form(lstm(x)),
            "LSTMCell(x, (h, c))": form(lstm(x, (rng.randn(batch, hidden_size), rng.randn(batch, hidden_size)))),
            "run_rnn(RNNCell)": form(t.run_rnn(rnn, xs)), "run_rnn(LSTMCell)": form(t.run_rnn(lstm, xs))}


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
       "context = weighted keys, equal to the reference", compare=attention_properties,
       promises=["`mask`: True = masked out (this course's convention everywhere;",
                 "`query (batch, query_dim)`, `keys (batch, seq, key_dim)` -> `(context (batch, key_dim)",
                 "`weights` is the softmax of $e_j$ over `seq`;",
                 "`context[b] = sum_j weights[b, j] * keys[b, j]`",
                 "`mask` is `None` or a bool `(batch, seq)` with **True = masked out**;",
                 "masked positions get weight exactly 0"])
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
            loud = keys.masked_fill(mask.unsqueeze(-1), 1e6)
            cases[label + ", masked keys set to 1e6"] = attention_case(module, query, loud, mask)
    # batch of one, and a sequence of one (its single weight must be exactly 1)
    module = attention_with(t, rng, 3, 4, 5)
    cases["batch 1"] = attention_case(module, rng.randn(1, 3), rng.randn(1, 6, 4), random_mask(rng, 1, 6))
    cases["seq 1"] = attention_case(module, rng.randn(3, 3), rng.randn(3, 1, 4))
    # one allowed (False) position per row: all weight goes there
    one = torch.ones(4, 6, dtype=torch.bool)
    one[torch.arange(4), rng.randint(0, 6, (4,))] = False
    cases["one allowed position per row"] = attention_case(module, rng.randn(4, 3), rng.randn(4, 6, 4), one)
    return cases


@check("gradients through AdditiveAttention equal the reference's (all three weights, query, keys)")
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


@check("errors: unknown nonlinearity (named), wrong input and state shapes, bad xs for run_rnn, "
       "an all-masked row (named), bad attention inputs",
       promises=["anything else raises `ValueError` naming it and the allowed ones",
                 "Wrong shapes raise `ValueError` (use the given `check_step_input` and `check_state`)",
                 "A wrong shape of `x`, `h` or `c` raises `ValueError`",
                 "The given code already rejects an `xs` that is not 3-D or has `seq == 0` (`ValueError`)",
                 "A mask row that is `True` everywhere raises `ValueError` naming the row",
                 "Other bad inputs are rejected by the given `check_attention_inputs`"])
def errors_random(t, rng):
    batch, input_size, hidden_size = rng.integer(2, 4), rng.integer(2, 5), rng.integer(2, 5)
    rnn, _, _ = rnn_pair(t, rng, input_size, hidden_size)
    lstm, _, _ = lstm_pair(t, rng, input_size, hidden_size)
    x, h = rng.randn(batch, input_size), rng.randn(batch, hidden_size)
    bad_x = rng.randn(batch, input_size + 1)
    attention = attention_with(t, rng, 2, 3, 4)
    seq = rng.integer(2, 6)
    query, keys = rng.randn(batch, 2), rng.randn(batch, seq, 3)
    mask = random_mask(rng, batch, seq)
    row = rng.integer(0, batch - 1)
    mask[row] = True  # True = masked out: this row has nothing left to attend to
    unknown = rng.choice(["sigmoid", "gelu", "softplus"])
    return {
        "nonlinearity": error_case(f"RNNCell(..., nonlinearity={unknown!r})", t.RNNCell, input_size,
                                   hidden_size, unknown, names=[unknown, "tanh", "relu"]),
        "nonlinearity is case-sensitive": error_case("RNNCell(..., nonlinearity='Tanh')", t.RNNCell,
                                                     input_size, hidden_size, "Tanh", names=["Tanh"]),
        "nonlinearity empty": error_case("RNNCell(..., nonlinearity='')", t.RNNCell, input_size, hidden_size, ""),
        "RNNCell x of wrong size": error_case("RNNCell: x of wrong size", rnn, bad_x, h),
        "RNNCell h of wrong size": error_case("RNNCell: h of wrong size", rnn, x, rng.randn(batch, hidden_size + 1)),
        "LSTMCell x of wrong size": error_case("LSTMCell: x of wrong size", lstm, bad_x),
        "LSTMCell h of wrong size": error_case("LSTMCell: h of wrong size", lstm, x,
                                               (rng.randn(batch, hidden_size + 1), h)),
        "LSTMCell c of wrong batch": error_case("LSTMCell: c of wrong batch", lstm, x,
                                                (h, rng.randn(batch + 1, hidden_size))),
        "run_rnn xs 2-D": error_case("run_rnn with a 2-D xs", t.run_rnn, rnn, x),
        "run_rnn seq 0": error_case("run_rnn with seq == 0", t.run_rnn, rnn, rng.randn(batch, 0, input_size)),
        "all-masked row": error_case(f"AdditiveAttention with mask row {row} all True", attention, query, keys,
                                     mask, names=[row]),
        "keys of wrong key_dim": error_case("AdditiveAttention: keys of wrong key_dim", attention, query,
                                            rng.randn(batch, seq, 4)),
        "mask of wrong shape": error_case("AdditiveAttention: mask of wrong shape", attention, query, keys,
                                          torch.zeros(batch, seq + 1, dtype=torch.bool)),
        "mask not bool": error_case("AdditiveAttention: mask not bool", attention, query, keys,
                                    torch.zeros(batch, seq)),
    }

"""Public checks for topic 07 - From RNNs to attention."""

from __future__ import annotations

import math

import torch
from torch import nn

from llmkit.checks import check
from llmkit.probing import Rng, error_case, load_params
from llmkit.values import Mismatch, exact, same

CELL_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


# ----------------------------------------------------------------------------- recurrent helpers


def cell_params(rng: Rng, input_size: int, hidden_size: int, gates: int = 1, scale: float = 0.5):
    """Random values for a cell's four parameters (``gates=4`` for an LSTM)."""
    rows = gates * hidden_size
    return rng.params({"weight_ih": (rows, input_size), "weight_hh": (rows, hidden_size),
                       "bias_ih": (rows,), "bias_hh": (rows,)}, scale=scale)


def load_torch(module: nn.Module, params: dict[str, torch.Tensor], suffix: str = "") -> nn.Module:
    """Copy ``params`` into a PyTorch module (``suffix="_l0"`` for an ``nn.RNN`` / ``nn.LSTM`` layer)."""
    module.load_state_dict({name + suffix: value.clone() for name, value in params.items()})
    return module


def rnn_pair(t, rng: Rng, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
    """The learner's ``RNNCell`` and ``nn.RNNCell``, both holding the same random weights."""
    params = cell_params(rng, input_size, hidden_size)
    yours = load_params(t.RNNCell(input_size, hidden_size, nonlinearity), params, "t07 RNNCell")
    theirs = load_torch(nn.RNNCell(input_size, hidden_size, nonlinearity=nonlinearity), params)
    return yours, theirs, params


def lstm_pair(t, rng: Rng, input_size: int, hidden_size: int):
    """The learner's ``LSTMCell`` and ``nn.LSTMCell``, both holding the same random weights."""
    params = cell_params(rng, input_size, hidden_size, gates=4)
    yours = load_params(t.LSTMCell(input_size, hidden_size), params, "t07 LSTMCell")
    theirs = load_torch(nn.LSTMCell(input_size, hidden_size), params)
    return yours, theirs, params


def torch_layer_run(kind: str, params, xs, state=None, nonlinearity: str = "tanh"):
    """``nn.RNN`` / ``nn.LSTM`` (one layer, batch_first) with ``params``: ``(outputs, last state)``.

    The last state comes back in the cell's form: ``h``, or ``[h, c]`` for an LSTM.
    """
    input_size, hidden_size = xs.shape[2], params["weight_hh"].shape[1]
    if kind == "rnn":
        layer = nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, batch_first=True)
        hx = None if state is None else state.unsqueeze(0)
    else:
        layer = nn.LSTM(input_size, hidden_size, batch_first=True)
        hx = None if state is None else tuple(s.unsqueeze(0) for s in state)
    load_torch(layer, params, "_l0")
    outputs, last = layer(xs, hx)
    last = last[0] if kind == "rnn" else [last[0][0], last[1][0]]
    return outputs, last


def init_report(module: nn.Module, hidden_size: int | None = None) -> dict:
    """Parameter names, shapes and how they were drawn, rounded so that any U(-b, b) draw agrees.

    ``b = 1/sqrt(hidden_size)`` for every parameter (the recurrent cells), or, with
    ``hidden_size=None``, ``b = 1/sqrt(fan_in)`` of each weight ``(out, fan_in)``
    (``nn.Linear``'s default init). ``spread`` is std / std(U(-b, b)), rounded to an
    integer; the pooled values, each divided by its bound, must reach 1
    (``max_over_bound``) and have the uniform std.

    Thresholds, for a correct U(-b, b) draw of N values (the checks use N >= 200 per
    tensor and N >= 3000 pooled; the std of a uniform sample's std is about
    ``sqrt(0.2 / N)`` relative):

    * ``within_bound`` allows ``1e-6`` relative: float32 rounding of ``b`` is 6e-8;
    * ``spread`` is off only if the std is off by 50%: 10 sigma at N = 200, never;
    * ``max_over_bound`` (2 decimals) is off only if all N values lie below 0.995 b:
      probability ``0.995 ** N``, below 1e-6 at N = 3000;
    * ``std_over_uniform_std`` (1 decimal) is off only at 5% error: 6 sigma at N = 3000,
      a false failure below 1e-8.
    """
    params = dict(module.named_parameters())

    def bound_of(p: torch.Tensor) -> float:
        return (hidden_size if hidden_size is not None else p.shape[-1]) ** -0.5

    report: dict = {}
    for name, p in sorted(params.items()):
        bound = bound_of(p)
        values = p.detach().double()
        report[name] = {
            "shape": list(p.shape),
            "trainable": p.requires_grad,
            "within_bound": bool(values.abs().max() <= bound * (1 + 1e-6)),
            "spread": round(float(values.std() * math.sqrt(3) / bound)),
        }
    pooled = torch.cat([p.detach().double().flatten() / bound_of(p) for p in params.values()]) if params else None
    report["(all values)"] = None if pooled is None else {
        "max_over_bound": round(float(pooled.abs().max()), 2),
        "std_over_uniform_std": round(float(pooled.std() * math.sqrt(3)), 1),
    }
    return report


def agrees_with_torch(got, expected, *, reveal: bool) -> None:
    """Cases ``{label: {"yours": ..., "torch": ...}}``: the learner's value must equal
    PyTorch's value computed in the grader's run, and the reference's."""
    if not isinstance(got, dict) or set(got) != set(expected):
        raise Mismatch(f"expected the cases {sorted(expected)}")
    for case, exp in expected.items():
        g = got[case]
        if not isinstance(g, dict) or "yours" not in g:
            raise Mismatch(f"{case}: malformed probe output")
        same(g["yours"], exp["torch"], reveal=reveal, path=f"{case} (vs PyTorch)")
        same(g["yours"], exp["yours"], reveal=reveal, path=f"{case} (vs the reference)")


# ----------------------------------------------------------------------------- attention helpers


def attention_with(t, rng: Rng, query_dim: int, key_dim: int, hidden_dim: int):
    """The learner's ``AdditiveAttention`` with all three weights overwritten by given values."""
    module = t.AdditiveAttention(query_dim, key_dim, hidden_dim)
    params = rng.params({"query_proj.weight": (hidden_dim, query_dim),
                         "key_proj.weight": (hidden_dim, key_dim),
                         "score.weight": (1, hidden_dim)}, scale=0.8)
    return load_params(module, params, "t07 AdditiveAttention")


def random_mask(rng: Rng, batch: int, seq: int, p_keep: float = 0.6) -> torch.Tensor:
    """Bool mask ``(batch, seq)``, ``True`` = masked out (the course's convention).

    Each position stays visible with probability ``p_keep``, and every row keeps
    at least one visible (``False``) position.
    """
    mask = rng.rand(batch, seq) >= p_keep
    for row in range(batch):
        mask[row, rng.integer(0, seq - 1)] = False
    return mask


def attention_case(module, query, keys, mask=None) -> dict:
    """Run the attention; keep its inputs next to its outputs for the property comparison."""
    context, weights = module(query, keys, mask)
    return {"context": context, "weights": weights, "keys": keys, "mask": mask}


def attention_properties(got, expected, *, reveal: bool) -> None:
    """Cases ``{label: attention_case}``: weights >= 0, rows sum to 1, exactly 0 where masked,
    context = weighted sum of the keys; then equality with the reference.

    The keys and the mask are taken from the grader's own run (``expected``).
    """
    if not isinstance(got, dict) or set(got) != set(expected):
        raise Mismatch(f"expected the cases {sorted(expected)}")
    for case, exp in expected.items():
        g = got[case]
        if not isinstance(g, dict) or not {"context", "weights"} <= set(g):
            raise Mismatch(f"{case}: malformed probe output")
        weights, context, keys, mask = g["weights"], g["context"], exact(exp["keys"]), exp["mask"]
        batch, seq, key_dim = keys.shape
        for what, value, shape in (("weights", weights, (batch, seq)), ("context", context, (batch, key_dim))):
            if not isinstance(value, torch.Tensor) or tuple(value.shape) != shape:
                have = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                raise Mismatch(f"{case}: {what} has shape {have}, expected {shape}")
        w = weights.double()
        if not torch.isfinite(w).all():
            raise Mismatch(f"{case}: weights contain NaN or inf")
        if (w < 0).any():
            raise Mismatch(f"{case}: weights has a negative entry ({w.min().item():.3g})")
        sums = w.sum(dim=1)
        # a float32 softmax row sums to 1 within a few units of 6e-8 per position (seq <= 10
        # here): 1e-5 is over 10x that, while a wrong normalisation is off by O(1)
        bad = (sums - 1).abs() > 1e-5
        if bad.any():
            row = int(bad.nonzero()[0])
            raise Mismatch(f"{case}: weights of batch row {row} sum to {sums[row].item():.6g}, not 1 "
                           "(softmax over the seq axis?)")
        if mask is not None and (w[mask] != 0).any():
            row, pos = (int(i) for i in ((w != 0) & mask).nonzero()[0])
            raise Mismatch(f"{case}: position {pos} of batch row {row} is masked but has weight "
                           f"{w[row, pos].item():.3g}, expected exactly 0")
        weighted = torch.einsum("bs,bsd->bd", w, keys.double())
        error = (context.double() - weighted).abs().max().item()
        # float32 rounding of a weighted sum of <= 10 keys is ~1e-6 relative; 1e-4 leaves 100x
        # room, and summing the projected keys instead is off by O(1)
        if error > 1e-4 * (1 + weighted.abs().max().item()):
            raise Mismatch(f"{case}: context is not sum_j weights_j * keys_j (max error {error:.3g}; "
                           "the raw keys are summed, not their projections)")
        same(weights, exp["weights"], reveal=reveal, path=f"{case}: weights")
        same(context, exp["context"], reveal=reveal, path=f"{case}: context")


# ----------------------------------------------------------------------------- checks


@check("RNNCell has weight_ih (hidden, input), weight_hh, bias_ih, bias_hh from U(-1/sqrt(hidden), 1/sqrt(hidden))")
def rnn_cell_parameters(t, rng):
    return init_report(t.RNNCell(30, 200), 200)


@check("RNNCell equals torch.nn.RNNCell given weights (tanh and relu, with and without h)",
       compare=agrees_with_torch)
def rnn_cell_step(t, rng):
    cases = {}
    for nonlinearity in ("tanh", "relu"):
        yours, theirs, _ = rnn_pair(t, rng, 5, 4, nonlinearity)
        x, h = rng.randn(3, 5), rng.randn(3, 4)
        cases[f"{nonlinearity}, h given"] = {"torch": theirs(x, h), "yours": yours(x, h)}
        cases[f"{nonlinearity}, h=None"] = {"torch": theirs(x), "yours": yours(x)}
    return cases


@check("LSTMCell has weight_ih (4*hidden, input), weight_hh, bias_ih, bias_hh from U(-1/sqrt(hidden), 1/sqrt(hidden))")
def lstm_cell_parameters(t, rng):
    return init_report(t.LSTMCell(30, 100), 100)


@check("LSTMCell equals torch.nn.LSTMCell given weights (gate order i, f, g, o; with and without state)",
       compare=agrees_with_torch)
def lstm_cell_step(t, rng):
    yours, theirs, _ = lstm_pair(t, rng, 5, 4)
    x, h, c = rng.randn(3, 5), rng.randn(3, 4), rng.randn(3, 4)
    return {"state (h, c) given": {"torch": theirs(x, (h, c)), "yours": yours(x, (h, c))},
            "state=None": {"torch": theirs(x), "yours": yours(x)}}


@check("run_rnn over RNNCell / LSTMCell equals nn.RNN / nn.LSTM with the same weights",
       compare=agrees_with_torch)
def unroll_layers(t, rng):
    xs = rng.randn(2, 6, 3)
    rnn, _, rnn_params = rnn_pair(t, rng, 3, 4)
    lstm, _, lstm_params = lstm_pair(t, rng, 3, 4)
    h0, c0 = rng.randn(2, 4), rng.randn(2, 4)
    return {
        "RNNCell, h0=None": {"torch": torch_layer_run("rnn", rnn_params, xs),
                             "yours": t.run_rnn(rnn, xs)},
        "LSTMCell, h0=(h, c)": {"torch": torch_layer_run("lstm", lstm_params, xs, (h0, c0)),
                                "yours": t.run_rnn(lstm, xs, (h0, c0))},
    }


@check("AdditiveAttention: weights >= 0, sum to 1 over seq, exactly 0 where masked; context = sum_j w_j keys_j",
       compare=attention_properties)
def attention(t, rng):
    module = attention_with(t, rng, 4, 6, 5)
    query, keys = rng.randn(3, 4), rng.randn(3, 7, 6)
    mask = random_mask(rng, 3, 7)
    return {"no mask": attention_case(module, query, keys),
            "with a mask": attention_case(module, query, keys, mask)}


@check("errors: unknown nonlinearity and a mask row with nothing to attend to raise ValueError")
def errors(t, rng):
    module = attention_with(t, rng, 2, 3, 4)
    mask = torch.zeros(3, 5, dtype=torch.bool)
    mask[2] = True  # True = masked out: row 2 has nothing left to attend to
    return [error_case("RNNCell(3, 4, 'sigmoid')", t.RNNCell, 3, 4, "sigmoid",
                       names=["sigmoid", "tanh", "relu"]),
            error_case("AdditiveAttention with mask row 2 all True", module, rng.randn(3, 2),
                       rng.randn(3, 5, 3), mask, names=[2])]

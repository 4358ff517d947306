"""Topic 07, written differently: per-gate einsum LSTM, F.linear steps, torch.where masking, bmm context."""

from .recurrent import (
    NONLINEARITIES,
    AdditiveAttention,
    LSTMCell,
    RNNCell,
    check_attention_inputs,
    check_state,
    check_step_input,
    run_rnn,
)

__all__ = [
    "NONLINEARITIES", "AdditiveAttention", "LSTMCell", "RNNCell", "check_attention_inputs",
    "check_state", "check_step_input", "run_rnn",
]

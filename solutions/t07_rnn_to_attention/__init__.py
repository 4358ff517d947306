"""Topic 07 - From RNNs to attention."""

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

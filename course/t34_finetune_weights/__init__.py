"""Topic 34 - Loading weights for finetuning: infer the config, load all or nothing, checkpoints and GPT-2."""

from .load_finetune import (
    BLOCK_KEY,
    CHECKPOINT_KEYS,
    HEAD,
    POSITION_TABLE,
    QUERY_BIAS,
    TOKEN_TABLE,
    check_state_dict,
    count_blocks,
    describe,
    infer_config,
    is_tied,
    load_model,
    load_weights,
    read_checkpoint,
    shares_head,
)

__all__ = ["BLOCK_KEY", "CHECKPOINT_KEYS", "HEAD", "POSITION_TABLE", "QUERY_BIAS", "TOKEN_TABLE", "check_state_dict",
           "count_blocks", "describe", "infer_config", "is_tied", "load_model", "load_weights", "read_checkpoint",
           "shares_head"]

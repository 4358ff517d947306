"""Topic 25 - Saving and loading: checkpoints, atomic writes, safe loading, resuming training."""

from .checkpoint import (
    atomic_save,
    capture_rng_state,
    is_plain,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
    train_with_checkpoints,
)

__all__ = ["atomic_save", "capture_rng_state", "is_plain", "load_checkpoint", "restore_rng_state",
           "save_checkpoint", "train_with_checkpoints"]

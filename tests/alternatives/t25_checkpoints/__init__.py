"""Topic 25, written differently: other key names and file layout, NamedTemporaryFile and a byte buffer for the
atomic write, dataclasses.fields for the config, a while loop that resumes."""

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

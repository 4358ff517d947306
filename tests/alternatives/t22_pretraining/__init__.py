"""Topic 22, written differently: AdamW with torch._foreach_* ops and a float-tensor step count (as
torch.optim.AdamW keeps it), the cosine as cos^2, clipping over one concatenated float64 vector, the
loop driven by one flat iterator."""

from .train import AdamW, clip_grad_norm, lr_at, train_model, train_step

__all__ = ["AdamW", "clip_grad_norm", "lr_at", "train_model", "train_step"]

"""Topic 14 - Layer normalization."""

from .layer_norm import LayerNorm, layer_norm, row_statistics

__all__ = ["LayerNorm", "layer_norm", "row_statistics"]

"""Topic 17, written differently: submodules created in another order, functional dropout, a residual helper."""

from .block import TransformerBlock

__all__ = ["TransformerBlock"]

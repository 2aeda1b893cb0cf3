"""Models: ``Sequential`` (a stack of layers and its training loop), saving and loading."""

from refnn.models.loading import load_model
from refnn.models.sequential import Sequential

__all__ = ["Sequential", "load_model"]

"""Models."""

from refnn.models.sequential import Sequential

__all__ = ["Sequential"]

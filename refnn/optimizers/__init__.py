"""Optimizers: one file per algorithm; ``get(name)`` by name."""

from refnn.optimizers import schedules
from refnn.optimizers.base import Optimizer
from refnn.optimizers.sgd import SGD

__all__ = ["Optimizer", "SGD", "schedules", "get"]

_BY_NAME = {"sgd": SGD}


def get(identifier, convention: str = "keras") -> Optimizer:
    """Return an optimizer from a name (``"sgd"``, ...) or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if convention not in ("keras", "textbook"):
        raise ValueError(f'`convention` must be "keras" or "textbook". Received: convention={convention!r}')
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(
        f"Unknown optimizer. `optimizer` must be one of {sorted(_BY_NAME)} or an Optimizer "
        f"instance. Received: optimizer={identifier!r}"
    )

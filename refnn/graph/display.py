"""How a node's arrays are written in drawings and tables: small ones in full, large ones summarised."""

from __future__ import annotations

import numpy as np

__all__ = ["FULL_SIZE", "format_number", "array_lines", "node_caption"]

#: arrays with at most this many entries (and at most 2-D) are written in full
FULL_SIZE = 12


def format_number(x: float, digits: int = 4) -> str:
    """``x`` with ``digits`` significant digits, a true minus sign, no ``+`` in exponents."""
    text = f"{float(x):.{digits}g}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
    return text.replace("-", "−")


def array_lines(a: np.ndarray | None, digits: int = 4) -> list[str]:
    """Lines of text for an array: a number; a vector on one line; a matrix one row per line,
    columns aligned; anything larger than ``FULL_SIZE`` entries as shape, min/max and norm."""
    if a is None:
        return ["—"]
    a = np.asarray(a)
    if a.size == 1:
        return [format_number(a.reshape(-1)[0], digits)]
    if a.size > FULL_SIZE or a.ndim > 2 or a.size == 0:
        if a.size == 0:
            return [f"empty {a.shape}"]
        return [f"min {format_number(a.min(), 3)}, max {format_number(a.max(), 3)}",
                f"‖·‖ {format_number(np.linalg.norm(a.astype(np.float64)), 3)}"]
    rows = np.atleast_2d(a)
    cells = [[format_number(v, digits) for v in row] for row in rows]
    width = max(len(c) for row in cells for c in row)
    return ["[" + " ".join(c.rjust(width) for c in row) + "]" for row in cells]


def node_caption(node) -> str:
    """``op`` with its settings, e.g. ``dropout(rate=0.5)``."""
    if not node.attrs:
        return node.op
    settings = ", ".join(f"{k}={v}" for k, v in node.attrs.items())
    return f"{node.op}({settings})"

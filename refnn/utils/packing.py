"""All parameters as one flat vector, and back.

The finite-difference check and Levenberg–Marquardt both work on ``w ∈ R^P``; ``ParamPacker``
precomputes each parameter's ``(start, end, shape)`` slice (scikit-learn's MLP does the same), so
packing and unpacking are one copy each.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ParamPacker"]


class ParamPacker:
    """Maps ``{path: array}`` to a flat vector in a fixed path order.

    Args:
        params: ``{path: ndarray}``; its iteration order is the packing order.
    """

    def __init__(self, params: dict):
        self.paths = list(params)
        self.slices: dict[str, tuple[int, int, tuple]] = {}
        start = 0
        for path in self.paths:
            shape = np.shape(params[path])
            end = start + int(np.prod(shape, dtype=np.int64))
            self.slices[path] = (start, end, shape)
            start = end
        self.size = start

    def pack(self, arrays: dict, dtype=None) -> np.ndarray:
        """Concatenate ``arrays`` (same paths) into one vector."""
        if not self.paths:
            return np.zeros(0, dtype=dtype or np.float64)
        return np.concatenate([np.ravel(arrays[p]) for p in self.paths]).astype(dtype or
                                                                                 np.result_type(*arrays.values()), copy=False)

    def unpack(self, vector: np.ndarray) -> dict:
        """Split ``vector`` into ``{path: array}`` views of the right shapes."""
        vector = np.asarray(vector)
        if vector.shape != (self.size,):
            raise ValueError(
                f"`vector` must have shape ({self.size},). Received: vector.shape={vector.shape}"
            )
        return {p: vector[s:e].reshape(shape) for p, (s, e, shape) in self.slices.items()}

    def assign(self, params: dict, vector: np.ndarray) -> None:
        """Write ``vector`` into the arrays of ``params`` in place."""
        for path, value in self.unpack(vector).items():
            params[path][...] = value

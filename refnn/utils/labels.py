"""``to_categorical``: class ids to one-hot rows, as ``keras.utils.to_categorical``."""

from __future__ import annotations

import numpy as np

from refnn.utils.data import one_hot
from refnn.utils.validation import check_numeric_array

__all__ = ["to_categorical"]


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """One-hot rows (float64) for the integer class ids ``x``: ``out[..., x_n] = 1``.

    A trailing axis of length 1 is dropped first (``(N, 1)`` gives ``(N, K)``), and
    ``num_classes`` defaults to ``max(x) + 1`` — Keras's rules; the ids are then encoded by
    ``one_hot`` and reshaped to ``x``'s shape plus a class axis. Unlike Keras, ids that are not
    whole numbers, negative, or ``≥ num_classes`` are refused (naming ``x`` and the first such
    value) instead of truncated or wrapped.
    """
    ids = check_numeric_array("x", x)
    shape = ids.shape[:-1] if ids.ndim > 1 and ids.shape[-1] == 1 else ids.shape
    encoded = one_hot(ids.reshape(-1), num_classes, name="x")
    return encoded.reshape(shape + encoded.shape[1:])

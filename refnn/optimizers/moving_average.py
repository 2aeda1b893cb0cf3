"""The exponential moving average, in place, in the two arithmetic forms Keras uses.

Both compute ``a ← βa + (1 − β)x``; they round differently, and each Keras optimizer uses one of
them, so bit-parity needs both:

================================ =============================== ==============================
function                         arithmetic                      Keras optimizers
================================ =============================== ==============================
``moving_average``               ``a ← a + (x − a)·(1 − β)``     Adam, AdamW, Adamax, Nadam
``blended_moving_average``       ``a ← a·β + x·(1 − β)``         RMSprop, Adadelta
================================ =============================== ==============================

``scratch`` receives the increment and may be ``value`` itself (then ``value`` is consumed), so
an average of ``g²`` needs one scratch array: ``np.square(g, out=s); moving_average(v, s, c, s)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["moving_average", "blended_moving_average"]


def moving_average(average: np.ndarray, value: np.ndarray, one_minus_decay, scratch: np.ndarray) -> None:
    """``average ← average + (value − average)·(1 − β)`` in place (``one_minus_decay = 1 − β``)."""
    np.subtract(value, average, out=scratch)
    scratch *= one_minus_decay
    average += scratch


def blended_moving_average(average: np.ndarray, value: np.ndarray, decay, one_minus_decay,
                           scratch: np.ndarray) -> None:
    """``average ← average·β + value·(1 − β)`` in place (``decay = β``)."""
    average *= decay
    np.multiply(value, one_minus_decay, out=scratch)
    average += scratch

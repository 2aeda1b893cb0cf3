"""Scalar functions rounded as TensorFlow rounds them, for constants such as ``β₁ᵗ`` and schedules.

TensorFlow's scalar float32 ``pow`` and ``cos`` are correctly rounded in all but ~0.1 % of
cases; NumPy's float32 ``pow`` and ``cos`` often are not (float32 ``cos`` in ~83 % of cases).
Computing in float64 and rounding once to the argument's dtype gives TensorFlow's value, which is
what bit-parity of Adam's bias corrections and of float32 learning-rate schedules needs.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["power", "cosine"]


def power(base, exponent):
    """``base ** exponent`` in ``base``'s dtype, computed in float64 and rounded once."""
    return type(base)(np.float64(base) ** np.float64(exponent))


def cosine(x):
    """``cos(x)`` in ``x``'s dtype, computed in float64 and rounded once."""
    return type(x)(math.cos(float(x)))

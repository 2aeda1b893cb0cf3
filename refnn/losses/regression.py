"""The squared and absolute errors: ``MeanSquaredError``, ``MeanAbsoluteError`` and the classic
``SumSquaredError`` (``E = ½ Σ e²``)."""

from __future__ import annotations

import numpy as np

from refnn.losses.base import Loss

__all__ = ["MeanSquaredError", "MeanAbsoluteError", "SumSquaredError"]


class MeanSquaredError(Loss):
    """``ℓ_n = (1/D) Σ_d (ŷ_nd − y_nd)²``; reduced: the mean over all ``N·D`` entries.

    Gradient ``∂L/∂ŷ = 2(ŷ − y)/(N·D)``. Textbooks often write ``2/n·(ŷ − y)`` with n the
    number of samples, which is D× larger when the output has D > 1 units.
    """

    name = "mean_squared_error"
    is_sum_of_squares = True

    def _per_sample(self, y_true, y_pred, from_logits):
        diff = y_pred - y_true
        d = y_pred.shape[1]
        return np.mean(diff * diff, axis=1), diff * y_pred.dtype.type(2.0 / d)


class MeanAbsoluteError(Loss):
    """``ℓ_n = (1/D) Σ_d |ŷ_nd − y_nd|``; gradient ``sign(ŷ − y)/(N·D)`` (0 where equal)."""

    name = "mean_absolute_error"

    def _per_sample(self, y_true, y_pred, from_logits):
        diff = y_pred - y_true
        d = y_pred.shape[1]
        return np.mean(np.abs(diff), axis=1), np.sign(diff) * y_pred.dtype.type(1.0 / d)


class SumSquaredError(Loss):
    """The classic error ``E = ½ Σ_n Σ_d (ŷ_nd − y_nd)²``, gradient ``ŷ − y``.

    Not in Keras. Rprop, Quickprop and Levenberg–Marquardt were published with this error
    summed over all patterns; its default reduction is therefore ``"sum"``.
    """

    name = "sum_squared_error"
    is_sum_of_squares = True
    default_reduction = "sum"

    def _per_sample(self, y_true, y_pred, from_logits):
        diff = y_pred - y_true
        return 0.5 * np.sum(diff * diff, axis=1), diff

"""``SumSquaredError`` for Keras: the classic ``E = ½ Σ_n Σ_d (ŷ − y)²`` (refnn's ``"sse"``)."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["SumSquaredError"]


@keras.saving.register_keras_serializable(package="keras_bridge")
class SumSquaredError(keras.losses.Loss):
    """Per sample ``½ Σ_d (ŷ − y)²``, reduced by ``"sum"`` (the default): ``E = ½ Σ e²``.

    The error Rprop, Quickprop and Levenberg–Marquardt were published with; Keras has only the
    mean (``MeanSquaredError`` = ``Σ e² / (N·D)``).
    """

    def __init__(self, reduction="sum", name="sum_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        if len(y_true.shape) == len(y_pred.shape) - 1:
            y_true = ops.expand_dims(y_true, -1)
        return ops.multiply(0.5, ops.sum(ops.square(y_pred - y_true), axis=-1))

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

"""Lab: the gradients of the mean squared error and the categorical crossentropy.

Fill in the TODOs, then check your file::

    refnn-compare check losses.py

Both losses are means over the batch, as Keras computes them (``reduction="sum_over_batch_size"``):
``y_true`` and ``y_pred`` have shape (N, D); ``gradient`` returns ``∂L/∂y_pred``, shape (N, D).
"""

import numpy as np


class MeanSquaredError:
    """``L = (1/N) Σ_n (1/D) Σ_d (ŷ_nd − y_nd)²``: the mean over all N·D entries (Keras's ``"mse"``)."""

    def value(self, y_true, y_pred):
        return float(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2))

    def gradient(self, y_true, y_pred):
        raise NotImplementedError("TODO: ∂L/∂ŷ = 2(ŷ − y)/(N·D) — every entry counts once in the mean")


class CategoricalCrossentropy:
    """Crossentropy of the softmax of the logits ``Z`` (N, K) against one-hot targets ``y`` —
    what Keras computes for a softmax output layer trained with ``"categorical_crossentropy"``:

    ``L = (1/N) Σ_n ( log Σ_k e^{Z_nk} − Σ_k y_nk Z_nk )  =  −(1/N) Σ_n Σ_k y_nk log softmax(Z_n)_k``
    """

    def value(self, y_true, logits):
        Z = np.asarray(logits, dtype=np.float64)
        top = Z.max(axis=1, keepdims=True)  # log Σ e^Z computed without overflow
        log_sum = top[:, 0] + np.log(np.sum(np.exp(Z - top), axis=1))
        return float(np.mean(log_sum - np.sum(np.asarray(y_true) * Z, axis=1)))

    def gradient(self, y_true, logits):
        raise NotImplementedError("TODO: ∂L/∂Z = (softmax(Z) − y)/N for one-hot rows")

"""Reference solution of the losses lab (``comparisons/labs/skeletons/losses.py``)."""

import numpy as np


class MeanSquaredError:
    """``L = (1/N) Σ_n (1/D) Σ_d (ŷ_nd − y_nd)²``: the mean over all N·D entries (Keras's ``"mse"``)."""

    def value(self, y_true, y_pred):
        return float(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2))

    def gradient(self, y_true, y_pred):
        """Each of the N·D squares enters the mean once: ``∂L/∂ŷ = 2(ŷ − y)/(N·D)``."""
        diff = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
        return 2.0 * diff / diff.size


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
        """``∂/∂Z_k log Σ e^Z = softmax(Z)_k`` and ``∂/∂Z_k Σ y Z = y_k``; with one-hot rows
        (``Σ_k y_k = 1``) and the batch mean: ``∂L/∂Z = (softmax(Z) − y)/N``."""
        Z = np.asarray(logits, dtype=np.float64)
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return (E / E.sum(axis=1, keepdims=True) - np.asarray(y_true)) / Z.shape[0]

"""The crossentropies, with Keras's clipping, renormalisation, label smoothing and logits paths
(``refnn.losses``'s docstring gives the rules)."""

from __future__ import annotations

import numpy as np

from refnn.losses.base import Loss, _clip_bounds, _float_dtype, _logsumexp, _numeric, _sigmoid, _softmax
from refnn.utils.validation import check_bool, check_class_ids, check_float

__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy"]


class _Crossentropy(Loss):
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, reduction=None, name=None):
        super().__init__(reduction=reduction, name=name)
        self.from_logits = check_bool("from_logits", from_logits)
        self.label_smoothing = check_float("label_smoothing", label_smoothing, low=0.0, high=1.0)

    def get_config(self):
        return {
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            **super().get_config(),
        }


class BinaryCrossentropy(_Crossentropy):
    """Binary crossentropy, averaged over the last axis then over the batch.

    Probabilities: ``p ← clip(p, ε, 1 − ε)``, ``ℓ = −[y log p + (1 − y) log(1 − p)]``,
    ``∂ℓ/∂p = (p − y)/(p(1 − p))`` inside the clip interval, 0 outside.
    Logits: ``ℓ = max(z, 0) − z·y + log(1 + e^{−|z|})``, ``∂ℓ/∂z = σ(z) − y``.
    """

    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def _per_sample(self, y_true, y_pred, from_logits):
        dt = y_pred.dtype.type
        if self.label_smoothing:
            y_true = y_true * dt(1.0 - self.label_smoothing) + dt(0.5 * self.label_smoothing)
        d = y_pred.shape[1]
        if from_logits:
            z = y_pred
            elem = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
            grad = _sigmoid(z) - y_true
        else:
            lo, hi = _clip_bounds(y_pred.dtype)
            p = np.clip(y_pred, lo, hi)
            elem = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
            inside = (y_pred >= lo) & (y_pred <= hi)
            grad = (-y_true / p + (1 - y_true) / (1 - p)) * inside
        return np.mean(elem, axis=1), grad * dt(1.0 / d)


class CategoricalCrossentropy(_Crossentropy):
    """Categorical crossentropy over the last axis, one-hot (or soft) targets.

    Probabilities (Keras): ``q = p / Σp``, ``c = clip(q, ε, 1 − ε)``, ``ℓ = −Σ y log c``. The
    gradient w.r.t. ``p`` goes through the renormalisation:
    ``∂ℓ/∂p_j = g_j/S − (Σ_i g_i p_i)/S²`` with ``g = −y/c`` (0 where clipped) and ``S = Σp`` —
    for a one-hot y and ``Σp = 1`` that is ``−y/p + 1``, i.e. the textbook ``−y/p`` plus 1 on
    every class (the extra term cancels through the softmax Jacobian).
    Logits: ``ℓ = Σ_k y_k (logsumexp(z) − z_k)``, ``∂ℓ/∂z = softmax(z)·Σy − y``.
    """

    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def _per_sample(self, y_true, y_pred, from_logits):
        dt = y_pred.dtype.type
        if self.label_smoothing:
            k = y_pred.shape[1]
            y_true = y_true * dt(1.0 - self.label_smoothing) + dt(self.label_smoothing / k)
        if from_logits:
            return _categorical_from_logits(y_true, y_pred)
        s = y_pred.sum(axis=1, keepdims=True)
        q = y_pred / s
        lo, hi = _clip_bounds(y_pred.dtype)
        c = np.clip(q, lo, hi)
        values = -np.sum(y_true * np.log(c), axis=1)
        g = -y_true / c * ((q >= lo) & (q <= hi))
        grad = g / s - np.sum(g * y_pred, axis=1, keepdims=True) / (s * s)
        return values, grad


def _categorical_from_logits(y_true, z):
    """``ℓ = Σ_k y_k (logsumexp(z) − z_k)`` and ``∂ℓ/∂z = softmax(z)·Σy − y``, each row shifted by
    its maximum ``m``: one exponential ``e = exp(z − m)`` serves both. Every temporary is written
    in place and the reductions are ``ufunc.reduce`` calls (``ndarray.sum``'s own, without its
    Python wrapper): the same operations in the same order as the plain expressions, in fewer
    allocations — the fused loss runs once per training batch."""
    m = np.maximum.reduce(z, axis=1, keepdims=True)
    e = np.subtract(z, m)
    np.exp(e, out=e)
    total = np.add.reduce(e, axis=1, keepdims=True)
    log_sum = np.log(total)
    log_sum += m  # logsumexp(z) = m + log Σ e
    terms = np.subtract(log_sum, z)
    terms *= y_true
    values = np.add.reduce(terms, axis=1)
    e /= total  # softmax(z)
    e *= np.add.reduce(y_true, axis=1, keepdims=True)
    e -= y_true
    return values, e


class SparseCategoricalCrossentropy(Loss):
    """Categorical crossentropy with integer class ids as targets (shape ``(N,)`` or ``(N, 1)``).

    Probabilities (Keras): ``c = clip(p, ε, 1 − ε)``, ``ℓ = −log(c_y / Σc)`` (clip *first*, then
    renormalise), ``∂ℓ/∂p = (1/Σc − [k = y]/c_k)`` where not clipped.
    Logits: ``ℓ = logsumexp(z) − z_y``, ``∂ℓ/∂z = softmax(z) − onehot(y)``.
    """

    name = "sparse_categorical_crossentropy"
    fused_activation = "softmax"

    def __init__(self, from_logits: bool = False, reduction=None, name=None):
        super().__init__(reduction=reduction, name=name)
        self.from_logits = check_bool("from_logits", from_logits)

    def get_config(self):
        return {"from_logits": self.from_logits, **super().get_config()}

    def _prepare(self, y_true, y_pred):
        y_pred = _numeric("y_pred", y_pred)
        y_pred = y_pred.astype(_float_dtype(y_pred), copy=False)
        if y_pred.ndim != 2:
            raise ValueError(f"`y_pred` must be 2-D (N, classes). Received: y_pred.shape={y_pred.shape}")
        labels = check_class_ids("y_true", y_true, y_pred.shape[1])
        if labels.shape[0] != y_pred.shape[0]:
            raise ValueError(
                "`y_true` must hold one integer class id per row of `y_pred`. Received: "
                f"y_true.shape={np.shape(y_true)}, y_pred.shape={y_pred.shape}"
            )
        return labels, y_pred

    def _per_sample(self, labels, y_pred, from_logits):
        rows = np.arange(labels.shape[0])
        if from_logits:
            values = _logsumexp(y_pred) - y_pred[rows, labels]
            grad = _softmax(y_pred)
            grad[rows, labels] -= 1
            return values, grad
        lo, hi = _clip_bounds(y_pred.dtype)
        c = np.clip(y_pred, lo, hi)
        total = c.sum(axis=1, keepdims=True)
        values = np.log(total[:, 0]) - np.log(c[rows, labels])
        inside = (y_pred >= lo) & (y_pred <= hi)
        grad = np.broadcast_to(1 / total, c.shape).copy()
        grad[rows, labels] -= 1 / c[rows, labels]
        return values, grad * inside

"""Per-sample metric functions ``m_n = fn(y_true, y_pred)`` (Keras's ``keras.metrics.<function>``).

=================================== ===========================================================
function                            per sample ``m_n``
=================================== ===========================================================
binary_accuracy(threshold=0.5)      ``(1/D) Σ_d [y_nd == (ŷ_nd > threshold)]``
categorical_accuracy                ``[argmax y_n == argmax ŷ_n]`` (first index on ties)
sparse_categorical_accuracy         ``[y_n == argmax ŷ_n]``
top_k_categorical_accuracy(k=5)     ``[#{j: ŷ_nj > ŷ_n,t} < k]`` with ``t = argmax y_n``
sparse_top_k_categorical_accuracy   the same with ``t = y_n``
mean_squared_error, ..._absolute_   ``(1/D) Σ_d (ŷ − y)²``, ``(1/D) Σ_d |ŷ − y|``
the crossentropies                  the loss's per-sample value (``refnn.losses``), no penalty
=================================== ===========================================================

Top-k ties: TensorFlow's ``in_top_k`` (Keras's TensorFlow backend) counts a target in the top k
when fewer than k classes score *strictly* higher, so classes tied at the boundary are all in;
a non-finite score of the target is never in. refnn computes that count directly.

``accuracy`` (``"accuracy"``/``"acc"``) is resolved the way Keras resolves it, from the shapes:
binary accuracy when the output has one unit, sparse categorical when the targets are class ids,
categorical otherwise.

The crossentropies are the crossentropy of the predictions alone — Keras's metrics of those names,
with no L1/L2 penalty. Like the loss, they are computed from the logits when the model's output is
the matching activation (softmax for the categorical ones, sigmoid for the binary one), as Keras
computes them from the logits it attaches to such an output; otherwise from the probabilities,
clipped to ``[ε, 1 − ε]`` with ε = 1e-7 (``Sequential`` decides; called directly, a metric sees the
probabilities). Keras also takes the logits of a *mismatched* output (a binary crossentropy of a
softmax output is then the sigmoid crossentropy of its logits); refnn does not copy that, as for
the loss (``keras_bridge.compare`` labels those rows a known difference).
Beside a regularised loss they say how well the model fits the data: the penalised ``val_loss`` of
an L2 run is larger than its data term.
"""

from __future__ import annotations

import numpy as np

from refnn import losses as losses_module

__all__ = [
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "mean_squared_error",
    "mean_absolute_error",
    "categorical_crossentropy",
    "binary_crossentropy",
    "sparse_categorical_crossentropy",
]


def _as_2d(a: np.ndarray) -> np.ndarray:
    return a[:, None] if a.ndim == 1 else a


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    y_true, y_pred = _as_2d(np.asarray(y_true)), _as_2d(np.asarray(y_pred))
    return np.mean(y_true == (y_pred > threshold), axis=-1)


def categorical_accuracy(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.size != y_pred.shape[0]:
        raise ValueError(
            "sparse_categorical_accuracy takes class ids, one per row (shape (N,) or (N, 1)); for one-hot targets "
            f"use categorical_accuracy. Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
    return (y_true.reshape(-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def accuracy(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 1 or y_pred.shape[-1] == 1:
        return binary_accuracy(y_true, y_pred)
    if y_true.ndim < y_pred.ndim or y_true.shape[-1] == 1:
        return sparse_categorical_accuracy(y_true, y_pred)
    return categorical_accuracy(y_true, y_pred)


def _in_top_k(targets: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """TensorFlow's ``in_top_k``: fewer than k scores strictly above the target's (ties are in)."""
    rows = np.arange(y_pred.shape[0])
    target_scores = y_pred[rows, targets]
    higher = np.sum(y_pred > target_scores[:, None], axis=-1)
    return ((higher < k) & np.isfinite(target_scores)).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return _in_top_k(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.size != y_pred.shape[0]:
        raise ValueError(
            "sparse_top_k_categorical_accuracy takes class ids, one per row (shape (N,) or (N, 1)). Received: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
    return _in_top_k(y_true.reshape(-1).astype(np.int64), y_pred, k)


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _as_2d(np.asarray(y_true)), _as_2d(np.asarray(y_pred))
    return np.mean(np.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _as_2d(np.asarray(y_true)), _as_2d(np.asarray(y_pred))
    return np.mean(np.abs(y_pred - y_true), axis=-1)


def _crossentropy_metric(loss_class, **options):
    """The per-sample crossentropy (``reduction="none"``, no penalty) of the probabilities, or of
    the logits with ``from_logits=True``; ``fused_activation`` names the activation whose logits
    it takes. ``options``: the loss's ``label_smoothing``."""
    of_probabilities = loss_class(reduction="none", **options)
    of_logits = loss_class(from_logits=True, reduction="none", **options)

    def crossentropy(y_true, y_pred, from_logits=False):
        return (of_logits if from_logits else of_probabilities)(y_true, y_pred)

    crossentropy.__name__ = of_probabilities.name
    crossentropy.fused_activation = loss_class.fused_activation
    return crossentropy


categorical_crossentropy = _crossentropy_metric(losses_module.CategoricalCrossentropy)
binary_crossentropy = _crossentropy_metric(losses_module.BinaryCrossentropy)
sparse_categorical_crossentropy = _crossentropy_metric(losses_module.SparseCategoricalCrossentropy)

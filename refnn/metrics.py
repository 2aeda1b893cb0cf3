"""Metrics reported by ``fit``/``evaluate``: per-sample values, averaged over the epoch.

``"accuracy"`` (or ``"acc"``) is resolved the way Keras resolves it, from the shapes:
binary accuracy when the output has one unit (``y_true == [ŷ > 0.5]``), sparse categorical when
the targets are class ids, categorical (``argmax y == argmax ŷ``) otherwise. ``"mse"`` and
``"mae"`` are the mean squared and absolute errors.

``"categorical_crossentropy"``, ``"binary_crossentropy"`` and ``"sparse_categorical_crossentropy"``
are the crossentropy of the predictions alone — Keras's metrics of those names, with no L1/L2
penalty. Like the loss, they are computed from the logits when the model's output is the matching
activation (softmax for the categorical ones, sigmoid for the binary one), as Keras computes them
from the logits it attaches to such an output; otherwise from the probabilities, clipped to
``[ε, 1 − ε]`` with ε = 1e-7 (``Sequential`` decides; called directly, a metric sees the
probabilities). Keras also takes the logits of a *mismatched* output (a binary crossentropy of a
softmax output is then the sigmoid crossentropy of its logits); refnn does not copy that, as for
the loss (``keras_bridge.compare`` labels those rows a known difference).
Beside a regularised loss they say how well the model fits the data: the penalised ``val_loss`` of
an L2 run is larger than its data term, and a student comparing it with an unregularised run's
``val_loss`` compares different quantities.
"""

from __future__ import annotations

import numpy as np

from refnn import losses as losses_module
from refnn.utils.validation import check_choice

__all__ = ["Metric", "get"]


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


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _as_2d(np.asarray(y_true)), _as_2d(np.asarray(y_pred))
    return np.mean(np.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _as_2d(np.asarray(y_true)), _as_2d(np.asarray(y_pred))
    return np.mean(np.abs(y_pred - y_true), axis=-1)


def _crossentropy_metric(loss_class):
    """The per-sample crossentropy (``reduction="none"``, no penalty) of the probabilities, or of
    the logits with ``from_logits=True``; ``fused_activation`` names the activation whose logits
    it takes."""
    of_probabilities = loss_class(reduction="none")
    of_logits = loss_class(from_logits=True, reduction="none")

    def crossentropy(y_true, y_pred, from_logits=False):
        return (of_logits if from_logits else of_probabilities)(y_true, y_pred)

    crossentropy.__name__ = of_probabilities.name
    crossentropy.fused_activation = loss_class.fused_activation
    return crossentropy


categorical_crossentropy = _crossentropy_metric(losses_module.CategoricalCrossentropy)
binary_crossentropy = _crossentropy_metric(losses_module.BinaryCrossentropy)
sparse_categorical_crossentropy = _crossentropy_metric(losses_module.SparseCategoricalCrossentropy)


class Metric:
    """A named per-sample function, averaged (sample-weighted) over an epoch.

    ``direction`` is ``"up"`` (accuracies: higher is better), ``"down"`` (errors) or ``None``
    (unknown); ``EarlyStopping(mode="auto")`` reads it, as Keras reads ``Metric._direction``.
    """

    def __init__(self, name: str, fn, direction: str | None = None):
        check_choice("direction", direction, ("up", "down", None))
        self.name = name
        self.fn = fn
        self.direction = direction

    @property
    def fused_activation(self) -> str | None:
        """The output activation whose logits this metric computes from (the crossentropies)."""
        return getattr(self.fn, "fused_activation", None)

    def __call__(self, y_true, y_pred, from_logits: bool = False) -> np.ndarray:
        """Per-sample values; ``from_logits=True`` (a crossentropy only): ``y_pred`` are logits."""
        return self.fn(y_true, y_pred, from_logits=True) if from_logits else self.fn(y_true, y_pred)

    def __repr__(self):
        return f"Metric({self.name!r})"


_BY_NAME = {
    "accuracy": accuracy,
    "acc": accuracy,
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}

_ACCURACIES = (accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy)


def get(identifier) -> Metric:
    """Return a metric from a Keras string name or a ``Metric``."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        fn = _BY_NAME[identifier.lower()]
        return Metric(identifier, fn, "up" if fn in _ACCURACIES else "down")
    raise ValueError(
        f"Unknown metric. Each entry of `metrics` must be one of {sorted(_BY_NAME)}. "
        f"Received: metrics entry {identifier!r}"
    )

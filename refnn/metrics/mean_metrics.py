"""Keras's mean metric classes: the sample-weighted mean of a per-sample function.

Each class has Keras's constructor arguments (less ``dtype``: refnn accumulates in float64), its
default name (the logs key) and its direction. ``RootMeanSquaredError`` is the one that is not a
plain mean: Keras accumulates the squared error like ``MeanSquaredError`` and returns

    result = sqrt(Σ_n w_n e²_n / Σ_n w_n),   e²_n = (1/D) Σ_d (ŷ_nd − y_nd)²

— the root of the weighted mean of the squared error, not a mean of per-sample roots.
"""

from __future__ import annotations

import math

from refnn import losses as losses_module
from refnn.metrics import functions as fns
from refnn.metrics.base import Metric
from refnn.utils.validation import check_bool, check_float, check_positive_int

__all__ = [
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "RootMeanSquaredError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
]


class _FixedMean(Metric):
    """A mean metric of a fixed function; subclasses set ``_fn``, ``_direction``, ``_default_name``."""

    _fn = None
    _direction = None
    _default_name = ""

    def __init__(self, name: str | None = None):
        super().__init__(self._default_name if name is None else name, type(self)._fn, self._direction)


class BinaryAccuracy(Metric):
    """``m_n = (1/D) Σ_d [y_nd == (ŷ_nd > threshold)]``, averaged; Keras's ``BinaryAccuracy``."""

    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5):
        self.threshold = threshold = check_float("threshold", threshold)

        def binary_accuracy(y_true, y_pred):
            return fns.binary_accuracy(y_true, y_pred, threshold)

        super().__init__(name, binary_accuracy, "up")

    def get_config(self):
        return {"name": self.name, "threshold": self.threshold}


class CategoricalAccuracy(_FixedMean):
    """``m_n = [argmax y_n == argmax ŷ_n]``, averaged."""

    _fn = staticmethod(fns.categorical_accuracy)
    _direction = "up"
    _default_name = "categorical_accuracy"


class SparseCategoricalAccuracy(_FixedMean):
    """``m_n = [y_n == argmax ŷ_n]`` with class ids ``y``, averaged."""

    _fn = staticmethod(fns.sparse_categorical_accuracy)
    _direction = "up"
    _default_name = "sparse_categorical_accuracy"


class _TopK(Metric):
    _function = None

    def __init__(self, k: int, name: str):
        self.k = k = check_positive_int("k", k)
        function = type(self)._function

        def top_k(y_true, y_pred):
            return function(y_true, y_pred, k)

        super().__init__(name, top_k, "up")

    def get_config(self):
        return {"name": self.name, "k": self.k}


class TopKCategoricalAccuracy(_TopK):
    """``m_n = 1`` when fewer than k classes score strictly above the true class (one-hot y)."""

    _function = staticmethod(fns.top_k_categorical_accuracy)

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy"):
        super().__init__(k, name)


class SparseTopKCategoricalAccuracy(_TopK):
    """``m_n = 1`` when fewer than k classes score strictly above class ``y_n`` (class ids)."""

    _function = staticmethod(fns.sparse_top_k_categorical_accuracy)

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy"):
        super().__init__(k, name)


class MeanSquaredError(_FixedMean):
    """``m_n = (1/D) Σ_d (ŷ_nd − y_nd)²``, averaged."""

    _fn = staticmethod(fns.mean_squared_error)
    _direction = "down"
    _default_name = "mean_squared_error"


class MeanAbsoluteError(_FixedMean):
    """``m_n = (1/D) Σ_d |ŷ_nd − y_nd|``, averaged."""

    _fn = staticmethod(fns.mean_absolute_error)
    _direction = "down"
    _default_name = "mean_absolute_error"


class RootMeanSquaredError(_FixedMean):
    """``sqrt(Σ w_n e²_n / Σ w_n)`` (module docstring); 0 before any row (``sqrt(0)``)."""

    _fn = staticmethod(fns.mean_squared_error)
    _direction = "down"
    _default_name = "root_mean_squared_error"

    def __call__(self, y_true, y_pred, from_logits: bool = False):
        raise TypeError(
            f"Metric {self.name!r} (RootMeanSquaredError) has no per-sample values: it is the root of the "
            "mean squared error over all rows; use update_state(y_true, y_pred) and result()."
        )

    def result(self) -> float:
        return math.sqrt(super().result())


class _CrossentropyMetric(Metric):
    """A crossentropy metric: the loss's per-sample value, no penalty, computed from the logits
    when the model passes them (``fused_activation``) or when built with ``from_logits=True``."""

    _loss_class = None

    def __init__(self, name: str, from_logits: bool, **options):
        self.from_logits = check_bool("from_logits", from_logits)
        self.options = options
        crossentropy = fns._crossentropy_metric(type(self)._loss_class, **options)
        fn = crossentropy
        if self.from_logits:
            def of_logits(y_true, y_pred):
                return crossentropy(y_true, y_pred, from_logits=True)

            fn = of_logits  # no fused_activation: y_pred already are logits
        super().__init__(name, fn, "down")

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits, **self.options}


class BinaryCrossentropy(_CrossentropyMetric):
    """The binary crossentropy of the data (``refnn.losses.BinaryCrossentropy``), averaged."""

    _loss_class = losses_module.BinaryCrossentropy

    def __init__(self, name: str = "binary_crossentropy", from_logits: bool = False,
                 label_smoothing: float = 0.0):
        super().__init__(name, from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(_CrossentropyMetric):
    """The categorical crossentropy of the data (``refnn.losses.CategoricalCrossentropy``), averaged."""

    _loss_class = losses_module.CategoricalCrossentropy

    def __init__(self, name: str = "categorical_crossentropy", from_logits: bool = False,
                 label_smoothing: float = 0.0):
        super().__init__(name, from_logits, label_smoothing=label_smoothing)


class SparseCategoricalCrossentropy(_CrossentropyMetric):
    """The sparse categorical crossentropy of the data, averaged."""

    _loss_class = losses_module.SparseCategoricalCrossentropy

    def __init__(self, name: str = "sparse_categorical_crossentropy", from_logits: bool = False):
        super().__init__(name, from_logits)

"""Metrics reported by ``fit``/``evaluate`` — Keras's metric objects and names.

Every metric follows one protocol (``refnn.metrics.base``): ``name`` (the logs key), ``direction``
(``"up"``/``"down"``/``None``), ``fused_activation``, ``reset_state()``,
``update_state(y_true, y_pred, sample_weight=None, *, from_logits=False)`` and ``result()``.

* ``refnn.metrics.functions`` — per-sample functions (``binary_accuracy``, ``mean_squared_error``, …);
* ``refnn.metrics.mean_metrics`` — their Keras classes (``BinaryAccuracy(threshold)``, ``MeanSquaredError``,
  ``RootMeanSquaredError``, ``TopKCategoricalAccuracy(k)``, the crossentropies, …);
* ``refnn.metrics.confusion``, ``refnn.metrics.auc`` — the threshold metrics ``Precision``, ``Recall``, ``AUC``.

``get`` takes what ``compile(metrics=[...])`` takes in Keras: a metric object, a metric class, a
Keras name (``"accuracy"``, ``"mse"``, ``"auc"``, ``"AUC"``, ``"top_k_categorical_accuracy"``, …; the
string itself is the logs key, as in Keras), or a plain function ``f(y_true, y_pred)`` returning
per-sample values (the mean metric named ``f.__name__`` in snake case, direction ``None``).
``"accuracy"``/``"acc"`` is resolved the way Keras resolves it, from the shapes (binary, sparse
categorical or categorical accuracy).
"""

from __future__ import annotations

import re
import sys

from refnn.metrics.auc import AUC
from refnn.metrics.base import MeanMetricWrapper, Metric
from refnn.metrics.confusion import Precision, Recall
from refnn.metrics.functions import (
    accuracy,
    binary_accuracy,
    binary_crossentropy,
    categorical_accuracy,
    categorical_crossentropy,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_accuracy,
    sparse_categorical_crossentropy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from refnn.metrics.mean_metrics import (
    BinaryAccuracy,
    BinaryCrossentropy,
    CategoricalAccuracy,
    CategoricalCrossentropy,
    MeanAbsoluteError,
    MeanSquaredError,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    SparseCategoricalCrossentropy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from refnn.utils.unsupported import missing_name, refuse_keras_object

__all__ = [
    "Metric", "MeanMetricWrapper", "get", "serialize", "deserialize",
    "AUC", "Precision", "Recall",
    "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "mean_squared_error",
    "mean_absolute_error", "categorical_crossentropy", "binary_crossentropy", "sparse_categorical_crossentropy",
]

#: the metric classes, by Keras's class name (also the ``class_name`` of a saved metric)
CLASSES = {cls.__name__: cls for cls in (
    AUC, Precision, Recall, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
    RootMeanSquaredError, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
)}


def to_snake_case(name: str) -> str:
    """Keras's ``naming.to_snake_case`` (``"TopKCategoricalAccuracy"`` → ``"top_k_categorical_accuracy"``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# Keras's ALL_OBJECTS_DICT for the classes refnn has: class names, their snake case, and aliases
_BY_NAME = {**CLASSES, **{to_snake_case(n): c for n, c in CLASSES.items()},
            "mse": MeanSquaredError, "mae": MeanAbsoluteError, "bce": BinaryCrossentropy}


def _from_string(identifier: str) -> Metric:
    if identifier.lower() in ("accuracy", "acc"):
        return Metric(identifier, accuracy, "up")
    cls = _BY_NAME.get(identifier) or _BY_NAME.get(identifier.lower())
    if cls is None:
        raise ValueError(
            f"Unknown metric. Each entry of `metrics` must be a Metric, a function f(y_true, y_pred) or one of "
            f"{sorted(set(_BY_NAME) | {'accuracy', 'acc'})}. Received: metrics entry {identifier!r}"
        )
    return cls(name=identifier)  # Keras: the string is the logs key


def get(identifier) -> Metric:
    """Return a metric object for a ``compile(metrics=[...])`` entry (module docstring)."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        return _from_string(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric) and identifier.__name__ in CLASSES:
        return identifier()
    refuse_keras_object("metrics", identifier, sys.modules[__name__])  # a Keras metric is callable too
    if callable(identifier) and not isinstance(identifier, type):
        return MeanMetricWrapper(identifier, name=to_snake_case(getattr(identifier, "__name__", "metric")))
    raise ValueError(
        "Unknown metric. Each entry of `metrics` must be a Metric, a metric class, a Keras metric name or a "
        f"function f(y_true, y_pred) returning per-sample values. Received: metrics entry {identifier!r}"
    )


def serialize(metric: Metric) -> dict | str:
    """A metric as JSON: ``{"class_name", "config"}`` for refnn's classes; an ``"accuracy"``-like
    string metric as its name. A metric of a function of its own cannot be serialised (ValueError)."""
    cls_name = type(metric).__name__
    if CLASSES.get(cls_name) is type(metric):
        return {"class_name": cls_name, "config": metric.get_config()}
    if type(metric) is Metric and metric.fn is accuracy:
        return metric.name
    raise ValueError(
        f"Cannot serialise metric {metric.name!r}: it computes a function of its own, which refnn cannot "
        "save; save the model uncompiled, or recompile it after loading. Received: "
        f"metric={metric!r}"
    )


def deserialize(config) -> Metric:
    """The inverse of ``serialize`` (a name is given to ``get``)."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or config.get("class_name") not in CLASSES:
        raise ValueError(
            f"Cannot deserialise metric: expected a name or {{'class_name': one of {sorted(CLASSES)}, 'config': "
            f"{{...}}}}. Received: {config!r}"
        )
    return CLASSES[config["class_name"]](**config.get("config", {}))


__getattr__ = missing_name(
    "refnn.metrics", ", ".join(n for n in __all__ if n[0].isupper()),
    {name: "A function f(y_true, y_pred) returning one value per row can be passed in `metrics` as it is."
     for name in ("CosineSimilarity", "KLDivergence", "LogCoshError", "MeanAbsolutePercentageError",
                  "MeanSquaredLogarithmicError", "Poisson", "Hinge", "SquaredHinge", "R2Score")},
)

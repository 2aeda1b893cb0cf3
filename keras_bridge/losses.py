"""Losses and metrics both ways: refnn ``Loss`` ↔ ``keras.losses.Loss``, metric names.

========================== ================================ =====================================
refnn                      Keras                            options carried
========================== ================================ =====================================
MeanSquaredError           ``keras.losses.MeanSquaredError``  reduction, name
MeanAbsoluteError          ``MeanAbsoluteError``              reduction, name
BinaryCrossentropy         ``BinaryCrossentropy``             from_logits, label_smoothing, reduction
CategoricalCrossentropy    ``CategoricalCrossentropy``        from_logits, label_smoothing, reduction
SparseCategoricalCross…    ``SparseCategoricalCrossentropy``  from_logits, reduction
SumSquaredError            none in Keras; ``plugins.SumSquaredError`` with ``plugins=True``
========================== ================================ =====================================

Both sides use the same formulas (``refnn.losses`` reproduces Keras's clipping, renormalisation,
reduction and the logits fusion of a softmax/sigmoid output), so a mapped loss gives the same
values. The Keras loss gets the model's ``dtype`` explicitly: a loss whose dtype differs from the
model's inserts a cast between the output activation and the loss, which disables Keras's logits
fusion (``docs/keras-numerics.md``).

Keras options with no refnn counterpart are refused: ``axis`` other than −1, ``ignore_class``,
the ``"mean_with_sample_weight"`` reduction, and every other loss class.
"""

from __future__ import annotations

import keras

from refnn import losses as rl
from refnn import metrics as rmetrics
from keras_bridge.errors import NotMappableError

__all__ = ["loss_to_keras", "loss_from_keras", "metrics_to_keras", "metrics_from_keras"]

_TO_KERAS = {
    rl.MeanSquaredError: "MeanSquaredError",
    rl.MeanAbsoluteError: "MeanAbsoluteError",
    rl.BinaryCrossentropy: "BinaryCrossentropy",
    rl.CategoricalCrossentropy: "CategoricalCrossentropy",
    rl.SparseCategoricalCrossentropy: "SparseCategoricalCrossentropy",
}
_FROM_KERAS = {name: cls for cls, name in _TO_KERAS.items()}
# keras.losses functions (compile(loss=keras.losses.mse)) and their string aliases
_FUNCTIONS = {
    "mean_squared_error": rl.MeanSquaredError,
    "mean_absolute_error": rl.MeanAbsoluteError,
    "binary_crossentropy": rl.BinaryCrossentropy,
    "categorical_crossentropy": rl.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": rl.SparseCategoricalCrossentropy,
}


def _keras_reduction(reduction: str):
    return None if reduction == "none" else reduction


def loss_to_keras(loss: rl.Loss, dtype: str, plugins: bool = False) -> keras.losses.Loss:
    """The Keras loss object computing the same value as the refnn ``loss``.

    Args:
        loss: a refnn loss instance.
        dtype: the model's dtype, given to the Keras loss.
        plugins: map ``SumSquaredError`` to ``keras_bridge.plugins.SumSquaredError``.

    Raises:
        NotMappableError: a loss with no Keras counterpart.
    """
    if isinstance(loss, rl.SumSquaredError):
        if not plugins:
            raise NotMappableError(
                "Loss SumSquaredError (E = ½Σe², reduction 'sum') has no stock Keras counterpart. "
                "Use to_keras(..., plugins=True) for keras_bridge.plugins.SumSquaredError, or compile "
                "the refnn model with 'mse'."
            )
        from keras_bridge.plugins.losses import SumSquaredError

        return SumSquaredError(reduction=_keras_reduction(loss.reduction), name=loss.name, dtype=dtype)
    name = _TO_KERAS.get(type(loss))
    if name is None:
        raise NotMappableError(
            f"Loss {type(loss).__name__} has no Keras counterpart in keras_bridge. Received: loss={loss!r}"
        )
    config = dict(loss.get_config())
    config["reduction"] = _keras_reduction(config["reduction"])
    return getattr(keras.losses, name)(**config, dtype=dtype)


def loss_from_keras(loss) -> rl.Loss:
    """The refnn loss for a Keras loss given as a ``Loss`` object, a string or a ``keras.losses``
    function (what ``compile(loss=...)`` accepts).

    Raises:
        NotMappableError: a loss or an option with no refnn counterpart.
    """
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except ValueError as exc:
            raise NotMappableError(f"Unknown Keras loss {loss!r}: {exc}") from None
    if isinstance(loss, keras.losses.Loss):
        from keras_bridge.plugins.losses import SumSquaredError

        if isinstance(loss, SumSquaredError):
            config = loss.get_config()
            return rl.SumSquaredError(reduction=config["reduction"] or "none", name=config["name"])
        cls_name = type(loss).__name__
        cls = _FROM_KERAS.get(cls_name)
        if cls is None:
            raise NotMappableError(
                f"Keras loss {cls_name} has no refnn counterpart. Supported: {sorted(_FROM_KERAS)}."
            )
        config = dict(loss.get_config())
        if config.pop("axis", -1) != -1:
            raise NotMappableError(
                f"Keras loss {cls_name}: option `axis` has no refnn counterpart (refnn reduces the last "
                f"axis). Received: axis={loss.get_config()['axis']!r}"
            )
        if config.pop("ignore_class", None) is not None:
            raise NotMappableError(
                f"Keras loss {cls_name}: option `ignore_class` has no refnn counterpart. Received: "
                f"ignore_class={loss.get_config()['ignore_class']!r}"
            )
        config.pop("dtype", None)
        reduction = config.get("reduction")
        if reduction == "mean_with_sample_weight":
            raise NotMappableError(
                f"Keras loss {cls_name}: reduction 'mean_with_sample_weight' has no refnn counterpart "
                "(refnn divides by the batch size, Keras's default 'sum_over_batch_size')."
            )
        config["reduction"] = "none" if reduction is None else reduction
        return cls(**config)
    if callable(loss):
        name = getattr(loss, "__name__", repr(loss))
        if name in _FUNCTIONS and getattr(keras.losses, name, None) is loss:
            return _FUNCTIONS[name]()
        raise NotMappableError(f"Keras loss function {name!r} has no refnn counterpart.")
    raise NotMappableError(f"Cannot map the Keras loss {loss!r} to refnn.")


def metrics_to_keras(metrics) -> list:
    """refnn's named metrics are Keras's metric names (``"accuracy"``, ``"mse"``, ...): passed
    through; a refnn metric under another name (mapped from a Keras metric object) goes back as
    that Keras metric class with that name.

    Raises:
        NotMappableError: a custom refnn metric (its own function) has no Keras counterpart.
    """
    out = []
    for metric in metrics:
        if _known_metric(metric.name):
            out.append(metric.name)
            continue
        cls = next((c for c, n in _METRIC_CLASSES.items() if rmetrics.get(n).fn is metric.fn), None)
        if cls is None:
            raise NotMappableError(f"refnn metric {metric.name!r} (a function of its own) has no Keras counterpart.")
        out.append(getattr(keras.metrics, cls)(name=metric.name))
    return out


#: Keras metric classes refnn computes alike → refnn metric name (the Keras default options only)
_METRIC_CLASSES = {
    "CategoricalAccuracy": "categorical_accuracy",
    "SparseCategoricalAccuracy": "sparse_categorical_accuracy",
    "BinaryAccuracy": "binary_accuracy",
    "MeanSquaredError": "mse",
    "MeanAbsoluteError": "mae",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
}
_METRIC_DEFAULTS = {
    "BinaryAccuracy": {"threshold": 0.5},
    "CategoricalCrossentropy": {"from_logits": False, "label_smoothing": 0.0, "axis": -1},
    "BinaryCrossentropy": {"from_logits": False, "label_smoothing": 0.0},
    "SparseCategoricalCrossentropy": {"from_logits": False, "ignore_class": None, "axis": -1},
}


def _metric_object_from_keras(spec: dict):
    """A refnn metric for a serialized Keras metric object, named as Keras names it (its history
    key), or ``None`` when refnn has no counterpart."""
    name = _METRIC_CLASSES.get(spec.get("class_name"))
    config = spec.get("config", {})
    if name is None or any(config.get(k, v) != v for k, v in _METRIC_DEFAULTS.get(spec["class_name"], {}).items()):
        return None
    base = rmetrics.get(name)
    return rmetrics.Metric(config.get("name", name), base.fn, base.direction)


def metrics_from_keras(metrics, set_aside: list | None = None) -> list:
    """Keras metrics from ``get_compile_config()["metrics"]`` → refnn metrics: names as they are,
    metric objects of the classes refnn computes alike (``CategoricalAccuracy()``, ``MeanSquaredError()``,
    …) under the name Keras gives them.

    Args:
        metrics: the compile config's ``metrics``.
        set_aside: a list to receive a description of each metric refnn cannot compute (e.g.
            ``AUC()``) instead of raising — metrics do not change the trained numbers.

    Raises:
        NotMappableError: a metric refnn does not have, when ``set_aside`` is ``None``.
    """
    if metrics is None:
        return []
    if isinstance(metrics, (str, dict)):
        metrics = [metrics]
    if isinstance(metrics, dict) or any(isinstance(m, list) for m in metrics):
        raise NotMappableError(
            f"Only a flat list of metrics maps to refnn. Received: metrics={metrics!r}"
        )
    out = []
    for m in metrics:
        mapped = _metric_object_from_keras(m) if isinstance(m, dict) else m if _known_metric(m) else None
        if mapped is not None:
            out.append(mapped)
            continue
        label = m.get("class_name", m) if isinstance(m, dict) else m
        if set_aside is None:
            raise NotMappableError(
                f"Keras metric {label!r} has no refnn counterpart; refnn computes 'accuracy', 'mse', 'mae', "
                "the accuracies, the crossentropies (from_logits=False) and their Keras metric classes."
            )
        set_aside.append(f"metric {label!r}: no refnn counterpart (not compared; it does not change training)")
    return out


def _known_metric(name) -> bool:
    if not isinstance(name, str):
        return False
    try:
        rmetrics.get(name)
    except ValueError:
        return False
    return True

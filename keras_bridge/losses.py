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
    """refnn metrics → what Keras's ``compile(metrics=...)`` takes.

    A metric ``refnn.metrics.get(name)`` rebuilds exactly (``"accuracy"``, ``"mse"``, ``"auc"``, …) goes
    as its name — Keras resolves it to the same class under the same logs key; any other metric of
    refnn's classes goes as the Keras class of that name with the same options and name
    (``AUC(curve="PR", name="pr_auc")`` → ``keras.metrics.AUC(curve="PR", name="pr_auc")``).
    Keras's top-k metrics cannot run in a float64 Keras model (TensorFlow's ``in_top_k`` is float32 only).

    Raises:
        NotMappableError: a custom refnn metric (its own function) has no Keras counterpart.
    """
    out = []
    for metric in metrics:
        if _rebuilt_by_name(metric):
            out.append(metric.name)
            continue
        cls_name = type(metric).__name__
        if rmetrics.CLASSES.get(cls_name) is not type(metric):
            raise NotMappableError(f"refnn metric {metric.name!r} (a function of its own) has no Keras counterpart.")
        out.append(getattr(keras.metrics, cls_name)(**metric.get_config()))
    return out


def _rebuilt_by_name(metric) -> bool:
    try:
        rebuilt = rmetrics.get(metric.name)
    except ValueError:
        return False
    same_fn = type(metric) is not rmetrics.Metric or rebuilt.fn is metric.fn
    return type(rebuilt) is type(metric) and rebuilt.get_config() == metric.get_config() and same_fn


#: Keras options refnn's metric classes do not take, with the value that is the same computation
_KERAS_ONLY_DEFAULTS = {"axis": -1, "ignore_class": None, "from_sorted_ids": False, "multi_label": False,
                        "num_labels": None, "label_weights": None}


def _metric_object_from_keras(spec: dict):
    """A refnn metric for a serialized Keras metric object, with its options and the name Keras gives
    it (its history key), or ``None`` when refnn has no counterpart (class or option)."""
    cls = rmetrics.CLASSES.get(spec.get("class_name"))
    if cls is None:
        return None
    config = {k: v for k, v in spec.get("config", {}).items() if k != "dtype"}
    for key, default in _KERAS_ONLY_DEFAULTS.items():
        if key in config and config[key] != default:
            return None
        if cls.__name__ != "AUC":
            config.pop(key, None)
    try:
        return cls(**config)
    except (TypeError, ValueError):
        return None


def metrics_from_keras(metrics, set_aside: list | None = None) -> list:
    """Keras metrics from ``get_compile_config()["metrics"]`` → refnn metrics: names refnn knows as they are
    (``"accuracy"``, ``"auc"``, …), metric objects of the classes refnn has (``AUC``, ``Precision``,
    ``Recall``, the accuracies, ``TopKCategoricalAccuracy``, ``MeanSquaredError``, ``RootMeanSquaredError``,
    the crossentropies, …) with their options, under the name Keras gives them.

    Args:
        metrics: the compile config's ``metrics``.
        set_aside: a list to receive a description of each metric refnn cannot compute (e.g.
            ``F1Score()``, ``AUC(multi_label=True)``) instead of raising — metrics do not change the
            trained numbers.

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
        mapped = _metric_object_from_keras(m) if isinstance(m, dict) else rmetrics.get(m) if _known_metric(m) else None
        if mapped is not None:
            out.append(mapped)
            continue
        label = m.get("class_name", m) if isinstance(m, dict) else m
        if set_aside is None:
            raise NotMappableError(
                f"Keras metric {label!r} (with these options) has no refnn counterpart; refnn computes "
                f"{sorted(rmetrics.CLASSES)} (AUC without multi_label) and their names."
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

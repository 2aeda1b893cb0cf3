"""What Keras's monitoring callbacks share (``keras.callbacks.MonitorCallback``): the comparison of a
monitored value with the best so far, and reading and setting the optimizer's learning rate."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from refnn.callbacks.base import Callback, monitor_direction
from refnn.optimizers.base import ModelOptimizer
from refnn.utils.validation import check_choice

__all__ = ["MonitorCallback", "BatchCounter", "read_learning_rate", "assign_learning_rate", "check_monitor",
           "check_number", "check_save_freq", "resolve_direction", "warn_missing_monitor"]

#: the ``mode`` values of every monitoring callback
MODES = ("auto", "min", "max")


def check_monitor(monitor) -> str:
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(f"`monitor` must be a non-empty string. Received: monitor={monitor!r}")
    return monitor


def check_number(name: str, value, *, optional: bool = False, finite: bool = False) -> float | None:
    """A real number (``None`` allowed if ``optional``; ±inf refused if ``finite``), as a float; NaN refused."""
    if value is None and optional:
        return None
    if (not isinstance(value, numbers.Real) or isinstance(value, bool) or math.isnan(value)
            or (finite and math.isinf(value))):
        kind = "a finite number" if finite else "a number"
        raise ValueError(f"`{name}` must be {kind}{' or None' if optional else ''}. Received: {name}={value!r}")
    return float(value)


def check_save_freq(save_freq) -> str | int:
    """``"epoch"`` or a positive number of batches, as ``int`` (``ModelCheckpoint``'s and
    ``BackupAndRestore``'s ``save_freq``)."""
    if save_freq == "epoch":
        return save_freq
    if isinstance(save_freq, (int, np.integer)) and not isinstance(save_freq, bool) and save_freq > 0:
        return int(save_freq)
    raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or a positive "
                     "integer number of batches.")


class BatchCounter:
    """Says every ``every`` batches that a save is due, counting batches across epochs as Keras's
    ``ModelCheckpoint`` and ``BackupAndRestore`` do: ``fit`` numbers batches from 0 in each epoch,
    so a batch number not above the last one seen starts a new epoch and adds ``batch + 1``;
    otherwise ``batch − last`` batches were added. The last batch starts at −1, so that the
    first batch adds ``0 − (−1) = 1`` by the same rule."""

    def __init__(self, every: int):
        self.every = every
        self.batches_since_last_save = 0
        self.last_batch_seen = -1

    def due(self, batch: int) -> bool:
        """Count ``batch`` (0-based within its epoch); ``True`` when ``every`` batches are reached."""
        added = batch + 1 if batch <= self.last_batch_seen else batch - self.last_batch_seen
        self.batches_since_last_save += added
        self.last_batch_seen = batch
        if self.batches_since_last_save >= self.every:
            self.batches_since_last_save = 0
            return True
        return False


def resolve_direction(callback: Callback, mode: str, monitor: str) -> str:
    """``"min"`` or ``"max"``: ``mode`` itself, or for ``mode="auto"`` the monitor's direction
    (``monitor_direction``: "min" for ``loss``/``val_loss``, else the compiled metric's)."""
    return mode if mode != "auto" else monitor_direction(callback, monitor)


def warn_missing_monitor(callback: Callback, monitor: str, logs) -> None:
    """Warn (at the caller's caller: ``fit``'s callback loop) that ``logs`` has no ``monitor``."""
    warnings.warn(f"{type(callback).__name__} is conditioned on `{monitor}`, which is not in the logs. "
                  f"Available keys: {', '.join(logs or {})}", stacklevel=3)


class MonitorCallback(Callback):
    """A callback that watches ``logs[monitor]`` for improvements, Keras's ``MonitorCallback``
    (the base of ``EarlyStopping``, ``ReduceLROnPlateau`` and ``ModelCheckpoint``).

    With ``d = |min_delta|`` and ``T`` the ``comparison_dtype``::

        improved(a, ref) = ref is None  or  T(a + d) < T(ref)   (mode "min", strict)
                                        or  T(a − d) > T(ref)   (mode "max", strict)

    **Float32 comparison (Keras on TensorFlow).** Keras computes ``a ∓ d`` on Python floats and
    hands the result to ``keras.ops.less`` / ``greater``, which turn Python floats into *float32*
    tensors even under ``floatx="float64"``: two values closer than float32's resolution (~6e-8
    relative) are "no improvement". refnn does the same by default (``comparison_dtype="float32"``);
    ``"float64"`` compares exactly (and has no Keras counterpart).

    ``mode="auto"`` is "min" for ``loss``/``val_loss`` and the metric's direction otherwise,
    resolved when first needed (the model's metrics are known by then).

    Args:
        monitor: the log key to watch.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        baseline: the initial ``best`` (``None``: the first value is an improvement).
        min_delta: an improvement must exceed ``|min_delta|``.
        comparison_dtype: ``"float32"`` (Keras) or ``"float64"`` (exact).
        baseline_name: the name a bad ``baseline`` is reported under (a subclass's own argument
            name, e.g. ``ModelCheckpoint``'s ``initial_value_threshold``).
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: float | None = None,
                 min_delta: float = 0.0, comparison_dtype: str = "float32", baseline_name: str = "baseline"):
        super().__init__()
        self.monitor = check_monitor(monitor)
        self.mode = check_choice("mode", mode, MODES)
        self.best = check_number(baseline_name, baseline, optional=True)
        self.min_delta = abs(check_number("min_delta", min_delta))
        self.comparison_dtype = np.dtype(check_choice("comparison_dtype", comparison_dtype, ("float32", "float64")))
        self.direction: str | None = None

    def _resolve_direction(self) -> str:
        if self.direction is None:
            self.direction = resolve_direction(self, self.mode, self.monitor)
        return self.direction

    def _is_improvement(self, value, reference) -> bool:
        if reference is None:
            return True
        cast = self.comparison_dtype.type
        with np.errstate(over="ignore", invalid="ignore"):
            if self._resolve_direction() == "min":
                return bool(cast(float(value) + self.min_delta) < cast(reference))
            return bool(cast(float(value) - self.min_delta) > cast(reference))


def read_learning_rate(model) -> float:
    """``float(optimizer.learning_rate)`` as Keras reads it: the rate of the next update (a schedule
    evaluated at the step count), in the model's dtype — Keras holds a float rate in a variable of
    dtype ``floatx``, so a float32 run reads ``float32(0.3)`` = 0.30000001192092896 where 0.3 was
    given (refnn's float32 update uses that value too: it casts the rate to the weights' dtype)."""
    optimizer = _optimizer(model)
    dtype = np.dtype(getattr(model, "dtype", np.float64))
    return float(dtype.type(optimizer.current_learning_rate()))


def assign_learning_rate(model, value: float) -> float:
    """Set the optimizer's learning rate to ``value`` and return what it holds afterwards.

    Keras keeps a float learning rate in a variable of dtype ``floatx``, so in float32 runs an
    assigned rate is rounded to float32 (and the next reading returns the rounded value); refnn
    rounds to the model's dtype the same way. In float64 runs nothing is rounded.
    """
    optimizer = _optimizer(model)
    dtype = np.dtype(getattr(model, "dtype", np.float64))
    optimizer.learning_rate = float(dtype.type(value))
    return float(optimizer.learning_rate)


def _optimizer(model):
    optimizer = getattr(model, "optimizer", None)
    if isinstance(optimizer, ModelOptimizer):
        raise ValueError(f"{type(optimizer).__name__} has no learning rate to read or set (it steps the whole "
                         "model with its own damping): use this callback with a gradient optimizer.")
    if optimizer is None or not hasattr(optimizer, "current_learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute: compile the model with a '
                         f"gradient optimizer. Received: optimizer={optimizer!r}")
    return optimizer

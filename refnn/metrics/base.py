"""The metric protocol and the mean metric (Keras's ``Metric`` and ``MeanMetricWrapper``).

Every metric object has

* ``name`` — its key in the logs (``history.history[name]``, ``val_`` + name);
* ``direction`` — ``"up"`` (higher is better), ``"down"`` or ``None``; ``EarlyStopping(mode="auto")``
  reads it, as Keras reads ``Metric._direction``;
* ``fused_activation`` — ``"softmax"``/``"sigmoid"`` for the crossentropies (the output activation
  whose logits the metric may be given), else ``None``;
* ``reset_state()``, ``update_state(y_true, y_pred, sample_weight=None, *, from_logits=False)`` and
  ``result() -> float``.

``update_state`` takes ``y_true`` as the model checked it — 2-D floats ``(N, units)``, or 1-D integer
class ids for the sparse metrics —, ``y_pred`` the ``(N, units)`` outputs (the logits when
``from_logits=True``, which is only ever passed to a metric whose ``fused_activation`` is set), and
``sample_weight`` ``None`` or ``(N,)`` floats.

The mean metric (``Metric(name, fn, direction)``, Keras's ``MeanMetricWrapper``) accumulates

    total += Σ_n w_n m_n,   count += Σ_n w_n   (w_n = 1 without weights),   result = total / count

with ``m_n = fn(y_true, y_pred)`` the per-sample values; ``result`` is 0 while ``count`` is 0
(Keras's ``divide_no_nan``). A function returning one scalar per call adds it with weight 1 per
call (Keras's ``Mean`` of a 0-d value: the unweighted mean of the batch values); with sample
weights Keras cannot broadcast the ``(N,)`` weights onto the scalar and fails, and refnn refuses
with a ValueError. refnn accumulates in float64 whatever the model's dtype (Keras in its metric
dtype, ``floatx``).
"""

from __future__ import annotations

import numpy as np

from refnn.utils.validation import check_choice

__all__ = ["Metric", "MeanMetricWrapper", "sample_weights"]


def sample_weights(sample_weight, n: int) -> np.ndarray | None:
    """``sample_weight`` as a float64 ``(n,)`` array (``(n, 1)`` accepted), or ``None``."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n,):
        raise ValueError(
            "`sample_weight` must hold one weight per sample, shape (N,). Received: "
            f"sample_weight.shape={np.shape(sample_weight)} for N={n} samples"
        )
    return w


class Metric:
    """A metric: its state, updated batch by batch, and its result.

    Constructed as ``Metric(name, fn, direction=None)`` it is the mean metric (Keras's
    ``MeanMetricWrapper``): the sample-weighted mean of ``fn(y_true, y_pred)`` over every row seen
    since ``reset_state``. Subclasses with another state (``AUC``, ``Precision``, ...) override
    ``reset_state``, ``update_state`` and ``result`` and call ``super().__init__(name, None, direction)``.

    ``direction`` is ``"up"`` (accuracies: higher is better), ``"down"`` (errors) or ``None``
    (unknown); ``EarlyStopping(mode="auto")`` reads it, as Keras reads ``Metric._direction``.
    """

    def __init__(self, name: str, fn=None, direction: str | None = None):
        check_choice("direction", direction, ("up", "down", None))
        if not isinstance(name, str) or not name:
            raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")
        if fn is not None and not callable(fn):
            raise TypeError(f"`fn` must be a callable fn(y_true, y_pred). Received: fn={fn!r}")
        self.name = name
        self.fn = fn
        self.direction = direction
        self.reset_state()

    @property
    def fused_activation(self) -> str | None:
        """The output activation whose logits this metric computes from (the crossentropies)."""
        return getattr(self.fn, "fused_activation", None)

    # ---- the protocol -----------------------------------------------------------------------
    def reset_state(self) -> None:
        """Forget every batch seen."""
        self.total = 0.0
        self.count = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None, *, from_logits: bool = False) -> None:
        """Add ``Σ w_n m_n`` to ``total`` and ``Σ w_n`` to ``count`` (``m`` = per-sample values)."""
        values = np.asarray(self._values(y_true, y_pred, from_logits), dtype=np.float64)
        if values.ndim == 0:
            if sample_weight is not None:
                raise ValueError(
                    f"Metric {self.name!r}: its function returned one scalar for the batch, which cannot "
                    "take per-sample weights (Keras fails too); return one value per sample. Received: "
                    f"sample_weight.shape={np.shape(sample_weight)}"
                )
            self.total += float(values)
            self.count += 1.0
            return
        if values.ndim > 1:  # Keras reduces the trailing axes by their mean
            values = values.reshape(values.shape[0], -1).mean(axis=1)
        w = sample_weights(sample_weight, values.shape[0])
        if w is None:
            self.total += float(values.sum())
            self.count += float(values.shape[0])
        else:
            self.total += float(np.sum(values * w))
            self.count += float(w.sum())

    def result(self) -> float:
        """``total / count``; 0 when ``count`` is 0 (Keras's ``divide_no_nan``)."""
        return self.total / self.count if self.count != 0 else 0.0

    # ---- per-sample values (mean metrics only) ------------------------------------------------
    def __call__(self, y_true, y_pred, from_logits: bool = False) -> np.ndarray:
        """Per-sample values; ``from_logits=True`` (a crossentropy only): ``y_pred`` are logits."""
        if self.fn is None:
            raise TypeError(
                f"Metric {self.name!r} ({type(self).__name__}) has no per-sample values: it is computed from "
                "its state over all rows; use update_state(y_true, y_pred) and result()."
            )
        return self._values(y_true, y_pred, from_logits)

    def _values(self, y_true, y_pred, from_logits):
        return self.fn(y_true, y_pred, from_logits=True) if from_logits else self.fn(y_true, y_pred)

    def get_config(self) -> dict:
        """The constructor arguments (for saving and ``keras_bridge``)."""
        return {"name": self.name}

    def __repr__(self):
        if type(self) is Metric:
            return f"Metric({self.name!r})"
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MeanMetricWrapper(Metric):
    """Keras's spelling: ``MeanMetricWrapper(fn, name=None, direction=None, **fn_kwargs)``, the mean
    of ``fn(y_true, y_pred, **fn_kwargs)``; ``name`` defaults to ``fn.__name__``."""

    def __init__(self, fn, name: str | None = None, direction: str | None = None, **fn_kwargs):
        if not callable(fn):
            raise TypeError(f"`fn` must be a callable fn(y_true, y_pred). Received: fn={fn!r}")
        self.fn_kwargs = fn_kwargs
        wrapped = fn

        if fn_kwargs:
            def wrapped(y_true, y_pred):
                return fn(y_true, y_pred, **fn_kwargs)

        super().__init__(name or getattr(fn, "__name__", "mean_metric_wrapper"), wrapped, direction)

    def get_config(self) -> dict:
        return {"name": self.name, "direction": self.direction, **self.fn_kwargs}

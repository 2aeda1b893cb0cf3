"""Per-sample weights for ``fit``, ``evaluate`` and the batch methods: ``sample_weight`` and
``class_weight`` checked and converted as Keras 3 converts them.

With weights ``w_n`` the batch loss is Keras's ``sum_over_batch_size`` of the weighted values,

    E_b = Σ_n w_n ℓ_n / N_b          (N_b = rows of the batch, *not* Σ w_n)

(``keras.losses.loss.reduce_values`` divides by the number of values), and a metric is the
weighted mean over everything it has seen, ``Σ w_n m_n / Σ w_n`` (``keras.metrics.Mean``).
``class_weight={c: w_c}`` is turned into ``w_n = class_weight.get(c_n, 1)`` with Keras's rule for
the class ``c_n`` of a row (``data_adapter_utils.class_weight_to_sample_weights``): ``argmax`` of
a one-hot row, the value itself for class ids or a single (sigmoid) unit, rounded to an integer.
"""

from __future__ import annotations

import numbers

import numpy as np

from refnn.utils.validation import check_finite_array

__all__ = ["class_weight_to_sample_weights", "check_sample_weight", "refuse_both_weightings", "training_sample_weight",
           "unpack_validation_data"]


def _check_class_weight(class_weight) -> dict:
    if not isinstance(class_weight, dict):
        raise TypeError(
            "`class_weight` must be a dict {class index: weight}. "
            f"Received: class_weight={class_weight!r} of type {type(class_weight).__name__}"
        )
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral):
            raise ValueError(f"`class_weight` keys must be integer class indices. Received: key {key!r}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ValueError(
                f"`class_weight` values must be finite numbers. Received: class_weight[{key!r}]={value!r}")
    return class_weight


def class_weight_to_sample_weights(y, class_weight: dict, dtype="float64") -> np.ndarray:
    """``w_n = class_weight.get(c_n, 1.0)``, Keras's conversion exactly.

    ``c_n`` is ``argmax y_n`` when ``y`` is 2-D with more than one column (one-hot), else the
    value of ``y_n`` (class ids, or the 0/1 target of a single sigmoid unit) rounded to an integer;
    classes missing from the dict get weight 1.
    """
    class_weight = _check_class_weight(class_weight)
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    classes = np.round(y).astype(np.int64).reshape(-1)
    table = {int(k): float(v) for k, v in class_weight.items()}
    return np.array([table.get(int(c), 1.0) for c in classes], dtype=dtype)


def check_sample_weight(name: str, sample_weight, n: int, dtype) -> np.ndarray | None:
    """``sample_weight`` as a float vector of ``n`` entries (``(N,)`` or ``(N, 1)`` accepted),
    or ``None``."""
    if sample_weight is None:
        return None
    w = check_finite_array(name, sample_weight, dtype=dtype)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(
            f"`{name}` must hold one weight per row of x: shape ({n},). Received: {name}.shape={w.shape}")
    return w


def refuse_both_weightings(sample_weight, class_weight) -> None:
    """Keras takes ``sample_weight`` or ``class_weight``, not both."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError(
            "Arguments `sample_weight` and `class_weight` cannot be specified at the same time "
            "(Keras refuses them too). Fold the class weights into the sample weights instead. "
            f"Received: class_weight={class_weight!r} and a sample_weight")


def training_sample_weight(y: np.ndarray, sample_weight, class_weight, dtype) -> np.ndarray | None:
    """The per-row weights of one batch of training data from ``sample_weight`` or ``class_weight``."""
    refuse_both_weightings(sample_weight, class_weight)
    if class_weight is None:
        return check_sample_weight("sample_weight", sample_weight, y.shape[0], dtype)
    return class_weight_to_sample_weights(y, class_weight, dtype)


def unpack_validation_data(validation_data) -> tuple:
    """``(x_val, y_val, sample_weight_val or None)`` from a tuple ``(x, y)`` or ``(x, y, w)``."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        entries = f" with {len(validation_data)} entries" if isinstance(validation_data, (tuple, list)) else ""
        raise ValueError(
            "`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight). "
            f"Received: validation_data of type {type(validation_data).__name__}{entries}")
    if len(validation_data) == 2:
        return validation_data[0], validation_data[1], None
    return tuple(validation_data)

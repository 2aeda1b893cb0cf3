"""Argument checks shared by every public constructor and entry point.

Every message names the argument and echoes the value, in Keras's form::

    ValueError: `units` must be a positive integer. Received: units=0
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_bool",
    "check_choice",
    "check_class_ids",
    "check_full_batch",
    "check_positive_int",
    "check_non_negative_int",
    "check_float",
    "check_dtype",
    "check_finite_array",
    "check_numeric_array",
    "check_seed",
    "check_no_unknown_kwargs",
]


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_bool(name: str, value) -> bool:
    """Return ``value`` as ``bool`` if it is a Python or NumPy bool, else raise ``TypeError``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return bool(value)


def check_choice(name: str, value, choices):
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them."""
    if isinstance(value, (list, dict, set)) or value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}")
    return value


def check_positive_int(name: str, value) -> int:
    """Return ``value`` as ``int`` if it is an integer >= 1, else raise."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_non_negative_int(name: str, value) -> int:
    """Return ``value`` as ``int`` if it is an integer >= 0, else raise."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
    return int(value)


def check_float(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as ``float`` if it is a finite real number inside the interval.

    Raises:
        ValueError: naming ``name``, the interval and the value received.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high if high_inclusive else value < high
    if not ok:
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        interval = ("[" if low_inclusive and low is not None else "(") + f"{lo}, {hi}" + (
            "]" if high_inclusive and high is not None else ")"
        )
        raise ValueError(f"`{name}` must be a float in {interval}. Received: {name}={value!r}")
    return float(value)


def check_dtype(name: str, value) -> np.dtype:
    """Accept ``"float32"`` or ``"float64"`` (or the NumPy types) and return the dtype."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype not in (np.dtype("float32"), np.dtype("float64")):
        raise ValueError(f'`{name}` must be "float32" or "float64". Received: {name}={value!r}')
    return dtype


def check_numeric_array(name: str, value, dtype=None, ndim: int | None = None) -> np.ndarray:
    """Convert ``value`` to a real numeric array (bool, integer or float) or raise.

    Args:
        name: the argument's name, for the message.
        value: anything ``np.asarray`` accepts.
        dtype: the dtype to convert to (``None`` keeps the array's own).
        ndim: the required number of dimensions, if any.
    """
    original = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if np.iscomplexobj(original):
        raise TypeError(f"`{name}` must be a real array. Received: {name} with dtype={original.dtype}")
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"`{name}` must be a numeric array. Received: {name} of type "
            f"{type(value).__name__} ({exc})"
        ) from None
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"`{name}` must be a numeric array. Received: {name} with dtype={arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"`{name}` must be a {ndim}-D array. Received: {name} with shape={arr.shape}"
        )
    return arr


def check_finite_array(name: str, value, dtype=None, ndim: int | None = None) -> np.ndarray:
    """``check_numeric_array``, and refuse NaN and inf (naming the first offending entry)."""
    arr = check_numeric_array(name, value, dtype=dtype, ndim=ndim)
    # One summation pass finds NaN/inf (they propagate); only a non-finite sum — or an overflow of
    # huge finite values — pays for the element-wise scan that locates the culprit.
    if np.issubdtype(arr.dtype, np.inexact) and not np.isfinite(arr.sum()) and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"`{name}` must contain only finite values. Received: {name}[{', '.join(map(str, bad))}]"
            f"={arr[tuple(bad)].item()!r}"
        )
    return arr


def check_class_ids(name: str, labels, num_classes: int | None = None) -> np.ndarray:
    """Integer class ids as an ``int64`` vector: shape ``(N,)`` or ``(N, 1)``, whole numbers in
    ``[0, num_classes)`` (any non-negative whole number when ``num_classes`` is ``None``).

    Float arrays of whole numbers are accepted (``[0., 2.]``), as Keras accepts them.

    Raises:
        ValueError: naming ``name`` and the first offending value (or the shape).
    """
    labels = check_numeric_array(name, labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(
            f"`{name}` must hold one integer class id per row, shape (N,) or (N, 1). "
            f"Received: {name}.shape={labels.shape}"
        )
    upper = np.inf if num_classes is None else num_classes
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(labels) | (labels != np.round(labels)) | (labels < 0) | (labels >= upper) \
            if labels.dtype.kind == "f" else (labels < 0) | (labels >= upper)
    if np.any(bad):
        interval = "non-negative integers" if num_classes is None else f"integer class ids in [0, {num_classes})"
        raise ValueError(f"`{name}` must hold {interval}. Received: {name} value {labels[bad][0].item()!r}")
    return labels.astype(np.int64)


def check_seed(name: str, value) -> int | None:
    """A seed is ``None`` or a non-negative integer (not a bool)."""
    if value is not None and (not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0):
        raise ValueError(f"`{name}` must be a non-negative integer or None. Received: {name}={value!r}")
    return None if value is None else int(value)


def check_no_unknown_kwargs(owner: str, kwargs: dict) -> None:
    """Refuse keyword arguments a constructor does not know (Keras does the same)."""
    if kwargs:
        names = ", ".join(sorted(kwargs))
        raise TypeError(f"{owner} got unexpected keyword argument(s): {names}. Received: {kwargs!r}")


def check_full_batch(method: str, batch_size, rows: int, default: tuple[int, str] | None = None) -> None:
    """Refuse a ``batch_size`` below the number of training ``rows`` for a full-batch ``method``
    (Rprop, Quickprop, Levenberg–Marquardt need the gradient of the whole training set).
    ``default = (size, whose)`` is what ``batch_size=None`` means (e.g. ``(32, "Keras's")``)."""
    effective = default[0] if batch_size is None and default else batch_size
    if effective < rows:
        note = f" ({default[1]} default, {default[0]})" if batch_size is None and default else ""
        raise ValueError(
            f"{method} is a full-batch method: it needs the gradient of the whole training set. Use "
            f"batch_size >= {rows} (the number of training rows). Received: batch_size={batch_size!r}{note}"
        )

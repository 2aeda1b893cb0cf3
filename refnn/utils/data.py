"""Data helpers: one-hot encoding, train/test splits, batch iteration."""

from __future__ import annotations

import numpy as np

from refnn.utils.validation import (check_bool, check_class_ids, check_float, check_numeric_array, check_positive_int,
                                    check_seed)

__all__ = ["one_hot", "train_test_split", "split_validation", "batches", "weighted_batches"]


def one_hot(labels, num_classes: int | None = None, dtype="float64", *, name: str = "labels") -> np.ndarray:
    """``one_hot([0, 2], 3) = [[1, 0, 0], [0, 0, 1]]``: ``out[n, labels_n] = 1``, one row per id of the
    flattened ``labels``; ``num_classes`` defaults to ``max(labels) + 1``. ``name`` is the argument the
    messages name (``to_categorical`` passes ``"x"``)."""
    k = None if num_classes is None else check_positive_int("num_classes", num_classes)
    labels = check_class_ids(name, check_numeric_array(name, labels).reshape(-1), k)
    if k is None:
        if labels.size == 0:
            raise ValueError(f"`{name}` is empty, so the number of classes is unknown: pass `num_classes`. "
                             f"Received: {name}=[]")
        k = int(labels.max()) + 1
    out = np.zeros((labels.size, k), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out


def train_test_split(x, y, test_size: float = 0.25, seed: int | None = None, stratify: bool = False):
    """Shuffle with ``seed`` and split; ``stratify`` keeps the class proportions of ``y``
    (class ids or one-hot). The test set gets ``round(N·test_size)`` rows (per class when
    stratified).

    Raises:
        ValueError: x and y of different lengths, or a split that leaves a side empty (or, when
            stratified, with fewer rows than classes) — scikit-learn's messages.
    """
    x, y = np.asarray(x), np.asarray(y)
    test_size = check_float("test_size", test_size, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    rng = np.random.default_rng(check_seed("seed", seed))
    n = x.shape[0] if x.ndim else 0
    if y.ndim == 0 or y.shape[0] != n:
        rows_y = y.shape[0] if y.ndim else 0
        raise ValueError(f"Found input variables with inconsistent numbers of samples: [{n}, {rows_y}]")
    if check_bool("stratify", stratify):
        test = _stratified_test_rows(y, test_size, rng)
        mask = np.ones(n, bool)
        mask[test] = False
        train, test = rng.permutation(np.flatnonzero(mask)), rng.permutation(test)
    else:
        order = rng.permutation(n)
        n_test = int(round(n * test_size))
        test, train = order[:n_test], order[n_test:]
        for side, rows in (("train", train), ("test", test)):
            if rows.size == 0:
                raise ValueError(
                    f"With n_samples={n}, test_size={test_size} and train_size=None, the resulting {side} set "
                    "will be empty. Adjust any of the aforementioned parameters."
                )
    return x[train], x[test], y[train], y[test]


def _stratified_test_rows(y: np.ndarray, test_size: float, rng: np.random.Generator) -> np.ndarray:
    labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    classes = np.unique(labels)
    test = []
    for cls in classes:
        idx = rng.permutation(np.flatnonzero(labels == cls))
        test.extend(idx[: int(round(len(idx) * test_size))])
    n_test, n_train = len(test), labels.size - len(test)
    for side, count in (("test", n_test), ("train", n_train)):
        if count < classes.size:
            raise ValueError(
                f"The {side}_size = {count} should be greater or equal to the number of classes = {classes.size}"
            )
    return np.sort(np.asarray(test, dtype=np.int64))


def split_validation(x: np.ndarray, y: np.ndarray, validation_split: float):
    """Keras's ``validation_split``: the *last* ``N − ⌊N·(1 − v)⌋`` rows are held out, before any
    shuffling. Returns ``(x_train, y_train, x_val, y_val)`` (``x_val = y_val = None`` for
    ``v = 0``).

    Raises:
        ValueError: ``v`` outside ``[0, 1)``, or a split that leaves an empty side.
    """
    validation_split = check_float("validation_split", validation_split, low=0.0, high=1.0,
                                   high_inclusive=False)
    if not validation_split:
        return x, y, None, None
    n = x.shape[0]
    split_at = int(n * (1.0 - validation_split))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"`validation_split` leaves an empty training or validation set for {n} rows. "
            f"Received: validation_split={validation_split!r}"
        )
    return x[:split_at], y[:split_at], x[split_at:], y[split_at:]


def batches(n: int, batch_size: int):
    """Yield ``slice`` objects of consecutive batches; the last may be smaller (Keras)."""
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def weighted_batches(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None, batch_size: int,
                     order: np.ndarray | None = None):
    """Yield ``(x_batch, y_batch, w_batch)`` over the rows in ``order`` (all rows in turn if
    ``None``); ``w_batch`` is ``None`` when ``sample_weight`` is.

    Batches are consecutive slices of the ordered rows; the last holds ``N mod batch_size`` rows
    (Keras). Each shuffled batch is one fancy-index gather: the same copying in total as gathering
    the whole permuted data set once per epoch (measured: equally fast), without holding a second
    copy of the data set in memory.
    """
    for rows in batches(x.shape[0], batch_size):
        idx = rows if order is None else order[rows]
        yield x[idx], y[idx], None if sample_weight is None else sample_weight[idx]

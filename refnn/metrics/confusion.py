"""Threshold metrics: ``Precision``, ``Recall`` and ``AUC`` (Keras's ``confusion_metrics``).

They keep weighted confusion counts over every batch (``refnn.metrics.counting``) and compute the
result from the totals, so they have no per-sample values. ``divide_no_nan``: a 0/0 ratio is 0.

* ``Precision = TP / (TP + FP)``, ``Recall = TP / (TP + FN)`` at ``thresholds`` (default 0.5; one
  result per threshold when given a list). ``top_k``: only the k highest predictions of a row stay
  (ties to the lower index, as ``top_k``), the others become −1e10, and the default threshold is −1e10;
  ``class_id``: only that column.
* ``AUC``: counts at ``T = num_thresholds`` thresholds ``[−ε, 1/(T−1), …, (T−2)/(T−1), 1 + ε]``
  (ε = 1e-7), or ``[−ε] + sorted(thresholds) + [1 + ε]``; then with recall ``R = TP/(TP+FN)``,
  false positive rate ``F = FP/(FP+TN)`` and precision ``P = TP/(TP+FP)``:

  - ROC: ``Σ_i (F_i − F_{i+1})·h_i``; PR: ``Σ_i (R_i − R_{i+1})·h_i`` (x = R, y = P); with
    ``h_i = (y_i + y_{i+1})/2`` ("interpolation"), ``min`` ("minoring") or ``max`` ("majoring");
  - PR with "interpolation" is Davis & Goadrich's: with ``p = TP + FP``, on each interval
    ``slope = ΔTP/max(Δp, 0)``, ``intercept = TP_{i+1} − slope·p_{i+1}`` and the area
    ``slope·(ΔTP + intercept·log(p_i/p_{i+1})) / (TP_{i+1} + FN_{i+1})`` (the log term is 0 unless
    both p > 0);
  - PRGAIN: precision/recall gains, as Keras.

  The textbook ROC AUC is the probability that a random positive scores above a random negative
  (exact, over all distinct scores); Keras's (and refnn's) is the trapezoid sum on the fixed grid,
  which differs by up to about 1/T on separable or tied data.

Keras counts in its metric dtype (``floatx``, float32 by default); refnn counts in float64, which
equals Keras under ``keras.config.set_floatx("float64")``. Keras's default names are made unique per
session (a second ``AUC()`` is named ``"auc_1"``); refnn's are not.
"""

from __future__ import annotations

import numbers

import numpy as np

from refnn.metrics.base import Metric, sample_weights
from refnn.metrics.counting import confusion_counts, evenly_distributed
from refnn.utils.validation import check_non_negative_int, check_positive_int

__all__ = ["Precision", "Recall"]

NEG_INF = -1e10  # keras.src.metrics.metrics_utils.NEG_INF


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``divide_no_nan``: 0 where the denominator is 0."""
    return np.where(den == 0, 0.0, num / np.where(den == 0, 1.0, den))


def _check_thresholds(name: str, thresholds, low=0.0, high=1.0) -> list:
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    ok = bool(values) and all(isinstance(t, numbers.Real) and not isinstance(t, bool) and np.isfinite(t)
                              and (low is None or low <= t <= high) for t in values)
    if not ok:
        where = "" if low is None else f" in [{low}, {high}]"
        raise ValueError(f"`{name}` must be a float or a non-empty list of floats{where}. "
                         f"Received: {name}={thresholds!r}")
    return [float(t) for t in values]


def _as_pairs(owner: str, y_true, y_pred):
    """``y_true``/``y_pred`` as arrays of one 2-D shape (float64; float32 predictions stay float32);
    ``(N,)`` is read as ``(N, 1)``."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred)
    y_pred = y_pred if y_pred.dtype == np.float32 else y_pred.astype(np.float64, copy=False)  # the model's dtype
    y_true = y_true[:, None] if y_true.ndim == 1 else y_true
    y_pred = y_pred[:, None] if y_pred.ndim == 1 else y_pred
    if y_true.shape != y_pred.shape or y_pred.ndim != 2:
        raise ValueError(
            f"{owner} needs y_true and y_pred of one shape (N, units) — one-hot or 0/1 labels, not class ids. "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    return y_true, y_pred


def _filter_top_k(y_pred: np.ndarray, k: int) -> np.ndarray:
    """Keep each row's k highest values (ties: lower index first), the rest become NEG_INF."""
    order = np.argsort(-y_pred, axis=1, kind="stable")[:, :k]
    mask = np.zeros_like(y_pred)
    np.put_along_axis(mask, order, 1.0, axis=1)
    return y_pred * mask + y_pred.dtype.type(NEG_INF) * (1 - mask)


class _PrecisionRecall(Metric):
    """Shared state of ``Precision`` and ``Recall``: TP, FP, FN per threshold."""

    def __init__(self, thresholds, top_k, class_id, name):
        self.init_thresholds = thresholds
        self.top_k = None if top_k is None else check_positive_int("top_k", top_k)
        self.class_id = None if class_id is None else check_non_negative_int("class_id", class_id)
        if thresholds is None:
            self.thresholds = [0.5 if top_k is None else NEG_INF]
        else:
            self.thresholds = _check_thresholds("thresholds", thresholds)
        self._evenly = evenly_distributed(self.thresholds)
        super().__init__(name, None, "up")

    def reset_state(self) -> None:
        zeros = np.zeros(len(self.thresholds))
        self.true_positives, self.false_positives, self.false_negatives = zeros, zeros.copy(), zeros.copy()

    def update_state(self, y_true, y_pred, sample_weight=None, *, from_logits: bool = False) -> None:
        y_true, y_pred = _as_pairs(type(self).__name__, y_true, y_pred)
        w = sample_weights(sample_weight, y_pred.shape[0])
        if self.top_k is not None:
            y_pred = _filter_top_k(y_pred, self.top_k)
        if self.class_id is not None:
            if self.class_id >= y_pred.shape[1]:
                raise ValueError(f"`class_id` must be below the number of units {y_pred.shape[1]}. "
                                 f"Received: class_id={self.class_id}")
            y_true, y_pred = y_true[:, [self.class_id]], y_pred[:, [self.class_id]]
        tp, fp, fn, _ = confusion_counts(y_true, y_pred, w, self.thresholds, self._evenly)
        self.true_positives = self.true_positives + tp
        self.false_positives = self.false_positives + fp
        self.false_negatives = self.false_negatives + fn

    def _finish(self, values: np.ndarray):
        return float(values[0]) if len(self.thresholds) == 1 else values

    def get_config(self) -> dict:
        return {"name": self.name, "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """``TP / (TP + FP)`` at each threshold (a float for one threshold, else an array)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name: str | None = None):
        super().__init__(thresholds, top_k, class_id, "precision" if name is None else name)

    def result(self):
        return self._finish(_ratio(self.true_positives, self.true_positives + self.false_positives))


class Recall(_PrecisionRecall):
    """``TP / (TP + FN)`` at each threshold (a float for one threshold, else an array)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name: str | None = None):
        super().__init__(thresholds, top_k, class_id, "recall" if name is None else name)

    def result(self):
        return self._finish(_ratio(self.true_positives, self.true_positives + self.false_negatives))

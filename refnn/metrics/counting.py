"""Weighted confusion counts at thresholds, with Keras's arithmetic (``keras.src.metrics.metrics_utils``).

At a threshold ``t`` a prediction is positive when ``p > t``; a label is positive when nonzero. With
weights ``w_n`` (1 without),

    TP(t) = Σ_n w_n [y_n ≠ 0][p_n > t],   FP(t) = Σ_n w_n [y_n = 0][p_n > t],
    FN(t) = Σ_n w_n [y_n ≠ 0] − TP(t),    TN(t) = Σ_n w_n [y_n = 0] − FP(t).

Keras counts in one of two ways, and refnn copies the choice because they differ for a prediction
that lands exactly on a threshold:

* **evenly spaced thresholds** (``T ≥ 3`` thresholds within ``ε`` of ``i/(T − 1)``, e.g. AUC's default
  grid): ``p`` is clipped to ``[0, 1]`` and put in bucket ``b = ceil(p·(T − 1)) − 1`` (computed in the
  working dtype), and a prediction counts as positive at every threshold ``i ≤ b``. When the grid has
  AUC's end points ``−ε`` and ``1 + ε``, ``b`` is raised to at least 0 (every prediction is above the
  first threshold, none above the last); otherwise a bucket −1 (``p = 0``) is positive nowhere —
  TensorFlow's segment sum drops negative ids. The threshold values themselves are never compared.
* otherwise, the direct comparison ``p > t`` (no clipping).

Multi-unit outputs are flattened: every entry is one (label, prediction) pair, and the sample weight
of row n applies to each of its entries. The bucket and the comparison are computed in the
predictions' dtype (float32 predictions against float32 thresholds, as Keras in floatx float32, so a
float32 model puts a prediction in the same bucket); the counts are summed in float64.
"""

from __future__ import annotations

import numpy as np

__all__ = ["evenly_distributed", "confusion_counts"]

EPSILON = 1e-7  # keras.config.epsilon()


def evenly_distributed(thresholds) -> bool:
    """Keras's ``is_evenly_distributed_thresholds``: at least 3 values, each within ε of ``i/(T − 1)``
    (``np.allclose`` with ``atol=ε``, the grid in float32 as Keras builds it)."""
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if thresholds.size < 3:
        return False
    even = np.arange(thresholds.size, dtype=np.float32) / (thresholds.size - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _bucket_counts(labels, preds, weights, num_thresholds: int, with_epsilon: bool):
    dt = preds.dtype.type
    preds = np.clip(preds, dt(0.0), dt(1.0))
    buckets = np.ceil(preds * dt(num_thresholds - 1.0)) - dt(1.0)
    if with_epsilon:
        buckets = np.maximum(buckets, 0.0)
    buckets = buckets.astype(np.int64)
    keep = buckets >= 0
    tp_buckets = np.bincount(buckets[keep], (labels * weights)[keep], minlength=num_thresholds)
    fp_buckets = np.bincount(buckets[keep], ((1.0 - labels) * weights)[keep], minlength=num_thresholds)
    # C(t_i) = Σ_{j ≥ i} B(j): a reversed cumulative sum
    return np.cumsum(tp_buckets[::-1])[::-1], np.cumsum(fp_buckets[::-1])[::-1]


def _compared_counts(labels, preds, weights, thresholds):
    """All four counts summed directly, as Keras's unoptimised path does."""
    above = preds[None, :] > np.asarray(thresholds, dtype=preds.dtype)[:, None]
    positive, negative = labels * weights, (1.0 - labels) * weights
    return ((above * positive).sum(axis=1), (above * negative).sum(axis=1),
            (~above * positive).sum(axis=1), (~above * negative).sum(axis=1))


def confusion_counts(y_true, y_pred, sample_weight, thresholds, evenly: bool, with_epsilon: bool = False):
    """``(tp, fp, fn, tn)``, each of shape ``(len(thresholds),)``, for 2-D ``y_true``/``y_pred`` of one
    shape (as ``confusion._as_pairs`` gives them: float64, or float32 predictions) and
    ``sample_weight`` ``None`` or ``(N,)`` (module docstring)."""
    labels = (y_true != 0).astype(np.float64).reshape(-1)
    preds = y_pred.reshape(-1)
    if sample_weight is None:
        weights = np.ones_like(preds)
    else:
        weights = np.broadcast_to(np.asarray(sample_weight, np.float64).reshape(-1, 1), y_pred.shape).reshape(-1)
    if not evenly:
        return _compared_counts(labels, preds, weights, thresholds)
    tp, fp = _bucket_counts(labels, preds, weights, len(thresholds), with_epsilon)
    return tp, fp, np.sum(labels * weights) - tp, np.sum((1.0 - labels) * weights) - fp

"""Differences between refnn and Keras that are deliberate and documented: a comparison labels
the rows they explain instead of reporting a bare failure.

Only one is known today (``docs/keras-numerics.md``, "A deliberate difference: soft labels that do
not sum to 1"): categorical crossentropy on logits with targets whose rows do not sum to 1.

* textbook (refnn): ``ℓ = Σ_k y_k (logsumexp(z) − z_k)``, so ``∂ℓ/∂z = softmax(z)·Σy − y``;
* TensorFlow's softmax-crossentropy kernel: ``∂ℓ/∂z = softmax(z) − y`` (exact only when Σy = 1).

The loss values agree; the gradients differ by ``softmax(z)·(Σy − 1)``, and so does everything
trained from them. A row is labelled only when it fails *and* the targets are off by more than the
comparison's tolerance: a failure with rows that sum to 1 stays a failure.
"""

from __future__ import annotations

import numpy as np

from refnn.losses import CategoricalCrossentropy

__all__ = ["SOFT_LABELS", "label_known_differences"]

SOFT_LABELS = (
    "categorical crossentropy with targets whose rows do not sum to 1 (worst row sum {worst:.6g}): "
    "refnn differentiates the crossentropy exactly (∂ℓ/∂z = softmax(z)·Σy − y), TensorFlow's kernel "
    "returns softmax(z) − y; the losses agree, the gradients differ by softmax(z)·(Σy − 1) "
    "(docs/keras-numerics.md, a deliberate difference)")


def label_known_differences(result, model, y) -> None:
    """Label ``result``'s failing rows that a documented difference explains, and say why in
    ``result.notes``. ``model`` is the compiled refnn side, ``y`` the targets it was given."""
    worst = _worst_row_sum(model, y)
    if worst is None or not any(not row.passed for row in result.rows):
        return
    reason = SOFT_LABELS.format(worst=worst)
    for row in result.rows:
        if not row.passed:
            row.known_difference = reason
    result.notes.append(f"known difference: {reason}")


def _worst_row_sum(model, y) -> float | None:
    """The target row sum furthest from 1 when the loss is categorical crossentropy and some row
    is further from 1 than the dtype's round-off (a few ulps of the row's terms); otherwise None."""
    if not isinstance(model.loss, CategoricalCrossentropy):
        return None
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2 or y.size == 0:
        return None
    sums = y.sum(axis=1)
    eps = np.finfo(np.dtype(model.dtype)).eps
    off = np.abs(sums - 1.0)
    if off.max() <= 8 * eps * y.shape[1]:
        return None
    return float(sums[np.argmax(off)])

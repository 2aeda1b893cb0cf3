"""Differences between refnn and Keras that are deliberate and documented: a comparison labels
the rows they explain instead of reporting a bare failure.

Only one is known today (``docs/keras-numerics.md``, "A deliberate difference: soft labels that do
not sum to 1"): categorical crossentropy on logits with targets whose rows do not sum to 1.

* textbook (refnn): ``ℓ = Σ_k y_k (logsumexp(z) − z_k)``, so ``∂ℓ/∂z = softmax(z)·Σy − y``;
* TensorFlow's softmax-crossentropy kernel: ``∂ℓ/∂z = softmax(z) − y`` (exact only when Σy = 1).

The loss values agree; the gradients differ by ``softmax(z)·(Σy − 1)``, and so does everything
trained from them. A row is labelled only when it fails *and* the cause is present: the loss is
computed from logits (``from_logits=True``, or a softmax output fused with the loss) and some
target row is further from 1 than round-off. The loss value itself (``model/loss``) is never
labelled — it agrees — and a failure without the cause stays a failure.
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
    explained = [row for row in result.rows if not row.passed and row.name != "model/loss"]
    if worst is None or not explained:
        return
    reason = SOFT_LABELS.format(worst=worst)
    for row in explained:
        row.known_difference = reason
    result.notes.append(f"known difference: {reason}")


def _worst_row_sum(model, y) -> float | None:
    """The target row sum furthest from 1 when the loss is categorical crossentropy on logits and
    some row is further from 1 than the dtype's round-off (a few ulps of the row's terms);
    otherwise None."""
    if not isinstance(model.loss, CategoricalCrossentropy):
        return None
    if not (model.loss.from_logits or model.fuses_loss_with_output):
        return None  # on probabilities both sides differentiate the same renormalised formula
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2 or y.size == 0:
        return None
    sums = y.sum(axis=1)
    eps = np.finfo(np.dtype(model.dtype)).eps
    off = np.abs(sums - 1.0)
    if off.max() <= 8 * eps * y.shape[1]:
        return None
    return float(sums[np.argmax(off)])

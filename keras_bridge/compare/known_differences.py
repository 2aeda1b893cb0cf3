"""Differences between refnn and Keras that are known and documented: a comparison labels the
rows they explain instead of reporting a bare failure (``docs/keras-numerics.md``).

1. **Soft labels that do not sum to 1** (a deliberate difference). Categorical crossentropy on
   logits: refnn differentiates ``ℓ = Σ_k y_k (logsumexp(z) − z_k)`` exactly,
   ``∂ℓ/∂z = softmax(z)·Σy − y``; TensorFlow's softmax-crossentropy kernel returns
   ``softmax(z) − y`` (exact only when Σy = 1). The loss values agree; the gradients differ by
   ``softmax(z)·(Σy − 1)``, and so does everything trained from them. The loss value itself
   (``model/loss``) is never labelled.
2. **A mismatched output and crossentropy** (a Keras behaviour refnn does not copy). Keras attaches
   the logits to *every* sigmoid and softmax output and *every* crossentropy uses them: a sigmoid
   output with (sparse) categorical crossentropy is computed as the softmax crossentropy of the
   sigmoid's input, a softmax output with binary crossentropy as the sigmoid crossentropy of the
   softmax's input. refnn computes the loss that was asked for, on the outputs. Every number
   differs, the loss included. The crossentropy *metrics* follow the same rule in Keras: a
   ``binary_crossentropy`` metric of a softmax output (or a categorical one of a sigmoid output)
   is computed from the logits; refnn's reads the probabilities — only those metric rows differ.

A row is labelled only when it fails *and* the cause is present in the model and the data; a
failure without a cause stays a failure.
"""

from __future__ import annotations

import numpy as np

from refnn.losses import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy

__all__ = ["SOFT_LABELS", "MISMATCHED_LOGITS", "MISMATCHED_METRIC", "label_known_differences"]

SOFT_LABELS = (
    "categorical crossentropy with targets whose rows do not sum to 1 (worst row sum {worst:.6g}): "
    "refnn differentiates the crossentropy exactly (∂ℓ/∂z = softmax(z)·Σy − y), TensorFlow's kernel "
    "returns softmax(z) − y; the losses agree, the gradients differ by softmax(z)·(Σy − 1) "
    "(docs/keras-numerics.md, a deliberate difference)")
MISMATCHED_LOGITS = (
    "a {activation} output with {loss}: Keras computes this loss from the {activation}'s logits as "
    "{keras_loss}; refnn computes the loss you asked for, on the outputs (docs/keras-numerics.md, a "
    "Keras behaviour refnn does not copy)")
MISMATCHED_METRIC = (
    "the metric {metric!r} of a {activation} output: Keras computes it from the {activation}'s logits as "
    "{keras_loss}; refnn's metric reads the probabilities (docs/keras-numerics.md, a Keras behaviour refnn "
    "does not copy)")


def label_known_differences(result, model, y) -> None:
    """Label ``result``'s failing rows that a documented difference explains, and say why in
    ``result.notes``. ``model`` is the compiled refnn side, ``y`` the targets it was given."""
    _label_mismatched_metrics(result, model)
    mismatch = _mismatched_logits(model)
    if mismatch is not None:
        _label(result, mismatch, include_loss=True)
        return
    worst = _worst_row_sum(model, y)
    if worst is not None:
        _label(result, SOFT_LABELS.format(worst=worst), include_loss=False)


def _label(result, reason: str, include_loss: bool, only: set | None = None) -> None:
    explained = [row for row in result.rows if not row.passed and (include_loss or row.name != "model/loss")
                 and (only is None or row.name in only)]
    if not explained:
        return
    for row in explained:
        row.known_difference = reason
    result.notes.append(f"known difference: {reason}")


def _mismatched_logits(model) -> str | None:
    """The reason text when the output activation and the crossentropy do not match (Keras then
    uses the logits anyway), else None."""
    loss, output = model.loss, _output_activation(model)
    if output is None or getattr(loss, "from_logits", True):
        return None
    categorical = isinstance(loss, (CategoricalCrossentropy, SparseCategoricalCrossentropy))
    if output == "sigmoid" and categorical:
        return MISMATCHED_LOGITS.format(activation="sigmoid", loss=loss.name,
                                        keras_loss="softmax crossentropy of those logits")
    if output == "softmax" and isinstance(loss, BinaryCrossentropy):
        return MISMATCHED_LOGITS.format(activation="softmax", loss=loss.name,
                                        keras_loss="sigmoid crossentropy of those logits")
    return None


def _label_mismatched_metrics(result, model) -> None:
    """Label the history rows of each crossentropy metric whose activation is not the output's."""
    output = _output_activation(model)
    if output not in ("softmax", "sigmoid"):
        return
    for metric in getattr(model, "metrics", None) or []:
        fused = getattr(metric, "fused_activation", None)
        if fused is None or fused == output:
            continue
        keras_loss = "the softmax crossentropy of those logits" if output == "sigmoid" else \
            "the sigmoid crossentropy of those logits"
        reason = MISMATCHED_METRIC.format(metric=metric.name, activation=output, keras_loss=keras_loss)
        _label(result, reason, include_loss=False, only={f"history/{metric.name}", f"history/val_{metric.name}"})


def _output_activation(model) -> str | None:
    """The activation of the last layer that changes its input (identity layers passed over)."""
    for layer in reversed(model.layers):
        if layer.passes_through(training=False):
            continue
        activation = getattr(layer, "activation", None)
        return None if activation is None else activation.name
    return None


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

"""Loss functions with Keras's reductions, clipping and logits fusion.

Every loss computes a per-sample value ``ℓ_n`` and reduces it. The default reduction is Keras's
``"sum_over_batch_size"``: ``L = Σ_n w_n ℓ_n / N`` where ``N`` is the number of per-sample values
(the batch size) — never ``Σ w_n``. ``"sum"`` gives ``Σ_n w_n ℓ_n`` and ``"none"`` the vector.

``gradient(y_true, y_pred)`` is ``∂L/∂y_pred`` with the shape of ``y_pred``.

================================ ============================================================
loss                             per sample ``ℓ_n`` (D = size of the last axis)
================================ ============================================================
MeanSquaredError ("mse")         ``(1/D) Σ_d (ŷ − y)²``;  ``∂L/∂ŷ = 2(ŷ − y)/(N·D)``
MeanAbsoluteError ("mae")        ``(1/D) Σ_d |ŷ − y|``
SumSquaredError ("sse")          ``½ Σ_d (ŷ − y)²`` with reduction ``"sum"``: ``E = ½ Σ e²``,
                                 the classic error of Rprop/Quickprop/Levenberg–Marquardt
BinaryCrossentropy               ``−(1/D) Σ_d [y log p + (1 − y) log(1 − p)]``, p clipped
CategoricalCrossentropy          ``−Σ_d y log p``, p renormalised then clipped
SparseCategoricalCrossentropy    ``−log p_y``, p clipped then renormalised
================================ ============================================================

Keras rules reproduced (see ``docs/keras-numerics.md``):

* On probabilities, crossentropies clip to ``[ε, 1 − ε]`` with ``ε = 1e-7`` (the bounds rounded
  to the working dtype: in float32 ``1 − 1e-7`` is ``1 − 1.19e-7``). The clip's gradient is 0
  outside the interval and passes at the bounds.
* CCE renormalises ``p ← p / Σp`` *before* clipping; SCCE clips *first* (it feeds
  ``log(clip(p))`` to a softmax crossentropy); BCE never renormalises.
* Label smoothing: BCE ``y ← y(1 − ls) + ls/2``; CCE ``y ← y(1 − ls) + ls/K``.
* ``from_logits=True`` uses the stable logits formulas, with no clipping:
  BCE ``max(z, 0) − z·y + log(1 + e^{−|z|})``, ∂/∂z ``= σ(z) − y``;
  CCE ``Σ_k y_k (logsumexp(z) − z_k)``, ∂/∂z ``= softmax(z)·Σy − y``
  (TensorFlow's kernel returns ``softmax(z) − y``, which equals this only when the labels of a
  row sum to 1, as one-hot and smoothed labels do; refnn keeps the exact derivative).
* **Fusion.** A model whose last layer ends in softmax (sigmoid) and is trained with CCE/SCCE
  (BCE) evaluates the loss from that layer's logits — as Keras does on TensorFlow — so a
  confident wrong prediction costs its full ``logsumexp(z) − z_y`` (60.0 for logits
  ``[30, 0, −30]``, target 2) instead of the clipped ``−log 1e-7 = 16.118``.
  ``fused_activation`` names the activation a loss fuses with.
* Keras quirk *not* reproduced: Keras attaches the logits to sigmoid *and* softmax outputs and
  every crossentropy uses them, so in Keras a sigmoid output with CCE computes the *softmax*
  crossentropy of the sigmoid's input (and softmax + BCE the sigmoid crossentropy of the
  softmax's input). refnn fuses only the matching pairs and evaluates a mismatched pair on the
  probabilities the model outputs; ``tests/keras/test_core_parity.py`` pins the difference.
"""

from __future__ import annotations

import numpy as np

from refnn import activations
from refnn.utils.validation import check_bool, check_choice, check_class_ids, check_float, check_numeric_array

__all__ = [
    "EPSILON",
    "Loss",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "SumSquaredError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "get",
]

EPSILON = 1e-7  # keras.config.epsilon()

_REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "none")


def _numeric(name: str, value) -> np.ndarray:
    """``value`` as a real numeric array; arrays that already are one pass through untouched
    (the model's own outputs: no per-batch cost)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
        return value
    return check_numeric_array(name, value)


def _float_dtype(arr: np.ndarray) -> np.dtype:
    return arr.dtype if arr.dtype in (np.float32, np.float64) else np.dtype("float64")


def _clip_bounds(dtype) -> tuple:
    return np.asarray(EPSILON, dtype), np.asarray(1.0 - EPSILON, dtype)


def _logsumexp(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=-1, keepdims=True)
    return (m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True)))[..., 0]


# the overflow-safe forms of refnn.activations, shared rather than restated
_softmax = activations.Softmax()
_sigmoid = activations.Sigmoid()


class Loss:
    """Base class: per-sample values and their gradient, then Keras's reduction.

    Subclasses implement ``_per_sample(y_true, y_pred, from_logits)`` returning the per-sample
    values ``ℓ`` (shape ``(N,)``) and ``∂(Σ_n ℓ_n)/∂y_pred`` (shape of ``y_pred``), both for 2-D
    arrays already reconciled by ``_prepare``.
    """

    name = "loss"
    #: the output activation whose logits this loss uses when it follows it in a model
    fused_activation: str | None = None
    #: Levenberg–Marquardt needs a sum of squared residuals
    is_sum_of_squares = False
    default_reduction = "sum_over_batch_size"

    def __init__(self, reduction: str | None = None, name: str | None = None):
        reduction = self.default_reduction if reduction is None else reduction
        self.reduction = check_choice("reduction", reduction, _REDUCTIONS)
        if name is not None:
            self.name = name
        self.from_logits = False

    # ---- public API -------------------------------------------------------------------------
    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss (a Python float), or per-sample values for ``reduction="none"``."""
        return self.value_and_gradient(y_true, y_pred, sample_weight)[0]

    def gradient(self, y_true, y_pred, sample_weight=None) -> np.ndarray:
        """``∂L/∂y_pred`` of the reduced loss, same shape as ``y_pred``."""
        return self.value_and_gradient(y_true, y_pred, sample_weight)[1]

    def value_and_gradient(self, y_true, y_pred, sample_weight=None, *, from_logits=None):
        """The loss and its gradient in one pass.

        Args:
            y_true: targets.
            y_pred: predictions (or logits when ``from_logits``).
            sample_weight: optional per-sample weights, shape ``(N,)``.
            from_logits: overrides the constructor's ``from_logits``; the model passes ``True``
                when it fuses the loss with its output activation.
        """
        from_logits = self.from_logits if from_logits is None else from_logits
        y_pred_in = np.asarray(y_pred)
        y_true, y_pred = self._prepare(y_true, y_pred_in)
        values, grad = self._per_sample(y_true, y_pred, from_logits)
        n = values.shape[0]
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=values.dtype).reshape(-1)
            if w.shape[0] != n:
                raise ValueError(
                    "`sample_weight` must have one entry per sample. Received: "
                    f"sample_weight.shape={np.shape(sample_weight)}, y_pred.shape={y_pred_in.shape}"
                )
            values = values * w
            grad = grad * w[:, None]
        if self.reduction == "none":
            return values, grad.reshape(y_pred_in.shape)
        total = values.sum()
        if self.reduction in ("sum_over_batch_size", "mean"):
            # Keras: divide_no_nan(Σℓ, N) — an empty batch gives 0, not NaN; its gradient is 1/N
            dt = values.dtype.type
            total = total / dt(n) if n else dt(0.0)
            grad = grad * dt(1.0 / n if n else 0.0)
        return float(total), grad.reshape(y_pred_in.shape)

    def get_config(self) -> dict:
        return {"reduction": self.reduction, "name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    # ---- helpers for subclasses ---------------------------------------------------------------
    def _prepare(self, y_true, y_pred):
        """Reconcile shapes as Keras does: ``(N,)`` against ``(N, 1)`` is ``(N, 1)``."""
        y_pred = _numeric("y_pred", y_pred)
        dtype = _float_dtype(y_pred)
        y_pred = y_pred.astype(dtype, copy=False)
        y_true = _numeric("y_true", y_true).astype(dtype, copy=False)
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        if y_true.shape != y_pred.shape or y_pred.ndim != 2:
            raise ValueError(
                f"`y_true` and `y_pred` must have the same shape. Received: "
                f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )
        return y_true, y_pred

    def _per_sample(self, y_true, y_pred, from_logits):
        raise NotImplementedError


class MeanSquaredError(Loss):
    """``ℓ_n = (1/D) Σ_d (ŷ_nd − y_nd)²``; reduced: the mean over all ``N·D`` entries.

    Gradient ``∂L/∂ŷ = 2(ŷ − y)/(N·D)``. Textbooks often write ``2/n·(ŷ − y)`` with n the
    number of samples, which is D× larger when the output has D > 1 units.
    """

    name = "mean_squared_error"
    is_sum_of_squares = True

    def _per_sample(self, y_true, y_pred, from_logits):
        diff = y_pred - y_true
        d = y_pred.shape[1]
        return np.mean(diff * diff, axis=1), diff * y_pred.dtype.type(2.0 / d)


class MeanAbsoluteError(Loss):
    """``ℓ_n = (1/D) Σ_d |ŷ_nd − y_nd|``; gradient ``sign(ŷ − y)/(N·D)`` (0 where equal)."""

    name = "mean_absolute_error"

    def _per_sample(self, y_true, y_pred, from_logits):
        diff = y_pred - y_true
        d = y_pred.shape[1]
        return np.mean(np.abs(diff), axis=1), np.sign(diff) * y_pred.dtype.type(1.0 / d)


class SumSquaredError(Loss):
    """The classic error ``E = ½ Σ_n Σ_d (ŷ_nd − y_nd)²``, gradient ``ŷ − y``.

    Not in Keras. Rprop, Quickprop and Levenberg–Marquardt were published with this error
    summed over all patterns; its default reduction is therefore ``"sum"``.
    """

    name = "sum_squared_error"
    is_sum_of_squares = True
    default_reduction = "sum"

    def _per_sample(self, y_true, y_pred, from_logits):
        diff = y_pred - y_true
        return 0.5 * np.sum(diff * diff, axis=1), diff


class _Crossentropy(Loss):
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, reduction=None, name=None):
        super().__init__(reduction=reduction, name=name)
        self.from_logits = check_bool("from_logits", from_logits)
        self.label_smoothing = check_float("label_smoothing", label_smoothing, low=0.0, high=1.0)

    def get_config(self):
        return {
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            **super().get_config(),
        }


class BinaryCrossentropy(_Crossentropy):
    """Binary crossentropy, averaged over the last axis then over the batch.

    Probabilities: ``p ← clip(p, ε, 1 − ε)``, ``ℓ = −[y log p + (1 − y) log(1 − p)]``,
    ``∂ℓ/∂p = (p − y)/(p(1 − p))`` inside the clip interval, 0 outside.
    Logits: ``ℓ = max(z, 0) − z·y + log(1 + e^{−|z|})``, ``∂ℓ/∂z = σ(z) − y``.
    """

    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def _per_sample(self, y_true, y_pred, from_logits):
        dt = y_pred.dtype.type
        if self.label_smoothing:
            y_true = y_true * dt(1.0 - self.label_smoothing) + dt(0.5 * self.label_smoothing)
        d = y_pred.shape[1]
        if from_logits:
            z = y_pred
            elem = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
            grad = _sigmoid(z) - y_true
        else:
            lo, hi = _clip_bounds(y_pred.dtype)
            p = np.clip(y_pred, lo, hi)
            elem = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
            inside = (y_pred >= lo) & (y_pred <= hi)
            grad = (-y_true / p + (1 - y_true) / (1 - p)) * inside
        return np.mean(elem, axis=1), grad * dt(1.0 / d)


class CategoricalCrossentropy(_Crossentropy):
    """Categorical crossentropy over the last axis, one-hot (or soft) targets.

    Probabilities (Keras): ``q = p / Σp``, ``c = clip(q, ε, 1 − ε)``, ``ℓ = −Σ y log c``. The
    gradient w.r.t. ``p`` goes through the renormalisation:
    ``∂ℓ/∂p_j = g_j/S − (Σ_i g_i p_i)/S²`` with ``g = −y/c`` (0 where clipped) and ``S = Σp`` —
    for a one-hot y and ``Σp = 1`` that is ``−y/p + 1``, i.e. the textbook ``−y/p`` plus 1 on
    every class (the extra term cancels through the softmax Jacobian).
    Logits: ``ℓ = Σ_k y_k (logsumexp(z) − z_k)``, ``∂ℓ/∂z = softmax(z)·Σy − y``.
    """

    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def _per_sample(self, y_true, y_pred, from_logits):
        dt = y_pred.dtype.type
        if self.label_smoothing:
            k = y_pred.shape[1]
            y_true = y_true * dt(1.0 - self.label_smoothing) + dt(self.label_smoothing / k)
        if from_logits:
            # one shifted exponential serves both logsumexp(z) and softmax(z)
            z = y_pred
            m = z.max(axis=1, keepdims=True)
            e = np.exp(z - m)
            total = e.sum(axis=1, keepdims=True)
            values = (y_true * (m + np.log(total) - z)).sum(axis=1)
            return values, (e / total) * y_true.sum(axis=1, keepdims=True) - y_true
        s = y_pred.sum(axis=1, keepdims=True)
        q = y_pred / s
        lo, hi = _clip_bounds(y_pred.dtype)
        c = np.clip(q, lo, hi)
        values = -np.sum(y_true * np.log(c), axis=1)
        g = -y_true / c * ((q >= lo) & (q <= hi))
        grad = g / s - np.sum(g * y_pred, axis=1, keepdims=True) / (s * s)
        return values, grad


class SparseCategoricalCrossentropy(Loss):
    """Categorical crossentropy with integer class ids as targets (shape ``(N,)`` or ``(N, 1)``).

    Probabilities (Keras): ``c = clip(p, ε, 1 − ε)``, ``ℓ = −log(c_y / Σc)`` (clip *first*, then
    renormalise), ``∂ℓ/∂p = (1/Σc − [k = y]/c_k)`` where not clipped.
    Logits: ``ℓ = logsumexp(z) − z_y``, ``∂ℓ/∂z = softmax(z) − onehot(y)``.
    """

    name = "sparse_categorical_crossentropy"
    fused_activation = "softmax"

    def __init__(self, from_logits: bool = False, reduction=None, name=None):
        super().__init__(reduction=reduction, name=name)
        self.from_logits = check_bool("from_logits", from_logits)

    def get_config(self):
        return {"from_logits": self.from_logits, **super().get_config()}

    def _prepare(self, y_true, y_pred):
        y_pred = _numeric("y_pred", y_pred)
        y_pred = y_pred.astype(_float_dtype(y_pred), copy=False)
        if y_pred.ndim != 2:
            raise ValueError(f"`y_pred` must be 2-D (N, classes). Received: y_pred.shape={y_pred.shape}")
        labels = check_class_ids("y_true", y_true, y_pred.shape[1])
        if labels.shape[0] != y_pred.shape[0]:
            raise ValueError(
                "`y_true` must hold one integer class id per row of `y_pred`. Received: "
                f"y_true.shape={np.shape(y_true)}, y_pred.shape={y_pred.shape}"
            )
        return labels, y_pred

    def _per_sample(self, labels, y_pred, from_logits):
        rows = np.arange(labels.shape[0])
        if from_logits:
            values = _logsumexp(y_pred) - y_pred[rows, labels]
            grad = _softmax(y_pred)
            grad[rows, labels] -= 1
            return values, grad
        lo, hi = _clip_bounds(y_pred.dtype)
        c = np.clip(y_pred, lo, hi)
        total = c.sum(axis=1, keepdims=True)
        values = np.log(total[:, 0]) - np.log(c[rows, labels])
        inside = (y_pred >= lo) & (y_pred <= hi)
        grad = np.broadcast_to(1 / total, c.shape).copy()
        grad[rows, labels] -= 1 / c[rows, labels]
        return values, grad * inside


_BY_NAME = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "sse": SumSquaredError,
    "sum_squared_error": SumSquaredError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def get(identifier) -> Loss:
    """Return a loss from a Keras string name (``"mse"``, ``"categorical_crossentropy"``, ...)
    or an instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(
        f"Unknown loss. `loss` must be one of {sorted(_BY_NAME)} or a Loss instance. "
        f"Received: loss={identifier!r}"
    )

"""The ``Loss`` base class: per-sample values ``ℓ_n`` and their gradient, then Keras's reduction
(the equations are in ``refnn.losses``'s docstring)."""

from __future__ import annotations

import numpy as np

from refnn import activations
from refnn.utils.validation import check_choice, check_numeric_array

__all__ = ["EPSILON", "Loss"]

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

    A custom loss defines ``call(y_true, y_pred)`` (per-sample values, shape ``(N,)``) and
    ``call_gradient(y_true, y_pred)`` (``∂ℓ_n/∂ŷ_n``, shape of ``y_pred``) — module docstring.
    The built-ins implement ``_per_sample(y_true, y_pred, from_logits)`` returning both at once,
    for 2-D arrays already reconciled by ``_prepare``.
    """

    name = "loss"
    #: the output activation whose logits this loss uses when it follows it in a model
    fused_activation: str | None = None
    #: Levenberg–Marquardt needs a sum of squared residuals
    is_sum_of_squares = False
    default_reduction = "sum_over_batch_size"

    def __init__(self, reduction: str | None = None, name: str | None = None):
        custom = type(self).call is not Loss.call
        if custom and type(self).call_gradient is Loss.call_gradient:
            raise TypeError(
                f"Custom loss {type(self).__name__} defines call() but not call_gradient(y_true, y_pred), the "
                "derivative ∂ℓ_n/∂ŷ_n of each per-sample value (shape of y_pred); refnn does not take finite "
                "differences of a loss. See refnn.losses' docstring for an example."
            )
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
            grad *= w[:, None]  # _per_sample's gradient is a new array: scaled in place
        if self.reduction == "none":
            return values, grad.reshape(y_pred_in.shape)
        total = np.add.reduce(values)  # values.sum(), without the method's Python wrapper
        if self.reduction in ("sum_over_batch_size", "mean"):
            # Keras: divide_no_nan(Σℓ, N) — an empty batch gives 0, not NaN; its gradient is 1/N
            dt = values.dtype.type
            total = total / dt(n) if n else dt(0.0)
            grad *= dt(1.0 / n if n else 0.0)
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

    # ---- custom losses ------------------------------------------------------------------------
    def call(self, y_true, y_pred) -> np.ndarray:
        """Per-sample values ``ℓ_n``, shape ``(N,)`` (custom losses define it)."""
        raise NotImplementedError(f"{type(self).__name__} defines neither call() nor _per_sample()")

    def call_gradient(self, y_true, y_pred) -> np.ndarray:
        """``∂ℓ_n/∂ŷ_n``, the shape of ``y_pred`` (custom losses define it, beside ``call``)."""
        raise NotImplementedError(f"{type(self).__name__} does not define call_gradient()")

    def _per_sample(self, y_true, y_pred, from_logits):
        """Per-sample values and their gradient, the gradient a new array (the reduction scales it
        in place). Here: a custom loss's ``call`` and ``call_gradient``, shapes checked, the gradient
        copied (a custom loss may hand out an array it keeps)."""
        owner = type(self).__name__
        values = np.asarray(self.call(y_true, y_pred))
        if values.shape != (y_pred.shape[0],):
            raise ValueError(f"{owner}.call must return one value per sample, shape ({y_pred.shape[0]},). "
                             f"Received: shape {values.shape}")
        grad = np.asarray(self.call_gradient(y_true, y_pred))
        if grad.shape != y_pred.shape:
            raise ValueError(f"{owner}.call_gradient must return an array of y_pred's shape {y_pred.shape}. "
                             f"Received: shape {grad.shape}")
        return values.astype(y_pred.dtype, copy=False), grad.astype(y_pred.dtype)

"""A loss written as a function with a ``gradient`` attribute — the function form of a custom loss."""

from __future__ import annotations

from refnn.losses.base import Loss

__all__ = ["LossFunctionWrapper"]


class LossFunctionWrapper(Loss):
    """A loss from a per-sample function and its derivative (Keras's ``LossFunctionWrapper``, with
    the derivative refnn trains with).

    ``fn(y_true, y_pred)`` returns ``ℓ_n`` (shape ``(N,)``) and ``gradient(y_true, y_pred)`` returns
    ``∂ℓ_n/∂ŷ_n`` (the shape of ``y_pred``); ``Loss`` applies the weights and the reduction. A
    function given to ``compile`` becomes one when it carries its derivative as an attribute::

        def log_cosh(y_true, y_pred):
            return np.mean(np.log(np.cosh(y_pred - y_true)), axis=1)
        log_cosh.gradient = lambda y_true, y_pred: np.tanh(y_pred - y_true) / y_pred.shape[1]
        model.compile("adam", loss=log_cosh)

    Functions have no JSON form: a model compiled with one saves uncompiled only.
    """

    def __init__(self, fn, gradient, reduction: str | None = None, name: str | None = None):
        for argument, value in (("fn", fn), ("gradient", gradient)):
            if not callable(value):
                raise TypeError(f"`{argument}` must be a function of (y_true, y_pred). Received: {argument}={value!r}")
        self.fn, self.fn_gradient = fn, gradient
        super().__init__(reduction=reduction, name=name or getattr(fn, "__name__", "loss"))

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)

    def call_gradient(self, y_true, y_pred):
        return self.fn_gradient(y_true, y_pred)

    def get_config(self) -> dict:
        return {**super().get_config(), "fn": self.fn, "gradient": self.fn_gradient}

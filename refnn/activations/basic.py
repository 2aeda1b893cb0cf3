"""The classic activation functions: value and backward pass (vector–Jacobian product).

Each activation ``f`` is applied element-wise, except softmax, which acts on the last axis.
``backward(x, y, dy)`` returns ``dx = J_f(x)ᵀ dy`` given the input ``x``, the cached output
``y = f(x)`` and the upstream gradient ``dy``. Using the cached output avoids computing ``f`` twice.

======== ============================== =============================================
name     value                          backward (vector–Jacobian product)
======== ============================== =============================================
linear   ``y = x``                      ``dx = dy``
relu     ``y = max(x, 0)``              ``dx = dy · [x > 0]`` (0 at x = 0, as TF)
sigmoid  ``y = 1 / (1 + e^{-x})``       ``dx = dy · y(1 − y)``
tanh     ``y = tanh x``                 ``dx = dy · (1 − y²)``
softmax  ``y_i = e^{x_i} / Σ_j e^{x_j}`` ``dx = y ⊙ (dy − Σ_j dy_j y_j)``
======== ============================== =============================================

Softmax's backward is the *full* Jacobian ``∂y_i/∂x_j = y_i(δ_ij − y_j)`` contracted with
``dy``. The diagonal-only shortcut ``f(1 − f)`` seen in some textbooks drops the ``−y_i y_j``
terms and gives a qualitatively wrong gradient (e.g. x = [2, 1, 0.1], target 1: correct
``∂L/∂x = [0.659, −0.758, 0.099]``, diagonal-only ``[0, −0.758, 0]``).

That shortcut is available as a switch, for teaching only: ``Softmax(derivative="diagonal")``
backpropagates ``dx = dy ⊙ y ⊙ (1 − y)``. A model whose output is such a softmax does not fuse it
with the crossentropy: the loss's gradient ``∂L/∂p`` goes through the diagonal. refnn's
``CategoricalCrossentropy``, like Keras's, renormalises ``p/Σp`` first, so ``∂L/∂p = −y/p + 1``;
the full Jacobian cancels the ``+1`` (its rows sum to 0), the diagonal does not: its ``dz`` is
``y_j(1 − y_j)`` for each other class and ``−(1 − y_t)²`` for the true class ``t``. ``keras_bridge`` refuses to export
such a model: Keras always differentiates the full Jacobian.

Softmax subtracts the row maximum before ``exp`` and sigmoid evaluates ``e^{−|x|}``, so neither
overflows: logits of ±1000 give finite values and gradients.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Activation", "Linear", "ReLU", "Sigmoid", "Tanh", "Softmax", "uses_diagonal_shortcut"]


class Activation:
    """Base class: an activation is a pure function plus its vector–Jacobian product."""

    name: str = ""
    #: whether a matching crossentropy may compute from this activation's logits (Keras's fusion)
    fusable: bool = True
    #: ``backward`` reads only the output ``y`` (never ``x``), and ``__call__(x, out=)`` and
    #: ``backward(x, y, dy, out=)`` write their result into ``out``, which may be their own input:
    #: inside a training step ``Dense`` then computes ``Y`` over ``Z``'s array and ``dZ`` over
    #: ``dY``'s (``Dense.forward_in_step``), the same numbers in two arrays fewer per layer
    in_place: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # a subclass (say, of ReLU) may override __call__ without ``out`` or read ``x`` in
        # backward: it computes in place only if it says so itself
        if "in_place" not in cls.__dict__:
            cls.in_place = False

    def __call__(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, x: np.ndarray, y: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """Return ``dL/dx`` from the input ``x``, output ``y = f(x)`` and ``dy = dL/dy``."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """The activation's options (``{}`` when it has none); ``type(a)(**a.get_config())`` rebuilds it."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _identity(x, out):
    if out is None or out is x:
        return x
    out[...] = x
    return out


class Linear(Activation):
    name = "linear"
    in_place = True

    def __call__(self, x, out=None):
        return _identity(x, out)

    def backward(self, x, y, dy, out=None):
        return _identity(dy, out)


class ReLU(Activation):
    name = "relu"
    in_place = True

    def __call__(self, x, out=None):
        return np.maximum(x, 0, out=out)

    def backward(self, x, y, dy, out=None):
        # TF's ReluGrad uses the output: gradient 0 where y == 0, including x == 0 exactly.
        return np.multiply(dy, y > 0, out=out)


class Sigmoid(Activation):
    name = "sigmoid"

    def __call__(self, x):
        e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)

    def backward(self, x, y, dy):
        return dy * y * (1 - y)


class Tanh(Activation):
    name = "tanh"
    in_place = True

    def __call__(self, x, out=None):
        return np.tanh(x, out=out)

    def backward(self, x, y, dy, out=None):
        return np.multiply(dy, 1 - y * y, out=out)


def uses_diagonal_shortcut(activation) -> bool:
    """Whether ``activation`` is a softmax that backpropagates the diagonal ``f(1 − f)`` only."""
    return getattr(activation, "derivative", "jacobian") != "jacobian"


class Softmax(Activation):
    """``y_i = e^{x_i} / Σ_j e^{x_j}`` on the last axis.

    Args:
        derivative: ``"jacobian"`` (default, what Keras computes): ``dx = y ⊙ (dy − Σ_j dy_j y_j)``,
            the full Jacobian ``diag(y) − y yᵀ`` contracted with ``dy``; ``"diagonal"``: the
            textbook shortcut ``dx = dy ⊙ y ⊙ (1 − y)``, which drops the ``−y_i y_j`` terms — wrong
            as a derivative, offered so that a lesson can show what it does to training. A
            diagonal softmax is never fused with the crossentropy (whose probability gradient,
            ``−y/p + 1`` after Keras's renormalisation, then goes through the diagonal) and
            cannot be exported to Keras.
    """

    name = "softmax"
    derivative = "jacobian"

    def __init__(self, derivative: str = "jacobian"):
        if derivative not in ("jacobian", "diagonal"):
            raise ValueError(f'`derivative` must be "jacobian" or "diagonal". Received: derivative={derivative!r}')
        self.derivative = derivative
        self.fusable = derivative == "jacobian"

    def __call__(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, x, y, dy):
        if self.derivative == "diagonal":
            return dy * y * (1 - y)
        return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))

    def get_config(self) -> dict:
        return {"derivative": self.derivative}

    def __repr__(self) -> str:
        return "Softmax()" if self.derivative == "jacobian" else f"Softmax(derivative={self.derivative!r})"

"""Stochastic gradient descent, with momentum in three conventions."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import Optimizer
from refnn.utils.validation import check_float

__all__ = ["SGD"]

_FORMS = ("keras", "ema", "pytorch")


class SGD(Optimizer):
    """Gradient descent: ``W ← W − lr·g`` (batch, mini-batch or stochastic, as ``fit`` feeds it).

    With ``momentum = μ > 0`` the same rule takes one of three named forms (``m₀ = 0``):

    ============ ===================================== =======================================
    form         velocity                              step (``nesterov=True``)
    ============ ===================================== =======================================
    ``keras``    ``m ← μm − lr·g``                     ``W ← W + m``  (``W ← W + μm − lr·g``)
    ``ema``      ``V ← μV + (1 − μ)g`` (the lecture's) ``W ← W − lr·V`` (``W ← W − lr(μV + (1−μ)g)``)
    ``pytorch``  ``v ← μv + g``                        ``W ← W − lr·v`` (``W ← W − lr(g + μv)``)
    ============ ===================================== =======================================

    Keras's step is the EMA step divided by ``1 − μ`` (10× for μ = 0.9) when lr is constant,
    so ``keras`` with ``lr`` equals ``ema`` with ``lr/(1 − μ)``; under a schedule they differ,
    because the Keras velocity scales each gradient by the lr of its own step. ``pytorch``
    equals ``keras`` for a constant lr (``m = −lr·v``).

    Keras (float64 mode) rounds ``momentum`` through float32; the bridge reproduces that.

    Args:
        learning_rate: positive float or schedule (Keras default 0.01).
        momentum: ``μ`` in [0, 1].
        nesterov: Nesterov's look-ahead form.
        momentum_form: ``"keras"`` (default), ``"ema"`` or ``"pytorch"``.
    """

    name = "SGD"

    def __init__(
        self,
        learning_rate=0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        momentum_form: str = "keras",
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"`nesterov` must be a bool. Received: nesterov={nesterov!r}")
        self.nesterov = bool(nesterov)
        if momentum_form not in _FORMS:
            raise ValueError(
                f"`momentum_form` must be one of {list(_FORMS)}. Received: momentum_form={momentum_form!r}"
            )
        self.momentum_form = momentum_form

    def build_state(self, path, param):
        return {"momentum": np.zeros_like(param)} if self.momentum else {}

    def update_step(self, path, param, grad, lr):
        dt = param.dtype.type
        lr = dt(lr)
        if not self.momentum:
            param -= lr * grad
            return
        mu = dt(self.momentum)
        m = self.state[path]["momentum"]
        if self.momentum_form == "keras":
            m *= mu
            m -= lr * grad
            param += (mu * m - lr * grad) if self.nesterov else m
        elif self.momentum_form == "ema":
            m *= mu
            m += dt(1.0 - self.momentum) * grad
            param -= lr * ((mu * m + dt(1.0 - self.momentum) * grad) if self.nesterov else m)
        else:  # pytorch
            m *= mu
            m += grad
            param -= lr * ((grad + mu * m) if self.nesterov else m)

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "momentum_form": self.momentum_form,
        }

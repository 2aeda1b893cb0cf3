"""Stochastic gradient descent, with momentum in three conventions."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import Optimizer, check_bool, check_choice
from refnn.utils.validation import check_float

__all__ = ["SGD"]

_FORMS = ("keras", "ema", "pytorch")


class SGD(Optimizer):
    """Gradient descent: ``W ← W − lr·g`` (batch, mini-batch or stochastic, as ``fit`` feeds it).

    With ``momentum = μ > 0`` the same rule takes one of three named forms (``m₀ = 0``):

    ============ ===================================== =======================================
    form         velocity                              step (``nesterov=True``)
    ============ ===================================== =======================================
    ``keras``    ``m ← m·μ − g·lr``                    ``W ← W + m``  (``W ← W + m·μ − g·lr``)
    ``ema``      ``V ← μV + (1 − μ)g`` (the lecture's) ``W ← W − lr·V`` (``W ← W − lr(μV + (1−μ)g)``)
    ``pytorch``  ``v ← μv + g``                        ``W ← W − lr·v`` (``W ← W − lr(μv + g)``)
    ============ ===================================== =======================================

    Keras's step is the EMA step divided by ``1 − μ`` (10× for μ = 0.9) when lr is constant,
    so ``keras`` with ``lr`` equals ``ema`` with ``lr/(1 − μ)``; under a schedule they differ,
    because the Keras velocity scales each gradient by the lr of its own step. ``pytorch``
    equals ``keras`` for a constant lr (``m = −lr·v``).

    Keras float64 rounds ``momentum`` through float32 (``ops.cast``); ``keras_float32_constants``
    does the same (the ``ema`` and ``pytorch`` forms then use that μ too).

    Args:
        learning_rate: positive float or schedule (Keras default 0.01).
        momentum: ``μ`` in [0, 1].
        nesterov: Nesterov's look-ahead form (ignored when ``momentum == 0``, as in Keras).
        momentum_form: ``"keras"`` (default), ``"ema"`` or ``"pytorch"``.
        **kwargs: the base options (``weight_decay``, clipping, ``keras_float32_constants``, ``name``).
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
        self.nesterov = check_bool("nesterov", nesterov)
        self.momentum_form = check_choice("momentum_form", momentum_form, _FORMS)

    def build_state(self, path, param):
        return {"momentum": np.zeros_like(param)} if self.momentum else {}

    def update_step(self, path, param, grad, lr):
        dt = param.dtype.type
        lr = dt(lr)
        step = self._buffer(path, param, "step")
        if not self.momentum:
            np.multiply(grad, lr, out=step)
            param -= step
            return
        mu_value = self._keras_value(self.momentum)
        mu = dt(mu_value)
        m = self.state[path]["momentum"]
        look = self._buffer(path, param, "look") if self.nesterov else None
        m *= mu
        if self.momentum_form == "keras":
            np.multiply(grad, lr, out=step)
            m -= step
            if self.nesterov:  # W += m·μ − g·lr
                np.multiply(m, mu, out=look)
                look -= step
                param += look
            else:
                param += m
            return
        # ema: V ← μV + (1−μ)g   |   pytorch: v ← μv + g
        increment = np.multiply(grad, dt(1.0 - mu_value), out=step) if self.momentum_form == "ema" else grad
        m += increment
        if self.nesterov:  # W −= lr·(μ·V + (1−μ)g)  |  W −= lr·(μ·v + g)
            np.multiply(m, mu, out=look)
            look += increment
            look *= lr
            param -= look
        else:
            np.multiply(m, lr, out=step)
            param -= step

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "momentum_form": self.momentum_form,
        }

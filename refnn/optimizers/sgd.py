"""Stochastic gradient descent, with momentum in three conventions."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import Optimizer
from refnn.optimizers.moving_average import blended_moving_average
from refnn.utils.validation import check_bool, check_choice, check_float

__all__ = ["SGD"]

_FORMS = ("velocity", "ema", "trace")


class SGD(Optimizer):
    """Gradient descent: ``W ← W − lr·g`` (batch, mini-batch or stochastic, as ``fit`` feeds it).

    With ``momentum = μ > 0`` the same rule takes one of three named forms (``m₀ = 0``), each named
    for the quantity the optimizer keeps:

    ============ ================================ ==========================================
    form         kept quantity                    step (``nesterov=True``)
    ============ ================================ ==========================================
    ``velocity`` ``m ← m·μ − g·lr`` (Keras)        ``W ← W + m`` (``W ← W + m·μ − g·lr``)
    ``ema``      ``V ← μV + (1 − μ)g`` (textbook)  ``W ← W − lr·V`` (``W ← W − lr(μV + (1−μ)g)``)
    ``trace``    ``v ← μv + g`` (PyTorch, optax)   ``W ← W − lr·v`` (``W ← W − lr(μv + g)``)
    ============ ================================ ==========================================

    Keras's step is the EMA step divided by ``1 − μ`` (10× for μ = 0.9) when lr is constant,
    so ``velocity`` with ``lr`` equals ``ema`` with ``lr/(1 − μ)``; under a schedule they differ,
    because the velocity scales each gradient by the lr of its own step. ``trace`` equals
    ``velocity`` for a constant lr (``m = −lr·v``).

    Keras float64 rounds ``momentum`` through float32 (``ops.cast``); ``keras_float32_constants``
    does the same (the ``ema`` and ``trace`` forms then use that μ too).

    Args:
        learning_rate: positive float or schedule (Keras default 0.01).
        momentum: ``μ`` in [0, 1].
        nesterov: Nesterov's look-ahead form (ignored when ``momentum == 0``, as in Keras).
        momentum_form: ``"velocity"`` (default, Keras), ``"ema"`` (textbook) or ``"trace"``.
        **kwargs: the base options (``weight_decay``, clipping, ``keras_float32_constants``, ``name``).
    """

    name = "SGD"

    def __init__(
        self,
        learning_rate=0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        momentum_form: str = "velocity",
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
        if not self.momentum:
            # W ← W − lr·g
            step = np.multiply(grad, lr, out=self._scratch(path, param, "step"))
            param -= step
        elif self.momentum_form == "velocity":
            self._velocity_step(path, param, grad, lr)
        else:
            self._averaged_step(path, param, grad, lr)

    def _velocity_step(self, path, param, grad, lr) -> None:
        mu = param.dtype.type(self._keras_value(self.momentum))
        m = self._slots(path)["momentum"]
        step = self._scratch(path, param, "step")
        # m ← m·μ − g·lr
        m *= mu
        np.multiply(grad, lr, out=step)
        m -= step
        if self.nesterov:
            # W ← W + m·μ − g·lr
            look_ahead = np.multiply(m, mu, out=self._scratch(path, param, "look_ahead"))
            look_ahead -= step
            param += look_ahead
        else:
            # W ← W + m
            param += m

    def _averaged_step(self, path, param, grad, lr) -> None:
        dt = param.dtype.type
        mu_value = self._keras_value(self.momentum)
        mu = dt(mu_value)
        m = self._slots(path)["momentum"]
        work = self._scratch(path, param, "work")  # (1 − μ)g, then the step
        if self.momentum_form == "ema":
            # V ← μV + (1 − μ)g; ``increment`` keeps (1 − μ)g for the Nesterov step
            increment = work
            blended_moving_average(m, grad, mu, dt(1.0 - mu_value), increment)
        else:
            # v ← μv + g
            increment = grad
            m *= mu
            m += increment
        if self.nesterov:
            # W ← W − lr·(μV + (1 − μ)g)   |   W ← W − lr·(μv + g)
            look_ahead = np.multiply(m, mu, out=self._scratch(path, param, "look_ahead"))
            look_ahead += increment
            look_ahead *= lr
            param -= look_ahead
        else:
            # W ← W − lr·V   |   W ← W − lr·v
            step = np.multiply(m, lr, out=work)
            param -= step

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "momentum_form": self.momentum_form,
        }

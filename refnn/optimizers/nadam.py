"""Nadam (Dozat 2016): Adam with Nesterov momentum, Keras's form."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import Optimizer
from refnn.optimizers.moving_average import moving_average
from refnn.utils.scalars import power
from refnn.utils.validation import check_float

__all__ = ["Nadam"]


class Nadam(Optimizer):
    """Adam whose first moment looks one step ahead, with Dozat's momentum schedule
    ``μ_s = β₁(1 − ½·0.96^s)`` and ``Π_t = μ₁···μ_t`` (``t = iterations + 1``):

    ``m ← m + (g − m)(1 − β₁)``, ``v ← v + (g² − v)(1 − β₂)``,
    ``m̂ = (μ_{t+1}·m)/(1 − Π_t·μ_{t+1}) + ((1 − μ_t)·g)/(1 − Π_t)``, ``v̂ = v/(1 − β₂ᵗ)``,
    ``W ← W − (m̂·lr)/(√v̂ + ε)``.

    ``Π`` (``u_product``) is one scalar for the whole optimizer, multiplied by ``μ_t`` once per
    ``apply`` before the parameters are updated (Keras), in the dtype of the first parameter. The
    m-EMA uses the constant β₁ (as Keras, PyTorch and Dozat's code do; the paper writes μ_t there).

    Keras float64 rounds β₁, β₂ and 0.96 through float32 inside the per-parameter update (in
    ``μ_t``, ``μ_{t+1}``, ``β₂ᵗ`` *and* the EMA factors ``1 − β₁``, ``1 − β₂``), but not in the
    product ``Π``; ``keras_float32_constants`` does the same.

    Args:
        learning_rate: positive float or schedule (Keras default 0.001; Dozat/PyTorch 0.002).
        beta_1: ``β₁`` in [0, 1).
        beta_2: ``β₂`` in [0, 1).
        epsilon: ``ε ≥ 0``.
        **kwargs: the base options (``weight_decay``, clipping, ``keras_float32_constants``, ``name``).

    Attributes:
        u_product: ``Π_t`` after the last update (1 before the first).
    """

    name = "Nadam"
    carried_attributes = ("u_product",)
    _DECAY = 0.96

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = check_float("beta_1", beta_1, low=0.0, high=1.0, high_inclusive=False)
        self.beta_2 = check_float("beta_2", beta_2, low=0.0, high=1.0, high_inclusive=False)
        self.epsilon = check_float("epsilon", epsilon, low=0.0)
        self.u_product = None

    def build_state(self, path, param):
        if self.u_product is None:
            self.u_product = param.dtype.type(1.0)
        return {"momentum": np.zeros_like(param), "velocity": np.zeros_like(param)}

    def _mu(self, beta_1, decay, s):
        """``μ_s = β₁(1 − ½·0.96^s)`` in the dtype of ``beta_1``."""
        dt = type(beta_1)
        return beta_1 * (dt(1.0) - dt(0.5) * power(decay, s))

    def _update(self, params, grads, lr, loss):
        dt = type(self.u_product)
        # Keras: Π ← (Π·β₁)·(1 − ½·0.96ᵗ), β₁ and 0.96 exact here (not cast)
        self.u_product = self.u_product * dt(self.beta_1) * (
            dt(1.0) - dt(0.5) * power(dt(self._DECAY), self.iterations + 1))
        super()._update(params, grads, lr, loss)

    def update_step(self, path, param, grad, lr):
        dt = param.dtype.type
        one, t = dt(1.0), self.iterations + 1
        slots = self._slots(path)
        m, v = slots["momentum"], slots["velocity"]
        work = self._scratch(path, param, "work")  # the averages' increments, then the step
        other = self._scratch(path, param, "other")  # the gradient term, then the denominator
        beta_1, beta_2 = self._keras_cast(self.beta_1, dt), self._keras_cast(self.beta_2, dt)
        decay = self._keras_cast(self._DECAY, dt)
        mu_t, mu_next = self._mu(beta_1, decay, t), self._mu(beta_1, decay, t + 1)
        u_product = dt(self.u_product)

        # m ← m + (g − m)(1 − β₁)
        moving_average(m, grad, one - beta_1, work)
        # v ← v + (g² − v)(1 − β₂)
        moving_average(v, np.square(grad, out=work), one - beta_2, work)
        # step = lr·m̂ = lr·((μ_{t+1}·m)/(1 − Π_t·μ_{t+1}) + ((1 − μ_t)·g)/(1 − Π_t))
        step = np.multiply(m, mu_next, out=work)
        step /= one - u_product * mu_next
        gradient_term = np.multiply(grad, one - mu_t, out=other)
        gradient_term /= one - u_product
        step += gradient_term
        step *= dt(lr)
        # W ← W − step/(√v̂ + ε), v̂ = v/(1 − β₂ᵗ)
        denominator = np.divide(v, one - power(beta_2, t), out=other)
        np.sqrt(denominator, out=denominator)
        denominator += dt(self.epsilon)
        step /= denominator
        param -= step

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}

"""Adamax (Kingma & Ba 2015, §7.1): Adam with the infinity norm."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import Optimizer
from refnn.optimizers.moving_average import moving_average
from refnn.utils.scalars import power
from refnn.utils.validation import check_float

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adam's first moment over an exponentially weighted infinity norm (``t = iterations + 1``):

    ``m ← m + (g − m)(1 − β₁)``, ``u ← max(β₂·u, |g|)``,
    ``W ← W − (lr·m) / ((1 − β₁ᵗ)·(u + ε))``.

    The paper has no ε (u > 0 once any gradient was non-zero) and α = 0.002; Keras adds ε to u and
    defaults to lr = 0.001. The textbook preset is ``learning_rate=0.002``.

    Keras float64 rounds β₁ through float32 inside the power ``β₁ᵗ`` (``β₂`` and ``1 − β₁`` stay
    exact); ``keras_float32_constants`` does the same.

    Args:
        learning_rate: positive float or schedule (Keras default 0.001).
        beta_1: ``β₁`` in [0, 1).
        beta_2: ``β₂`` in [0, 1).
        epsilon: ``ε ≥ 0``.
        **kwargs: the base options (``weight_decay``, clipping, ``keras_float32_constants``, ``name``).
    """

    name = "Adamax"

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = check_float("beta_1", beta_1, low=0.0, high=1.0, high_inclusive=False)
        self.beta_2 = check_float("beta_2", beta_2, low=0.0, high=1.0, high_inclusive=False)
        self.epsilon = check_float("epsilon", epsilon, low=0.0)

    def build_state(self, path, param):
        return {"momentum": np.zeros_like(param), "norm": np.zeros_like(param)}

    def update_step(self, path, param, grad, lr):
        dt = param.dtype.type
        slots = self._slots(path)
        m, u = slots["momentum"], slots["norm"]
        work = self._scratch(path, param, "work")  # the increment, then |g|, then the step
        denominator = self._scratch(path, param, "denominator")
        beta_1_power = power(self._keras_cast(self.beta_1, dt), self.iterations + 1)

        # m ← m + (g − m)(1 − β₁)
        moving_average(m, grad, dt(1.0 - self.beta_1), work)
        # u ← max(β₂·u, |g|)
        u *= dt(self.beta_2)
        np.maximum(u, np.abs(grad, out=work), out=u)
        # W ← W − (lr·m) / ((1 − β₁ᵗ)·(u + ε))
        step = np.multiply(m, dt(lr), out=work)
        np.add(u, dt(self.epsilon), out=denominator)
        denominator *= dt(1.0) - beta_1_power
        step /= denominator
        param -= step

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}

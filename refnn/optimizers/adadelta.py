"""Adadelta (Zeiler 2012), Keras's form (with a learning rate)."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import Optimizer
from refnn.optimizers.moving_average import blended_moving_average
from refnn.utils.validation import check_float

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Step sizes from the ratio of two running RMS's (Zeiler 2012, Algorithm 1):

    ``E[g²] ← ρE[g²] + (1 − ρ)g²``,
    ``Δ = −(√(E[Δ²] + ε)·g) / √(E[g²] + ε)``,
    ``E[Δ²] ← ρE[Δ²] + (1 − ρ)Δ²``,
    ``W ← W + lr·Δ``.

    The paper has no learning rate (``lr = 1``); Keras multiplies by ``lr`` and defaults to 0.001,
    so Keras's default Adadelta moves 1000× slower than the paper's. The textbook preset
    (``optimizers.get("adadelta", convention="textbook")``) is ``learning_rate=1.0, rho=0.95,
    epsilon=1e-6`` (Zeiler's values).

    Keras float64 rounds none of Adadelta's constants; only a schedule is computed in float32.

    Args:
        learning_rate: positive float or schedule (Keras default 0.001; 1.0 for the paper).
        rho: decay ``ρ`` in [0, 1).
        epsilon: ``ε ≥ 0``.
        **kwargs: the base options (``weight_decay``, clipping, ``keras_float32_constants``, ``name``).
    """

    name = "Adadelta"

    def __init__(self, learning_rate=0.001, rho: float = 0.95, epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = check_float("rho", rho, low=0.0, high=1.0, high_inclusive=False)
        self.epsilon = check_float("epsilon", epsilon, low=0.0)

    def build_state(self, path, param):
        return {"accumulated_grad": np.zeros_like(param), "accumulated_delta_var": np.zeros_like(param)}

    def update_step(self, path, param, grad, lr):
        dt = param.dtype.type
        state = self._slots(path)
        eg, ed = state["accumulated_grad"], state["accumulated_delta_var"]
        rho, one_minus_rho, eps = dt(self.rho), dt(1.0 - self.rho), dt(self.epsilon)
        work = self._scratch(path, param, "work")  # the increments, then √(E[g²] + ε)
        delta = self._scratch(path, param, "delta")

        # E[g²] ← ρE[g²] + (1 − ρ)g²
        blended_moving_average(eg, np.square(grad, out=work), rho, one_minus_rho, work)
        # Δ = −(√(E[Δ²] + ε)·g) / √(E[g²] + ε)
        np.add(ed, eps, out=delta)
        np.sqrt(delta, out=delta)
        delta *= grad
        rms_grad = np.add(eg, eps, out=work)
        np.sqrt(rms_grad, out=rms_grad)
        delta /= rms_grad
        np.negative(delta, out=delta)
        # E[Δ²] ← ρE[Δ²] + (1 − ρ)Δ²
        blended_moving_average(ed, np.square(delta, out=work), rho, one_minus_rho, work)
        # W ← W + lr·Δ
        delta *= dt(lr)
        param += delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}

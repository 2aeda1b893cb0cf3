"""Adam (Kingma & Ba 2015), Keras's ε-hat form by default, Algorithm 1 on request."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import Optimizer, check_bool, check_choice
from refnn.utils.validation import check_float

__all__ = ["Adam"]

_FORMS = ("keras", "paper")


class Adam(Optimizer):
    """Adaptive moment estimation. With ``t = iterations + 1`` (the first step has ``t = 1``):

    ``m ← m + (g − m)(1 − β₁)``, ``v ← v + (g² − v)(1 − β₂)`` (the usual EMAs, Keras's arithmetic), then

    * ``epsilon_form="keras"`` (default; Kingma & Ba §2's "efficient" form with ε̂):
      ``α_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)``, ``W ← W − (m·α_t)/(√v + ε)``
    * ``epsilon_form="paper"`` (Algorithm 1, PyTorch): ``m̂ = m/(1 − β₁ᵗ)``, ``v̂ = v/(1 − β₂ᵗ)``,
      ``W ← W − (lr·m̂)/(√v̂ + ε)``

    The two agree exactly when ``ε_keras = ε_paper·√(1 − β₂ᵗ)``, i.e. Keras's fixed ε acts like a
    paper ε that is 31.6× larger at t = 1 (β₂ = 0.999) and shrinks towards it as t grows; they
    differ visibly only where ``√v̂`` is comparable to ε (tiny gradients). ``amsgrad=True`` keeps
    ``v̂_max ← max(v̂_max, v)`` of the *uncorrected* v (Keras and PyTorch) and uses it for v.

    The lecture's preset (``optimizers.get("adam", convention="textbook")``) is the paper form
    with ε = 1e-8.

    Keras float64 rounds β₁ and β₂ through float32 inside the powers ``β₁ᵗ``, ``β₂ᵗ`` (not in the
    ``1 − β`` EMA factors); ``keras_float32_constants`` does the same.

    Args:
        learning_rate: positive float or schedule (Keras default 0.001).
        beta_1: ``β₁`` in [0, 1).
        beta_2: ``β₂`` in [0, 1).
        epsilon: ``ε ≥ 0`` (Keras 1e-7, the paper 1e-8).
        amsgrad: Reddi et al.'s running maximum of v.
        epsilon_form: ``"keras"`` or ``"paper"``.
        **kwargs: the base options (``weight_decay``, clipping, ``keras_float32_constants``, ``name``).
    """

    name = "Adam"

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        epsilon_form: str = "keras",
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = check_float("beta_1", beta_1, low=0.0, high=1.0, high_inclusive=False)
        self.beta_2 = check_float("beta_2", beta_2, low=0.0, high=1.0, high_inclusive=False)
        self.epsilon = check_float("epsilon", epsilon, low=0.0)
        self.amsgrad = check_bool("amsgrad", amsgrad)
        self.epsilon_form = check_choice("epsilon_form", epsilon_form, _FORMS)

    def build_state(self, path, param):
        state = {"momentum": np.zeros_like(param), "velocity": np.zeros_like(param)}
        if self.amsgrad:
            state["velocity_hat"] = np.zeros_like(param)
        return state

    def update_step(self, path, param, grad, lr):
        dt = param.dtype.type
        t = self.iterations + 1
        state = self.state[path]
        m, v = state["momentum"], state["velocity"]
        num = self._buffer(path, param, "numerator")
        den = self._buffer(path, param, "denominator")
        beta_1_power = self._power(self._keras_cast(self.beta_1, dt), t)
        beta_2_power = self._power(self._keras_cast(self.beta_2, dt), t)

        np.subtract(grad, m, out=num)
        num *= dt(1.0 - self.beta_1)
        m += num
        np.square(grad, out=num)
        num -= v
        num *= dt(1.0 - self.beta_2)
        v += num
        if self.amsgrad:
            v = np.maximum(state["velocity_hat"], v, out=state["velocity_hat"])

        one = dt(1.0)
        if self.epsilon_form == "keras":
            alpha = dt(lr) * np.sqrt(one - beta_2_power) / (one - beta_1_power)
            np.multiply(m, alpha, out=num)
            np.sqrt(v, out=den)
        else:
            np.divide(m, one - beta_1_power, out=num)
            num *= dt(lr)
            np.divide(v, one - beta_2_power, out=den)
            np.sqrt(den, out=den)
        den += dt(self.epsilon)
        num /= den
        param -= num

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
            "epsilon_form": self.epsilon_form,
        }

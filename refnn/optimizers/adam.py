"""Adam (Kingma & Ba 2015): ε on the uncorrected √v (Keras) by default, Algorithm 1 on request."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import Optimizer
from refnn.optimizers.moving_average import moving_average
from refnn.utils.scalars import power
from refnn.utils.validation import check_bool, check_choice, check_float

__all__ = ["Adam"]

_PLACEMENTS = ("sqrt_v", "sqrt_v_hat")


class Adam(Optimizer):
    """Adaptive moment estimation. With ``t = iterations + 1`` (the first step has ``t = 1``):

    ``m ← m + (g − m)(1 − β₁)``, ``v ← v + (g² − v)(1 − β₂)`` (the moving averages, Keras's
    arithmetic), then, by where ε is added:

    * ``epsilon_placement="sqrt_v"`` (default; Keras, Kingma & Ba §2's "efficient" form, whose ε
      they call ε̂): ``α_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)``, ``W ← W − (m·α_t)/(√v + ε)``
    * ``epsilon_placement="sqrt_v_hat"`` (Algorithm 1, the textbook form, PyTorch):
      ``m̂ = m/(1 − β₁ᵗ)``, ``v̂ = v/(1 − β₂ᵗ)``, ``W ← W − (lr·m̂)/(√v̂ + ε)``

    The two agree exactly when ``ε_sqrt_v = ε_sqrt_v_hat·√(1 − β₂ᵗ)``, i.e. Keras's fixed ε acts
    like a textbook ε that is 31.6× larger at t = 1 (β₂ = 0.999) and shrinks towards it as t
    grows; they differ visibly only where ``√v̂`` is comparable to ε (tiny gradients).
    ``amsgrad=True`` keeps ``v̂_max ← max(v̂_max, v)`` of the *uncorrected* v (Keras and PyTorch)
    and uses it for v.

    The textbook preset (``optimizers.get("adam", convention="textbook")``) is Algorithm 1 with
    ε = 1e-8.

    Keras float64 rounds β₁ and β₂ through float32 inside the powers ``β₁ᵗ``, ``β₂ᵗ`` (not in the
    ``1 − β`` factors of the moving averages); ``keras_float32_constants`` does the same.

    Args:
        learning_rate: positive float or schedule (Keras default 0.001).
        beta_1: ``β₁`` in [0, 1).
        beta_2: ``β₂`` in [0, 1).
        epsilon: ``ε ≥ 0`` (Keras 1e-7, Algorithm 1 1e-8).
        amsgrad: Reddi et al.'s running maximum of v.
        epsilon_placement: ``"sqrt_v"`` (Keras) or ``"sqrt_v_hat"`` (textbook).
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
        epsilon_placement: str = "sqrt_v",
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = check_float("beta_1", beta_1, low=0.0, high=1.0, high_inclusive=False)
        self.beta_2 = check_float("beta_2", beta_2, low=0.0, high=1.0, high_inclusive=False)
        self.epsilon = check_float("epsilon", epsilon, low=0.0)
        self.amsgrad = check_bool("amsgrad", amsgrad)
        self.epsilon_placement = check_choice("epsilon_placement", epsilon_placement, _PLACEMENTS)

    def build_state(self, path, param):
        state = {"momentum": np.zeros_like(param), "velocity": np.zeros_like(param)}
        if self.amsgrad:
            state["velocity_hat"] = np.zeros_like(param)
        return state

    def _step_scalars(self, dt, lr, epsilon_placement, beta_1, beta_2, epsilon, keras_float32_constants):
        """This step's scalars in ``dt``, computed once per step (``_per_step``):
        ``(1 − β₁, 1 − β₂, α, 1 − β₁ᵗ, 1 − β₂ᵗ, ε)`` with ``α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)`` (used by
        ``"sqrt_v"``; the two bias corrections by ``"sqrt_v_hat"``). Every argument is part of the
        cache key; ``keras_float32_constants`` is read through ``_keras_cast``."""
        one, t = dt(1.0), self.iterations + 1
        beta_1_power = power(self._keras_cast(beta_1, dt), t)
        beta_2_power = power(self._keras_cast(beta_2, dt), t)
        bias_1, bias_2 = one - beta_1_power, one - beta_2_power
        alpha = dt(lr) * np.sqrt(bias_2) / bias_1
        return dt(1.0 - beta_1), dt(1.0 - beta_2), alpha, bias_1, bias_2, dt(epsilon)

    def update_step(self, path, param, grad, lr):
        slots = self._slots(path)
        m, v = slots["momentum"], slots["velocity"]
        work = self._scratch(path, param, "work")  # the averages' increments, then the step
        denominator = self._scratch(path, param, "denominator")
        one_minus_beta_1, one_minus_beta_2, alpha, bias_1, bias_2, epsilon = self._per_step(
            self._step_scalars, param.dtype.type, lr, self.epsilon_placement, self.beta_1, self.beta_2,
            self.epsilon, self.keras_float32_constants)

        # m ← m + (g − m)(1 − β₁)
        moving_average(m, grad, one_minus_beta_1, work)
        # v ← v + (g² − v)(1 − β₂)
        moving_average(v, np.square(grad, out=work), one_minus_beta_2, work)
        if self.amsgrad:
            # v̂_max ← max(v̂_max, v), used in place of v
            v = np.maximum(slots["velocity_hat"], v, out=slots["velocity_hat"])
        if self.epsilon_placement == "sqrt_v":
            # step = m·α, α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ); denominator = √v + ε
            step = np.multiply(m, alpha, out=work)
            np.sqrt(v, out=denominator)
        else:
            # step = lr·m/(1 − β₁ᵗ), denominator = √(v/(1 − β₂ᵗ)) + ε
            step = np.divide(m, bias_1, out=work)
            step *= param.dtype.type(lr)
            np.divide(v, bias_2, out=denominator)
            np.sqrt(denominator, out=denominator)
        denominator += epsilon
        # W ← W − step / denominator
        step /= denominator
        param -= step

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
            "epsilon_placement": self.epsilon_placement,
        }

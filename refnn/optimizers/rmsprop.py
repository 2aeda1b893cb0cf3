"""RMSprop (Hinton's lecture 6e), Keras's form by default, the textbook's on request."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import Optimizer
from refnn.optimizers.moving_average import blended_moving_average
from refnn.utils.scalars import power
from refnn.utils.validation import check_bool, check_choice, check_float

__all__ = ["RMSprop"]

_PLACEMENTS = ("inside_sqrt", "outside_sqrt")


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients.

    ``v ← ρv + (1 − ρ)g²`` (centered: also ``a ← ρa + (1 − ρ)g`` and use ``v − a²``), then

    * ``epsilon_placement="inside_sqrt"`` (Keras, TF1; the default): ``Δ = lr·g / √(v + ε)``
    * ``epsilon_placement="outside_sqrt"`` (textbook, PyTorch): ``Δ = lr·g / (√v + ε)``

    and ``W ← W − Δ``, or with ``momentum = μ > 0``: ``b ← μb + Δ; W ← W − b`` (Keras; PyTorch keeps
    lr outside ``b``, which is the same for a constant lr).
    ``bias_correction=True`` (not in Keras) divides ``v`` by ``1 − ρᵗ`` first, as Adam does: with ε
    outside the √ this *is* Adam with ``β₁ = 0`` (``epsilon_placement="sqrt_v_hat"``). It is refused
    together with ``centered=True``: at t = 1 the corrected ``v − a²`` is ``g² − g² = 0`` (one sample
    has no variance), so the first step would be ``lr·g/ε``, 10⁵× too large, and no published method
    combines the two (Graves's centred RMSprop has no correction). Keras's ε inside the √
    puts a floor ``√ε ≈ 3.2e-4`` under the denominator, which slows steps for ``|g| ≲ 1e-3``.

    The textbook preset (``optimizers.get("rmsprop", convention="textbook")``) is
    ``rho=0.999, epsilon_placement="outside_sqrt"`` with ε = 1e-8.

    Keras float64 rounds none of RMSprop's constants (``rho``, ``momentum`` and ``epsilon`` are used
    as Python floats); only a learning-rate schedule is computed in float32.

    Args:
        learning_rate: positive float or schedule (Keras default 0.001).
        rho: decay ``ρ`` of the mean square, in [0, 1).
        momentum: ``μ`` in [0, 1].
        epsilon: ``ε ≥ 0``.
        centered: subtract the squared mean gradient (Graves 2013).
        epsilon_placement: ``"inside_sqrt"`` (Keras) or ``"outside_sqrt"``.
        bias_correction: divide the running averages by ``1 − ρᵗ`` (``t = iterations + 1``).
        **kwargs: the base options (``weight_decay``, clipping, ``keras_float32_constants``, ``name``).
    """

    name = "RMSprop"

    def __init__(
        self,
        learning_rate=0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        epsilon_placement: str = "inside_sqrt",
        bias_correction: bool = False,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = check_float("rho", rho, low=0.0, high=1.0, high_inclusive=False)
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0)
        self.epsilon = check_float("epsilon", epsilon, low=0.0)
        self.centered = check_bool("centered", centered)
        self.epsilon_placement = check_choice("epsilon_placement", epsilon_placement, _PLACEMENTS)
        self.bias_correction = check_bool("bias_correction", bias_correction)
        if self.centered and self.bias_correction:
            raise ValueError(
                "`centered=True` with `bias_correction=True` is refused: at t = 1 the corrected mean square "
                "equals the squared corrected mean (one sample has no variance), so the first step would be "
                "lr·g/ε — about 10⁵ times too large. Use one of the two. Received: centered=True, "
                "bias_correction=True"
            )

    def build_state(self, path, param):
        state = {"velocity": np.zeros_like(param)}
        if self.momentum > 0:
            state["momentum"] = np.zeros_like(param)
        if self.centered:
            state["average_gradient"] = np.zeros_like(param)
        return state

    def update_step(self, path, param, grad, lr):
        dt = param.dtype.type
        state = self._slots(path)
        rho, one_minus_rho = dt(self.rho), dt(1.0 - self.rho)
        work = self._scratch(path, param, "work")  # the increments, then a², then the step

        # v ← ρv + (1 − ρ)g²
        blended_moving_average(state["velocity"], np.square(grad, out=work), rho, one_minus_rho, work)
        if self.centered:
            # a ← ρa + (1 − ρ)g
            blended_moving_average(state["average_gradient"], grad, rho, one_minus_rho, work)
        denominator = self._denominator(path, param, work)
        # step = lr·g / denominator; with momentum b ← μb + step, W ← W − b, else W ← W − step
        step = np.multiply(grad, dt(lr), out=work)
        step /= denominator
        if self.momentum > 0:
            b = state["momentum"]
            b *= dt(self.momentum)
            b += step
            param -= b
        else:
            param -= step

    def _denominator(self, path, param, work: np.ndarray) -> np.ndarray:
        """``√(s + ε)`` (inside) or ``√s + ε`` (outside): ``s = v``, ``v/(1 − ρᵗ)`` when
        bias-corrected, ``v − a²`` when centered (``a²`` computed in ``work``)."""
        dt = param.dtype.type
        state = self._slots(path)
        denominator = self._scratch(path, param, "denominator")
        source = state["velocity"]
        if self.bias_correction:
            source = np.divide(source, dt(1.0) - power(dt(self.rho), self.iterations + 1), out=denominator)
        if self.centered:
            mean_square = np.square(state["average_gradient"], out=work)
            source = np.subtract(source, mean_square, out=denominator)
        if self.epsilon_placement == "inside_sqrt":  # Keras: √(s + ε)
            np.add(source, dt(self.epsilon), out=denominator)
            return np.sqrt(denominator, out=denominator)
        if self.centered:  # v − a² ≥ 0 up to rounding; without ε inside, √ needs the clamp
            source = np.maximum(source, dt(0.0), out=denominator)
        np.sqrt(source, out=denominator)
        denominator += dt(self.epsilon)
        return denominator

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
            "epsilon_placement": self.epsilon_placement,
            "bias_correction": self.bias_correction,
        }

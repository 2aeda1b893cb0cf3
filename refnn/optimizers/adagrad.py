"""Adagrad (Duchi, Hazan & Singer 2011), Keras's form by default, the textbook's on request."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import Optimizer
from refnn.utils.validation import check_choice, check_float

__all__ = ["Adagrad"]

_PLACEMENTS = ("inside_sqrt", "outside_sqrt")


class Adagrad(Optimizer):
    """Per-parameter rates from the sum of all squared gradients: ``G ← G + g²`` (``G₀ =
    initial_accumulator_value``; the current g² is already in G), then

    * ``epsilon_placement="inside_sqrt"`` (Keras, the default): ``W ← W − (lr·g)/√(G + ε)``
    * ``epsilon_placement="outside_sqrt"`` (textbook: the paper's ``δ``, PyTorch): ``W ← W − (lr·g)/(√G + ε)``

    Keras starts the accumulator at 0.1 (the paper and PyTorch at 0), which damps the first steps
    of small gradients: the first step is ``lr·g/√(0.1 + g²)`` instead of ``≈ lr·sign(g)``.
    The textbook preset (``optimizers.get("adagrad", convention="textbook")``) is
    ``initial_accumulator_value=0.0, epsilon_placement="outside_sqrt"`` with ε = 1e-8.

    Keras float64 rounds ``initial_accumulator_value`` through float32 (its ``Constant``
    initializer casts); ``keras_float32_constants`` does the same.

    Args:
        learning_rate: positive float or schedule (Keras default 0.001).
        initial_accumulator_value: ``G₀ ≥ 0``.
        epsilon: ``ε ≥ 0``.
        epsilon_placement: ``"inside_sqrt"`` (Keras) or ``"outside_sqrt"``.
        **kwargs: the base options (``weight_decay``, clipping, ``keras_float32_constants``, ``name``).
    """

    name = "Adagrad"

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        epsilon_placement: str = "inside_sqrt",
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = check_float(
            "initial_accumulator_value", initial_accumulator_value, low=0.0)
        self.epsilon = check_float("epsilon", epsilon, low=0.0)
        self.epsilon_placement = check_choice("epsilon_placement", epsilon_placement, _PLACEMENTS)

    def build_state(self, path, param):
        start = self._keras_cast(self.initial_accumulator_value, param.dtype.type)
        return {"accumulator": np.full_like(param, start)}

    def update_step(self, path, param, grad, lr):
        dt = param.dtype.type
        accumulator = self._slots(path)["accumulator"]
        work = self._scratch(path, param, "work")  # g², then the step
        denominator = self._scratch(path, param, "denominator")
        # G ← G + g²
        accumulator += np.square(grad, out=work)
        if self.epsilon_placement == "inside_sqrt":  # Keras: √(G + ε)
            np.add(accumulator, dt(self.epsilon), out=denominator)
            np.sqrt(denominator, out=denominator)
        else:  # textbook: √G + ε
            np.sqrt(accumulator, out=denominator)
            denominator += dt(self.epsilon)
        # W ← W − lr·g / denominator
        step = np.multiply(grad, dt(lr), out=work)
        step /= denominator
        param -= step

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
            "epsilon_placement": self.epsilon_placement,
        }

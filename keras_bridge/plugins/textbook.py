"""Keras optimizers for the textbook conventions refnn offers besides Keras's own (the forms a
lecture writes, ``docs/keras-numerics.md``), so that every refnn optimizer has a Keras
counterpart. Each is Keras's optimizer of the same name with one more option; at its Keras value
it *is* Keras's optimizer (the update is Keras's own code), at the textbook value it computes
refnn's rule with refnn's order of operations and Keras's float32 constants:

=================================== =========================================================
``SGD(momentum_form="ema")``        ``V ← μV + (1 − μ)g; W ← W − lr·V`` (Nesterov: ``W ← W − lr·(μV + (1 − μ)g)``)
``SGD(momentum_form="trace")``      ``v ← μv + g; W ← W − lr·v`` (Nesterov: ``W ← W − lr·(μv + g)``)
``Adam/AdamW(epsilon_placement=     ``W ← W − lr·m̂ / (√v̂ + ε)``, ``m̂ = m/(1 − β₁ᵗ)``, ``v̂ = v/(1 − β₂ᵗ)``
"sqrt_v_hat")``                     (Kingma & Ba's Algorithm 1; Keras folds the corrections into lr)
``RMSprop(epsilon_placement=        ``W ← W − lr·g / (√s + ε)``, ``s = v`` (``v/(1 − ρᵗ)`` with
"outside_sqrt", bias_correction)``  ``bias_correction``; ``v − a²`` when centred, clamped at 0)
``Adagrad(epsilon_placement=        ``W ← W − lr·g / (√G + ε)``
"outside_sqrt")``
=================================== =========================================================

μ, β₁ and β₂ enter as Keras rounds them (through float32, also in float64), exactly as refnn's
``keras_float32_constants=True``; the factors ``1 − β`` and ``1 − ρ`` are exact.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_bridge.plugins.rprop import _constant
from refnn import optimizers as refnn_optimizers

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]


def _f32(value: float) -> float:
    """A hyper-parameter as Keras's ``ops.cast`` of a Python float leaves it: rounded to float32."""
    return float(np.float32(value))


@keras.saving.register_keras_serializable(package="keras_bridge")
class SGD(keras.optimizers.SGD):
    """Keras's SGD with refnn's ``momentum_form``: ``"velocity"`` (Keras), ``"ema"`` or ``"trace"``."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, momentum_form="velocity", **kwargs):
        refnn_optimizers.SGD(momentum=momentum, momentum_form=momentum_form)  # refnn's argument checks
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov, **kwargs)
        self.momentum_form = momentum_form

    def update_step(self, gradient, variable, learning_rate):
        if self.momentum_form == "velocity" or self.momentum == 0:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        lr, g = ops.cast(learning_rate, dtype), ops.cast(gradient, dtype)
        m = self.momentums[self._get_variable_index(variable)]
        mu = _constant(_f32(self.momentum), dtype)
        if self.momentum_form == "ema":
            increment = ops.multiply(g, _constant(1.0 - _f32(self.momentum), dtype))
        else:
            increment = g
        self.assign(m, ops.add(ops.multiply(m, mu), increment))
        direction = ops.add(ops.multiply(m, mu), increment) if self.nesterov else m
        self.assign_sub(variable, ops.multiply(direction, lr))

    def get_config(self):
        return {**super().get_config(), "momentum_form": self.momentum_form}


class _BiasCorrectedEpsilon:
    """``epsilon_placement="sqrt_v_hat"`` for Adam and AdamW:
    ``W ← W − (lr·m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε)``; ``"sqrt_v"`` is Keras's own step."""

    def update_step(self, gradient, variable, learning_rate):
        if self.epsilon_placement == "sqrt_v":
            return super().update_step(gradient, variable, learning_rate)
        return self._sqrt_v_hat_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "epsilon_placement": self.epsilon_placement}

    def _sqrt_v_hat_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr, g = ops.cast(learning_rate, dtype), ops.cast(gradient, dtype)
        step_count = ops.cast(self.iterations + 1, dtype)
        one = _constant(1.0, dtype)
        beta_1_power = ops.power(ops.cast(self.beta_1, dtype), step_count)
        beta_2_power = ops.power(ops.cast(self.beta_2, dtype), step_count)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        self.assign_add(m, ops.multiply(ops.subtract(g, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(g), v), 1 - self.beta_2))
        if self.amsgrad:
            v_hat = self._velocity_hats[index]
            self.assign(v_hat, ops.maximum(v_hat, v))
            v = v_hat
        step = ops.multiply(ops.divide(m, ops.subtract(one, beta_1_power)), lr)
        denominator = ops.add(ops.sqrt(ops.divide(v, ops.subtract(one, beta_2_power))), _constant(self.epsilon, dtype))
        self.assign_sub(variable, ops.divide(step, denominator))


@keras.saving.register_keras_serializable(package="keras_bridge")
class Adam(_BiasCorrectedEpsilon, keras.optimizers.Adam):
    """Keras's Adam with refnn's ``epsilon_placement``: ``"sqrt_v"`` (Keras) or ``"sqrt_v_hat"``."""

    def __init__(self, learning_rate=0.001, epsilon_placement="sqrt_v", **kwargs):
        refnn_optimizers.Adam(epsilon_placement=epsilon_placement)  # refnn's argument checks
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.epsilon_placement = epsilon_placement


@keras.saving.register_keras_serializable(package="keras_bridge")
class AdamW(_BiasCorrectedEpsilon, keras.optimizers.AdamW):
    """Keras's AdamW with refnn's ``epsilon_placement``."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, epsilon_placement="sqrt_v", **kwargs):
        refnn_optimizers.AdamW(epsilon_placement=epsilon_placement)
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        self.epsilon_placement = epsilon_placement


@keras.saving.register_keras_serializable(package="keras_bridge")
class RMSprop(keras.optimizers.RMSprop):
    """Keras's RMSprop with refnn's ``epsilon_placement`` (``"inside_sqrt"``: Keras;
    ``"outside_sqrt"``) and ``bias_correction``."""

    def __init__(self, learning_rate=0.001, epsilon_placement="inside_sqrt", bias_correction=False, **kwargs):
        refnn_optimizers.RMSprop(epsilon_placement=epsilon_placement, bias_correction=bias_correction,
                                 centered=kwargs.get("centered", False))
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.epsilon_placement = epsilon_placement
        self.bias_correction = bias_correction

    def update_step(self, gradient, variable, learning_rate):
        if self.epsilon_placement == "inside_sqrt" and not self.bias_correction:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        lr, g = ops.cast(learning_rate, dtype), ops.cast(gradient, dtype)
        index = self._get_variable_index(variable)
        rho, one_minus_rho = _constant(self.rho, dtype), _constant(1.0 - self.rho, dtype)
        velocity = self._velocities[index]
        self.assign(velocity, ops.add(ops.multiply(velocity, rho), ops.multiply(ops.square(g), one_minus_rho)))
        source = velocity
        if self.bias_correction:
            steps = ops.cast(self.iterations + 1, dtype)
            source = ops.divide(source, ops.subtract(_constant(1.0, dtype), ops.power(rho, steps)))
        if self.centered:
            average = self._average_gradients[index]
            self.assign(average, ops.add(ops.multiply(average, rho), ops.multiply(g, one_minus_rho)))
            source = ops.subtract(source, ops.square(average))
        epsilon = _constant(self.epsilon, dtype)
        if self.epsilon_placement == "inside_sqrt":
            denominator = ops.sqrt(ops.add(source, epsilon))
        else:  # v − a² ≥ 0 up to rounding; without ε inside, √ needs the clamp
            denominator = ops.add(ops.sqrt(ops.maximum(source, _constant(0.0, dtype)) if self.centered else source),
                                  epsilon)
        step = ops.divide(ops.multiply(g, lr), denominator)
        if self.momentum > 0:
            b = self._momentums[index]
            self.assign(b, ops.add(ops.multiply(b, _constant(self.momentum, dtype)), step))
            step = b
        self.assign_sub(variable, step)

    def get_config(self):
        return {**super().get_config(), "epsilon_placement": self.epsilon_placement,
                "bias_correction": self.bias_correction}


@keras.saving.register_keras_serializable(package="keras_bridge")
class Adagrad(keras.optimizers.Adagrad):
    """Keras's Adagrad with refnn's ``epsilon_placement``: ``"inside_sqrt"`` (Keras) or
    ``"outside_sqrt"`` (the paper's δ)."""

    def __init__(self, learning_rate=0.001, epsilon_placement="inside_sqrt", **kwargs):
        refnn_optimizers.Adagrad(epsilon_placement=epsilon_placement)
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.epsilon_placement = epsilon_placement

    def update_step(self, gradient, variable, learning_rate):
        if self.epsilon_placement == "inside_sqrt":
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        lr, g = ops.cast(learning_rate, dtype), ops.cast(gradient, dtype)
        accumulator = self._accumulators[self._get_variable_index(variable)]
        self.assign_add(accumulator, ops.square(g))
        denominator = ops.add(ops.sqrt(accumulator), _constant(self.epsilon, dtype))
        self.assign_sub(variable, ops.divide(ops.multiply(g, lr), denominator))

    def get_config(self):
        return {**super().get_config(), "epsilon_placement": self.epsilon_placement}

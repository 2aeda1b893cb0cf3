"""Quickprop as a Keras optimizer: refnn's ``optimizers.Quickprop``, step for step."""

from __future__ import annotations

import keras
from keras import ops

from keras_bridge.plugins.rprop import _constant
from refnn import optimizers as refnn_optimizers

__all__ = ["Quickprop"]


@keras.saving.register_keras_serializable(package="keras_bridge")
class Quickprop(keras.optimizers.Optimizer):
    """Fahlman's Quickprop (1988) for Keras.

    Per element, with slope ``s = g + decay·W``, previous slope ``s'``, previous step ``d``,
    ``ε = learning_rate`` and ``μ = max_growth``:

    * ``d = 0`` (first step): ``Δw = −ε·s``;
    * ``d > 0``: ``Δw = [−ε·s if s < 0] + (μ·d if s < μ/(1+μ)·s' else s/(s' − s)·d)``;
      ``d < 0``: the mirror image;

    ``W ← W + Δw``. Exactly refnn's ``optimizers.Quickprop`` (same arguments and defaults; the
    hyper-parameters enter as exact constants of the variable's dtype, ``μ/(1+μ)`` computed in
    double first, as refnn does), so trajectories agree to rounding level. Full batch: train with
    ``batch_size ≥`` the number of rows. Slots: ``prev_slope``, ``prev_step``.
    """

    def __init__(self, learning_rate=0.01, max_growth: float = 1.75, decay: float = 0.0,
                 name: str = "Quickprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        # the argument rules are refnn's: one definition, the same messages
        refnn_optimizers.Quickprop(learning_rate=learning_rate, max_growth=max_growth, decay=decay)
        self.max_growth = float(max_growth)
        self.decay = float(decay)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._prev_slopes, self._prev_steps = self.add_optimizer_variables(var_list, ["prev_slope", "prev_step"])

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        g = ops.cast(gradient, dtype)
        lr = ops.cast(learning_rate, dtype)
        i = self._get_variable_index(variable)
        prev_slope, d = self._prev_slopes[i], self._prev_steps[i]
        slope = ops.add(g, ops.multiply(variable, _constant(self.decay, dtype))) if self.decay else g
        zero = ops.zeros_like(g)
        up, down = ops.greater(d, 0), ops.less(d, 0)
        moved = ops.logical_or(up, down)
        threshold = ops.multiply(prev_slope, _constant(self.max_growth / (1.0 + self.max_growth), dtype))
        grow = ops.logical_or(ops.logical_and(up, ops.less(slope, threshold)),
                              ops.logical_and(down, ops.greater(slope, threshold)))
        secant = ops.logical_and(moved, ops.logical_not(grow))
        along = ops.logical_or(ops.logical_or(ops.logical_and(up, ops.less(slope, 0)),
                                              ops.logical_and(down, ops.greater(slope, 0))),
                               ops.logical_not(moved))
        gradient_term = ops.where(along, ops.multiply(slope, ops.negative(lr)), zero)
        denominator = ops.where(secant, ops.subtract(prev_slope, slope), ops.ones_like(g))
        jump = ops.where(grow, ops.multiply(d, _constant(self.max_growth, dtype)),
                         ops.where(secant, ops.multiply(ops.divide(slope, denominator), d), zero))
        step = ops.add(gradient_term, jump)
        self.assign(variable, ops.add(variable, step))
        self.assign(d, step)
        self.assign(prev_slope, slope)

    def get_config(self):
        config = super().get_config()
        config.update({"max_growth": self.max_growth, "decay": self.decay})
        return config

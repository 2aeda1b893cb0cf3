"""Rprop as a Keras optimizer: the four variants of refnn's ``optimizers.Rprop``, step for step."""

from __future__ import annotations

import threading

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_bridge.plugins.replicas import replica_context
from refnn import optimizers as refnn_optimizers

__all__ = ["Rprop"]

def _constant(value: float, dtype):
    """``value`` as an exact tensor of ``dtype`` (``ops.cast`` of a Python float would go through
    float32 first, ``docs/keras-numerics.md``)."""
    return ops.convert_to_tensor(np.asarray(value, dtype=keras.backend.standardize_dtype(dtype)))


def _fill(value: float):
    def initializer(shape, dtype=None):
        return np.full(shape, value, dtype=np.dtype(dtype or keras.config.floatx()))

    return initializer


@keras.saving.register_keras_serializable(package="keras_bridge")
class Rprop(keras.optimizers.Optimizer):
    """Resilient backpropagation (Riedmiller & Braun 1993; Igel & Hüsken 2000) for Keras.

    Per element, with ``p = g_{t−1}·g_t``: ``Δ ← min(Δ·η⁺, Δmax)`` if ``p > 0``,
    ``Δ ← max(Δ·η⁻, Δmin)`` if ``p < 0``; then ``W ← W − sign(g)·Δ`` (``g₀ = 0``, ``Δ₀ =
    learning_rate``). On a sign change: ``"rprop+"`` restores the weight to its value before the
    previous step and stores ``g = 0``; ``"rprop-"`` moves with the new sign; ``"irprop-"`` stores
    ``g = 0`` and does not move; ``"irprop+"`` restores only if the loss went up (``E_t > E_{t−1}``)
    and stores ``g = 0``. Exactly refnn's ``optimizers.Rprop`` (same arguments, defaults and
    order of operations; hyper-parameters enter as exact constants of the variable's dtype), so
    trajectories agree to rounding level (tested: float64 ≤ 1e-10, in practice 0).

    iRprop+ needs the loss at the current weights. Keras's ``train_step`` hands the loss to
    ``optimizer.scale_loss`` just before it takes the gradients; this optimizer keeps it there
    (under ``tf.distribute`` the mean of the replicas' losses — the whole batch's loss when the
    shards are equal) and uses it in the ``apply_gradients`` that follows, so ``model.fit`` works
    with every variant. A custom loop
    passes it: ``apply_gradients(grads_and_vars, loss=E)`` (or ``apply(grads, variables, loss=E)``).
    Rprop is a full-batch method: train with ``batch_size ≥`` the number of rows.

    Slots per variable: ``step_size`` (Δ), ``prev_grad`` and, for rprop+/irprop+, ``prev_param``.
    Base-class options (``weight_decay``, clipping) behave as in every Keras optimizer, with
    ``lr = learning_rate = Δ₀``.
    """

    def __init__(self, variant: str = "rprop+", learning_rate: float = 0.1, eta_plus: float = 1.2,
                 eta_minus: float = 0.5, min_step: float = 1e-6, max_step: float = 50.0,
                 name: str = "Rprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        # the argument rules are refnn's: one definition, the same messages
        refnn_optimizers.Rprop(variant=variant, learning_rate=learning_rate, eta_plus=eta_plus,
                               eta_minus=eta_minus, min_step=min_step, max_step=max_step)
        self.variant = variant
        self._train_step_losses = {}  # thread → the loss train_step handed to scale_loss (iRprop+)
        self.initial_step = float(learning_rate)
        self.eta_plus = float(eta_plus)
        self.eta_minus = float(eta_minus)
        self.min_step = float(min_step)
        self.max_step = float(max_step)

    @property
    def uses_loss(self) -> bool:
        """True for iRprop+, which needs ``loss=`` in ``apply_gradients``."""
        return self.variant == "irprop+"

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._step_sizes = [self.add_variable_from_reference(v, "step_size", initializer=_fill(self.initial_step))
                            for v in var_list]
        self._prev_grads = self.add_optimizer_variables(var_list, "prev_grad")
        self._prev_params = []
        if self.variant in ("rprop+", "irprop+"):
            self._prev_params = self.add_optimizer_variables(var_list, "prev_param")
            for slot, v in zip(self._prev_params, var_list):
                slot.assign(v)
        # iRprop+: E_{t−1} (+inf: the first step never backtracks) and this step's decision; every
        # replica holds the same all-reduced loss, so the first replica's value is everyone's
        self._previous_loss = self.add_variable(shape=(), dtype="float64", initializer=_fill(np.inf),
                                                aggregation="only_first_replica", name="previous_loss")
        self._backtrack = self.add_variable(shape=(), dtype="float64", initializer="zeros",
                                            aggregation="only_first_replica", name="backtrack")

    def scale_loss(self, loss):
        """Keras's ``train_step`` calls this with the loss just before taking the gradients: iRprop+
        keeps it for the ``apply_gradients`` that follows (per thread: ``tf.distribute`` runs one
        replica per thread)."""
        if self.variant == "irprop+":
            context = replica_context()
            # each replica's loss is already divided by the number of replicas: their sum is the
            # mean of the replicas' losses (the whole batch's loss when the shards are equal)
            whole = loss if context is None else context.all_reduce(tf.distribute.ReduceOp.SUM, loss)
            self._train_step_losses[threading.get_ident()] = whole
        return super().scale_loss(loss)

    def apply_gradients(self, grads_and_vars, loss=None):
        grads_and_vars = list(grads_and_vars)
        return self.apply([g for g, _ in grads_and_vars], [v for _, v in grads_and_vars], loss=loss)

    def apply(self, grads, trainable_variables=None, loss=None):
        if self.variant == "irprop+":
            kept = self._train_step_losses.pop(threading.get_ident(), None)  # never left for a later step
            if loss is None:
                loss = kept
            if loss is None:
                raise ValueError(
                    "iRprop+ compares the loss with the previous one: call "
                    "apply_gradients(grads_and_vars, loss=E) with the full-batch loss at the current "
                    "weights (model.fit hands it over through scale_loss).")
            if not self.built:
                self.build(trainable_variables)
            loss = _constant(float(loss), "float64") if isinstance(loss, (int, float)) else ops.cast(loss, "float64")
            # loss > NaN and NaN > x are False, as in refnn's Python comparison
            self._backtrack.assign(ops.cast(ops.greater(loss, self._previous_loss), "float64"))
            self._previous_loss.assign(loss)
        return super().apply(grads, trainable_variables)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        g = ops.cast(gradient, dtype)
        i = self._get_variable_index(variable)
        step, prev_grad = self._step_sizes[i], self._prev_grads[i]
        product = ops.multiply(prev_grad, g)
        grew, flipped = ops.greater(product, 0), ops.less(product, 0)
        new_step = ops.where(
            grew, ops.minimum(ops.multiply(step, _constant(self.eta_plus, dtype)), _constant(self.max_step, dtype)),
            ops.where(flipped,
                      ops.maximum(ops.multiply(step, _constant(self.eta_minus, dtype)),
                                  _constant(self.min_step, dtype)),
                      step))
        self.assign(step, new_step)
        stored = g if self.variant == "rprop-" else ops.where(flipped, ops.zeros_like(g), g)
        self.assign(prev_grad, stored)
        current = variable
        if self._prev_params:
            prev_param = self._prev_params[i]
            backtrack = flipped if self.variant == "rprop+" else ops.logical_and(
                flipped, ops.greater(self._backtrack, 0.0))
            current = ops.where(backtrack, prev_param, variable)
            self.assign(prev_param, current)
        self.assign(variable, ops.subtract(current, ops.multiply(ops.sign(stored), new_step)))

    def get_config(self):
        config = super().get_config()
        config.update({"variant": self.variant, "eta_plus": self.eta_plus, "eta_minus": self.eta_minus,
                       "min_step": self.min_step, "max_step": self.max_step})
        return config

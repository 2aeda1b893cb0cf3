"""A layer that applies an activation function and nothing else."""

from __future__ import annotations

from refnn import activations
from refnn.layers.base import Layer

__all__ = ["Activation"]


class Activation(Layer):
    """``Y = f(X)`` — Keras's ``layers.Activation``; no weights.

    Backward returns ``f``'s vector–Jacobian product (the full Jacobian for softmax).
    ``backward_from_logits(dX)`` passes ``dX`` through: the model uses it when the loss is fused
    with a softmax/sigmoid output, whose logits are this layer's input.
    """

    def __init__(self, activation, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.activation = activations.get(activation)
        self._x = self._y = None

    @property
    def logits(self):
        return self._x

    def forward(self, x, training=False):
        self._x = x
        self._y = self.activation(x)
        return self._y

    def backward(self, dy, need_input_grad=True):
        self._require_forward(self._x)
        return self.activation.backward(self._x, self._y, dy)

    def passes_through(self, training):
        return self.activation.name == "linear"

    def backward_from_logits(self, dx, need_input_grad=True):
        return dx

    def jacobian_backward(self, sensitivities, columns):
        return self.activation.backward(self._x[:, None, :], self._y[:, None, :], sensitivities)

    def get_config(self):
        return {"name": self.name, "activation": activations.serialize(self.activation)}

    def __repr__(self):
        shown = activations.serialize(self.activation)
        return f"Activation({shown!r})" if isinstance(shown, str) else f"Activation({self.activation!r})"

"""The fully connected layer."""

from __future__ import annotations

import numpy as np

from refnn import activations, initializers, regularizers
from refnn.layers.base import Layer
from refnn.utils.validation import check_bool, check_positive_int

__all__ = ["Dense"]


class Dense(Layer):
    """``Y = f(Z)``, ``Z = X W + B`` — Keras's ``Dense``.

    Shapes: ``X`` (N, in), ``W`` = ``kernel`` (in, units), ``B`` = ``bias`` (units,).

    Backward, given ``dY = ∂E/∂Y``::

        dZ = f'ᵀ dY            (the activation's vector–Jacobian product)
        dW = Xᵀ dZ             (grads["kernel"])
        dB = Σ_n dZ_n          (grads["bias"])
        dX = dZ Wᵀ             (returned)

    ``backward_from_logits(dZ)`` starts from ``∂E/∂Z`` directly: the model uses it when the loss
    is fused with a softmax/sigmoid output (Keras computes those losses from the logits).

    The last pass's arrays are public, in the lecture's notation: ``X`` (the input), ``Z`` (the
    pre-activation), ``Y`` (the output) after ``forward``, and ``dZ`` (``∂E/∂Z``) after
    ``backward`` or ``model.loss_and_gradients``; ``grads`` holds ``dW`` and ``dB``. They are
    ``None`` before the first pass, and are the layer's working arrays: read them, do not write
    to them. A training step (``fit``, ``train_on_batch``) keeps only what it needs: no ``dZ``, no
    ``Z`` where the activation computes in place (ReLU, tanh, linear: ``Y`` is written over it), no
    ``Y`` for a softmax/sigmoid output when the loss reads its logits and no metric its outputs.

    Args:
        units: output width (positive integer).
        activation: a name (``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"softmax"``, ``"gelu"``, ... —
            ``refnn.activations.ACTIVATIONS``), an ``Activation``, or ``None`` (linear).
        use_bias: add the bias vector.
        kernel_initializer, bias_initializer: names or ``refnn.initializers`` instances.
        kernel_regularizer, bias_regularizer: ``refnn.regularizers`` penalties, or ``None``.
        name: layer name; default ``dense_<i>`` inside a model.
        input_shape, input_dim: Keras's older way to declare the model's input on its first layer
            (``input_shape=(d,)`` is ``Input((d,))`` before the layer); any layer accepts them.
    """

    returns_new_input_grad = True  # dZ Wᵀ

    def __init__(
        self,
        units: int,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.units = check_positive_int("units", units)
        self.activation = activations.get(activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        if self.kernel_regularizer is not None:
            self.regularizers["kernel"] = self.kernel_regularizer
        if self.bias_regularizer is not None and self.use_bias:
            self.regularizers["bias"] = self.bias_regularizer
        self._x = self._z = self._y = self._dz = None

    def build(self, input_dim, *, rng=None, dtype="float64"):
        super().build(input_dim, rng=rng, dtype=dtype)
        self.params = {"kernel": self.kernel_initializer((self.input_dim, self.units), self.dtype, rng)}
        if self.use_bias:
            self.params["bias"] = self.bias_initializer((self.units,), self.dtype, rng)
        return self.units

    @property
    def output_dim(self) -> int:
        return self.units

    @property
    def kernel(self) -> np.ndarray:
        """``W``, shape (in, units): the live array (Keras's ``layer.kernel``)."""
        self._require_built()
        return self.params["kernel"]

    @property
    def bias(self) -> np.ndarray | None:
        """``B``, shape (units,): the live array; ``None`` with ``use_bias=False`` (Keras)."""
        self._require_built()
        return self.params.get("bias")

    @property
    def logits(self) -> np.ndarray | None:
        """The pre-activation ``Z`` of the last ``forward`` call."""
        return self._z

    @property
    def X(self) -> np.ndarray | None:  # noqa: N802 (the lecture's notation)
        """The input of the last ``forward`` call, shape (N, in)."""
        return self._x

    @property
    def Z(self) -> np.ndarray | None:  # noqa: N802
        """The pre-activation ``Z = X W + B`` of the last ``forward`` call, shape (N, units)."""
        return self._z

    @property
    def Y(self) -> np.ndarray | None:  # noqa: N802
        """The output ``Y = f(Z)`` of the last ``forward`` call, shape (N, units)."""
        return self._y

    @property
    def dZ(self) -> np.ndarray | None:  # noqa: N802
        """``∂E/∂Z`` of the last ``backward`` call (STEP 1, ``dZ = f′(Z) ⊙ dY``), shape (N, units)."""
        return self._dz

    def forward(self, x, training=False):
        x, z = self._affine(x)
        self._x, self._z = x, z
        self._y = self.activation(z)
        return self._y

    def _affine(self, x):
        """``(X, Z)``: the input in the layer's dtype and ``Z = X W + B`` (a new array)."""
        self._require_built()
        x = np.asarray(x, dtype=self.dtype)  # no copy inside a model, whose inputs are cast already
        z = x @ self.params["kernel"]
        if self.use_bias:
            z += self.params["bias"]
        return x, z

    def forward_in_step(self, x):
        """``forward(x, training=True)`` in a training step: with an activation that differentiates
        from its output (``Activation.in_place``: ReLU, tanh, linear) ``Y`` is written over ``Z``,
        so ``Z`` is not kept (``layer.Z`` is ``None`` after a step of ``fit``) — one N × units array
        less per layer, neither allocated nor held through backpropagation; the same ``Y``."""
        if not self.activation.in_place:
            return self.forward(x, training=True)
        x, z = self._affine(x)
        self._x, self._z = x, None
        self._y = self.activation(z, out=z)
        return self._y

    def logits_in_step(self, x):
        """Only ``Z`` (``Y`` is ``None``): the loss reads the logits and nobody the outputs."""
        self._x, self._z = self._affine(x)
        self._y = None

    def backward(self, dy, need_input_grad: bool = True):
        self._require_forward(self._y)
        dy = np.asarray(dy, dtype=self.dtype)
        return self.backward_from_logits(self.activation.backward(self._z, self._y, dy), need_input_grad)

    def backward_in_step(self, dy, need_input_grad, may_overwrite_dy):
        if not (may_overwrite_dy and self.activation.in_place):
            return self.backward(dy, need_input_grad)
        self._require_forward(self._y)
        # dZ = f′ ⊙ dY, written over dY: the step's own array
        return self.backward_from_logits(self.activation.backward(self._z, self._y, dy, out=dy), need_input_grad)

    def backward_from_logits(self, dz, need_input_grad: bool = True):
        """Backward pass from ``dZ = ∂E/∂Z``: fills ``grads``, returns ``∂E/∂X``.

        ``need_input_grad=False`` skips ``dZ Wᵀ`` and returns ``None``: the first layer of a model
        in training has no use for it, and that product costs as much as the layer's forward pass.
        """
        self._require_forward(self._x)
        self._dz = dz
        if self.grad_buffers:  # inside a model: write into its packed gradient vector
            np.matmul(self._x.T, dz, out=self.grad_buffers["kernel"])
            if self.use_bias:
                np.add.reduce(dz, axis=0, out=self.grad_buffers["bias"])
            self.grads = self.grad_buffers
        else:
            self.grads["kernel"] = self._x.T @ dz
            if self.use_bias:
                self.grads["bias"] = dz.sum(axis=0)
        return dz @ self.params["kernel"].T if need_input_grad else None

    def jacobian_backward(self, sensitivities, columns):
        # S ← f′ᵀS;  ∂ŷ/∂W[i, j] = X[n, i]·S[n, k, j];  ∂ŷ/∂b = S;  ∂ŷ/∂X = S Wᵀ
        sens = self.activation.backward(self._z[:, None, :], self._y[:, None, :], sensitivities)
        n, k, _ = sens.shape
        columns["kernel"][...] = np.einsum("ni,nkj->nkij", self._x, sens).reshape(n, k, -1)
        if self.use_bias:
            columns["bias"][...] = sens
        return sens @ self.params["kernel"].T

    def release_backward_arrays(self) -> None:
        self._dz = None

    def get_config(self):
        return {
            "name": self.name,
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "kernel_regularizer": self.kernel_regularizer,
            "bias_regularizer": self.bias_regularizer,
        }

    def __repr__(self):
        shown = activations.serialize(self.activation)
        if shown == "linear":
            return f"Dense({self.units})"
        shown = repr(shown) if isinstance(shown, str) else repr(self.activation)
        return f"Dense({self.units}, activation={shown})"

"""Layers: Keras's layout, forward values, backward by finite differences, argument errors."""

import numpy as np
import pytest

from refnn import layers, regularizers
from refnn.utils.gradcheck import check_layer_gradients
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL

ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax"]


def _dense(units, input_dim, seed=0, **kwargs):
    layer = layers.Dense(units, **kwargs)
    layer.build(input_dim, rng=np.random.default_rng(seed), dtype="float64")
    return layer


def test_dense_uses_keras_layout_and_formula(rng):
    layer = _dense(3, 4, bias_initializer="random_normal")
    assert layer.params["kernel"].shape == (4, 3) and layer.params["bias"].shape == (3,)
    x = rng.standard_normal((5, 4))
    np.testing.assert_allclose(layer.forward(x), x @ layer.params["kernel"] + layer.params["bias"], rtol=1e-15)
    assert layer.count_params() == 15


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("batch", [1, 6])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_backward_matches_finite_differences(activation, batch, use_bias, rng):
    layer = _dense(4, 3, activation=activation, use_bias=use_bias, bias_initializer="random_normal" if use_bias else "zeros")
    x = rng.standard_normal((batch, 3))
    errors = check_layer_gradients(layer, x)
    assert set(errors) == ({"dX", "kernel", "bias"} if use_bias else {"dX", "kernel"})
    assert max(errors.values()) <= FINITE_DIFFERENCE_RTOL, errors


def test_dense_backward_is_the_textbook_formulas(rng):
    layer = _dense(2, 3)
    x, dy = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer.forward(x)
    dx = layer.backward(dy)
    np.testing.assert_array_equal(layer.grads["kernel"], x.T @ dy)  # dW = Xᵀ dY
    np.testing.assert_array_equal(layer.grads["bias"], dy.sum(0))  # dB = Σ dY
    np.testing.assert_array_equal(dx, dy @ layer.params["kernel"].T)  # dX = dY Wᵀ


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("batch", [1, 5])
def test_activation_layer_backward(activation, batch, rng):
    layer = layers.Activation(activation)
    layer.build(4)
    errors = check_layer_gradients(layer, rng.standard_normal((batch, 4)) + 0.01)
    assert errors["dX"] <= FINITE_DIFFERENCE_RTOL


def test_dense_float32_stays_float32(rng):
    layer = layers.Dense(3, activation="tanh")
    layer.build(2, rng=rng, dtype="float32")
    y = layer.forward(rng.standard_normal((4, 2)).astype(np.float32))
    assert layer.params["kernel"].dtype == np.float32 and y.dtype == np.float32
    layer.backward(np.ones_like(y))
    assert layer.grads["kernel"].dtype == np.float32


def test_dense_records_regularizers():
    layer = layers.Dense(2, kernel_regularizer=regularizers.L2(0.1), bias_regularizer="l1")
    assert set(layer.regularizers) == {"kernel", "bias"}


class TestErrors:
    @pytest.mark.parametrize("units", [0, -3, 2.5, "4", True])
    def test_units(self, units):
        with pytest.raises(ValueError, match=rf"`units` must be a positive integer. Received: units={units!r}"):
            layers.Dense(units)

    def test_unknown_activation(self):
        with pytest.raises(ValueError, match=r"Received: activation='gelu2'"):
            layers.Dense(3, activation="gelu2")

    def test_unknown_initializer(self):
        with pytest.raises(ValueError, match=r"Received: kernel_initializer='glorot'"):
            layers.Dense(3, kernel_initializer="glorot")

    def test_use_bias_type(self):
        with pytest.raises(TypeError, match=r"Received: use_bias='yes'"):
            layers.Dense(3, use_bias="yes")

    def test_bad_name(self):
        with pytest.raises(ValueError, match=r"`name` must be a non-empty string without '/'"):
            layers.Dense(3, name="a/b")

    def test_dropout_rate(self):
        with pytest.raises(ValueError, match=r"`rate` must be a float in \[0.0, 1.0\]. Received: rate=1.5"):
            layers.Dropout(1.5)


def test_repr_is_legible():
    assert repr(layers.Dense(64, activation="relu")) == "Dense(64, activation='relu')"
    assert repr(layers.Activation("softmax")) == "Activation('softmax')"
    assert repr(layers.Dropout(0.2)) == "Dropout(0.2)"


def test_float32_layer_on_its_own_stays_float32():
    layer = layers.Dense(3, activation="relu")
    layer.build(4, rng=np.random.default_rng(0), dtype="float32")
    y = layer.forward(np.ones((2, 4)))  # float64 input
    dx = layer.backward(np.ones((2, 3)))
    assert y.dtype == dx.dtype == layer.grads["kernel"].dtype == np.float32


# ---- the step-by-step API says what to call first --------------------------------------------------
def test_forward_before_build_and_backward_before_forward_say_what_to_call():
    x = np.ones((2, 4))
    with pytest.raises(ValueError, match=r"This Dense layer is not built yet: call layer.build\(input_dim\) before "
                                         r"layer.forward\(x\)"):
        layers.Dense(3).forward(x)
    for layer in (_dense(3, 4), layers.Activation("tanh"), layers.Dropout(0.5, seed=0)):
        with pytest.raises(ValueError, match=r"has no forward pass to differentiate: call layer.forward\(x, "
                                             r"training=\.\.\.\) before layer.backward\(dy\)"):
            layer.backward(np.ones((2, 3)))
    dense = _dense(3, 4)
    with pytest.raises(ValueError, match=r"has no forward pass to differentiate"):
        dense.backward_from_logits(np.ones((2, 3)))

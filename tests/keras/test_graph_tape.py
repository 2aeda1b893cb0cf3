"""refnn.graph against TensorFlow: the graph traced from a refnn model gives the gradients that
``tf.GradientTape`` gives for the same network built in Keras (every hidden activation × every
output/loss pair of the core parity suite, float64), the penalties included."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import refnn
from refnn import graph, layers, optimizers, regularizers
from refnn.utils.tolerance import TOLERANCES, relative_error
from tests.keras.test_core_parity import HEADS, HIDDEN, _refnn_model, _targets, build_keras_twin, \
    keras_loss_and_gradients

RTOL = TOLERANCES["gradients"]["float64"]


@pytest.mark.parametrize("head", sorted(HEADS))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_graph_gradients_equal_gradient_tape(hidden, head, float64):
    out, loss, keras_loss, kind = HEADS[head]
    rng = np.random.default_rng([HIDDEN.index(hidden), sorted(HEADS).index(head), 7])
    model = _refnn_model(hidden, out, "float64", seed=5)
    model.compile(optimizers.SGD(0.1), loss)
    x = rng.standard_normal((6, 4)) * 1.5
    y = _targets(kind, rng, 6, 3, "float64")
    g = graph.trace(model, x, y).backward()
    kmodel, klayers = build_keras_twin(model)
    k_loss, _, k_dx, k_grads, _ = keras_loss_and_gradients(kmodel, klayers, keras_loss(), x, y)
    assert relative_error(g.loss, k_loss) <= TOLERANCES["forward"]["float64"]
    for path, theirs in zip(model.params, k_grads):
        assert relative_error(g.grads[path], theirs) <= RTOL, path
    assert relative_error(g["x"].grad, k_dx[0].numpy()) <= RTOL


def test_graph_penalties_equal_gradient_tape(float64):
    # coefficients float32 holds exactly: Keras rounds them through float32 (docs/keras-numerics.md)
    model = refnn.Sequential([
        layers.Dense(4, activation="tanh", kernel_regularizer=regularizers.L1L2(l1=2**-6, l2=2**-7),
                     bias_initializer="random_normal"),
        layers.Dense(2, kernel_regularizer=regularizers.L2(2**-5))], input_dim=3, seed=2)
    model.compile("sgd", "mse")
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    g = graph.trace(model, x, y).backward()
    kmodel = keras.Sequential([keras.Input((3,)),
                               keras.layers.Dense(4, activation="tanh",
                                                  kernel_regularizer=keras.regularizers.L1L2(2**-6, 2**-7)),
                               keras.layers.Dense(2, kernel_regularizer=keras.regularizers.L2(2**-5))])
    kmodel.set_weights(model.get_weights())
    kmodel.compile("sgd", "mse")
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = kmodel.compute_loss(x=x, y=y, y_pred=kmodel(x), training=True)
    k_grads = tape.gradient(loss, kmodel.trainable_variables)
    assert relative_error(g.loss, float(loss)) <= TOLERANCES["forward"]["float64"]
    for path, theirs in zip(model.params, k_grads):
        assert relative_error(g.grads[path], theirs.numpy()) <= RTOL, path

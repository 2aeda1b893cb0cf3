"""graph.trace: a model's graph gives the gradients of the layers' backpropagation (≤ 1e-12) and of
finite differences (≤ 1e-6), for every activation × loss × regularizer, and names every node."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import refnn
from refnn import graph, layers, regularizers
from refnn.utils.gradcheck import model_gradients
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL, relative_error

from .properties import HEADS, HIDDEN_ACTIVATIONS, REGULARIZERS, Case, cases

#: graph against the layers' backward: two exact derivations, apart only by summation order
GRAPH_RTOL = 1e-12


def assert_graph_matches_backprop(model, x, y, training=False, sample_weight=None, masks=None):
    g = graph.trace(model, x, y, training=training, sample_weight=sample_weight, masks=masks).backward()
    loss, grads = model.loss_and_gradients(x, y, training=training, sample_weight=sample_weight)
    assert relative_error(g.loss, loss) <= GRAPH_RTOL
    assert set(g.grads) == set(grads)
    for path in grads:
        assert relative_error(g.grads[path], grads[path]) <= GRAPH_RTOL, path
    return g


@pytest.mark.parametrize("regularizer", sorted(REGULARIZERS))
@pytest.mark.parametrize("head", sorted(HEADS))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_graph_equals_backprop_and_finite_differences(activation, head, regularizer):
    case = Case(seed=11, rows=5, input_dim=3, hidden=((4, activation, regularizer, 0.0),), head=head)
    model = case.model(dropout=False, random_biases=True)
    x, y = case.data()
    g = assert_graph_matches_backprop(model, x, y)
    _, _, numeric = model_gradients(model, x, y)
    for path, reference in numeric.items():
        assert relative_error(g.grads[path], reference) < FINITE_DIFFERENCE_RTOL, path


@settings(max_examples=100)
@given(case=cases())
def test_random_models_graph_equals_backprop(case):
    """Random depths, widths, activations, regularizers and heads (``properties.cases``), in
    inference and — dropout masks handed to both — in training."""
    model = case.model(dropout=True, random_biases=True)
    x, y = case.data()
    assert_graph_matches_backprop(model, x, y, training=False)
    rng = np.random.default_rng(case.seed)
    for layer in model.layers:
        if isinstance(layer, layers.Dropout):
            layer.fixed_mask = rng.random((x.shape[0], layer.input_dim)) >= layer.rate
    assert_graph_matches_backprop(model, x, y, training=True)


def _two_three_two(loss="categorical_crossentropy"):
    model = refnn.Sequential([layers.Dense(3, activation="sigmoid"), layers.Dense(2, activation="softmax")],
                             input_dim=2, seed=0)
    model.compile(optimizer="sgd", loss=loss)
    return model, np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([[1.0, 0.0], [0.0, 1.0]])


def test_every_node_is_named_and_the_fused_loss_takes_the_logits():
    model, x, y = _two_three_two()
    g = graph.trace(model, x, y).backward()
    assert g.names == ["x", "dense_0/kernel", "dense_0/XW", "dense_0/bias", "dense_0/Z", "dense_0/Y",
                       "dense_1/kernel", "dense_1/XW", "dense_1/bias", "dense_1/Z", "dense_1/Y", "y_true",
                       "loss/per_sample", "loss", "loss/data"]
    assert g["loss/per_sample"].inputs[0] is g["dense_1/Z"]
    assert g["loss/per_sample"].attrs == {"from_logits": True}
    assert g["dense_1/Y"].grad is None and g["y_true"].grad is None
    np.testing.assert_allclose(g["dense_1/Y"].value, model.predict(x), rtol=1e-15)
    model.loss_and_gradients(x, y, training=False)
    np.testing.assert_allclose(g["dense_1/Z"].grad, model.layers[1].dZ, rtol=1e-13)
    np.testing.assert_allclose(g["dense_0/Z"].grad, model.layers[0].dZ, rtol=1e-13)


def test_the_layers_expose_x_z_y_and_dz():
    model, x, y = _two_three_two()
    dense = model.layers[0]
    assert dense.X is None and dense.Z is None and dense.Y is None and dense.dZ is None
    model.loss_and_gradients(x, y, training=False)
    np.testing.assert_array_equal(dense.X, x)
    np.testing.assert_allclose(dense.Z, x @ dense.params["kernel"] + dense.params["bias"], rtol=1e-15)
    np.testing.assert_allclose(dense.Y, 1 / (1 + np.exp(-dense.Z)), rtol=1e-15)
    # STEP 2 and 3 from the exposed dZ: dW = Xᵀ dZ, dB = Σ_n dZ_n
    np.testing.assert_allclose(dense.grads["kernel"], dense.X.T @ dense.dZ, rtol=1e-15)
    np.testing.assert_allclose(dense.grads["bias"], dense.dZ.sum(axis=0), rtol=1e-15)
    model.fit(x, y, epochs=1, verbose=0)  # a training step keeps no dZ (its peak memory holds none)
    assert dense.dZ is None and model.layers[1].dZ is None


def test_penalties_sample_weights_and_linear_layers():
    model = refnn.Sequential([layers.Dense(3, activation="tanh", kernel_regularizer=regularizers.L1L2(0.01, 0.02)),
                              layers.Dense(1, bias_regularizer=regularizers.L2(0.1))], input_dim=2, seed=1)
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).standard_normal((6, 2))
    y = x[:, :1] ** 2
    g = assert_graph_matches_backprop(model, x, y, sample_weight=np.arange(6.0))
    assert {"dense_0/kernel_l1", "dense_0/kernel_l2", "dense_1/bias_l2", "sample_weight", "loss/data"} <= set(g.names)
    assert g["dense_1/Y"] is g["dense_1/Z"]  # a linear layer's output is its Z


def test_a_forward_graph_without_targets():
    model, x, _ = _two_three_two()
    g = graph.trace(model, x)
    np.testing.assert_allclose(g.output.value, model.predict(x), rtol=1e-15)
    g.backward(np.ones((2, 2)))  # Σ of the softmax outputs is constant: its gradient vanishes
    assert np.max(np.abs(g["dense_1/Z"].grad)) < 1e-15


def test_trace_refuses_what_it_cannot_draw():
    model, x, y = _two_three_two()
    with pytest.raises(TypeError, match="`model` must be a refnn Sequential. Received: model=int"):
        graph.trace(3, x, y)
    bare = refnn.Sequential([layers.Dense(1)], input_dim=2)
    with pytest.raises(ValueError, match="compile"):
        graph.trace(bare, x, y[:, :1])
    with pytest.raises(ValueError, match=r"`x` must have shape \(N, 2\)"):
        graph.trace(model, np.ones((2, 3)), y)
    dropping = refnn.Sequential([layers.Dense(2), layers.Dropout(0.5, name="drop")], input_dim=2)
    dropping.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"Dropout layer 'drop' needs its keep mask in training mode: pass masks="):
        graph.trace(dropping, x, y, training=True)
    g = graph.trace(dropping, x, y, training=True, masks={"drop": np.array([[1, 0], [1, 1]])})
    assert g["drop/Y"].op == "dropout"


def test_float32_models_activation_layers_no_bias_and_weighted_crossentropy():
    """Paths the random cases do not draw: a float32 model (the graph keeps its dtype), Activation
    layers — the last a softmax whose loss takes its input, the logits — and a Dense without bias."""
    model = refnn.Sequential([layers.Dense(4, use_bias=False), layers.Activation("tanh"),
                              layers.Dense(3), layers.Activation("softmax")], input_dim=2, seed=4, dtype="float32")
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((5, 2)).astype("float32"), np.eye(3)[[0, 1, 2, 1, 0]]
    g = graph.trace(model, x, y, sample_weight=np.linspace(0.5, 2.0, 5)).backward()
    loss, grads = model.loss_and_gradients(x, y, training=False, sample_weight=np.linspace(0.5, 2.0, 5))
    assert g["loss/per_sample"].inputs[0] is g["dense_1/Z"] and g["dense_0/Z"] is g["dense_0/XW"]
    assert g["activation_1/Y"].grad is None
    assert all(node.value.dtype == np.float32 for node in g if node.op != "input" or node.name == "x")
    assert relative_error(g.loss, loss) <= 1e-6
    for path in grads:
        assert g.grads[path].dtype == np.float32
        assert relative_error(g.grads[path], grads[path]) <= 1e-5, path


def test_masks_must_name_dropout_layers_and_hold_zeros_and_ones():
    model = refnn.Sequential([layers.Dense(2), layers.Dropout(0.5, name="drop")], input_dim=2)
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((2, 2)), np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"`masks` names layers that are not Dropout layers of the model: \['dorp'\]"):
        graph.trace(model, x, y, training=True, masks={"dorp": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"The dropout mask must hold 0 \(dropped\) and 1 \(kept\) only"):
        graph.trace(model, x, y, training=True, masks={"drop": np.full((2, 2), 2.0)})


def test_an_activation_the_graph_does_not_know_is_refused():
    from refnn import activations

    class Cube(activations.Activation):
        name = "cube"

        def __call__(self, x):
            return x ** 3

        def backward(self, x, y, dy):
            return 3 * x * x * dy

    model = refnn.Sequential([layers.Dense(2, activation=Cube(), name="d")], input_dim=2)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="graph.trace knows the activations linear, relu, sigmoid, tanh, softmax; "
                                        "'d' uses 'cube'"):
        graph.trace(model, np.ones((1, 2)), np.zeros((1, 2)))

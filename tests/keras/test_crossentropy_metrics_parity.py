"""The data-only crossentropy metrics equal Keras's metrics of the same names, epoch by epoch, on
the same training run (both sides live); Keras metric objects map to them; a diagonal softmax is
refused by the bridge with the reason."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import refnn  # noqa: E402
from keras_bridge import NotMappableError, compare, floatx, from_keras, to_keras  # noqa: E402
from refnn import layers, optimizers, regularizers  # noqa: E402
from refnn.activations import Softmax  # noqa: E402

CASES = {
    # name: (output units, activation, loss, targets)
    "categorical": (3, "softmax", "categorical_crossentropy", "one_hot"),
    "sparse_categorical": (3, "softmax", "sparse_categorical_crossentropy", "ids"),
    "binary": (1, "sigmoid", "binary_crossentropy", "binary"),
}


def _targets(kind, x):
    ids = np.argmax(x[:, :3], axis=1)
    if kind == "one_hot":
        return np.eye(3)[ids]
    if kind == "ids":
        return ids
    return (x[:, :1] > 0).astype(np.float64)


@pytest.mark.parametrize("case", sorted(CASES))
def test_crossentropy_metric_history_equals_keras(case):
    units, activation, loss, kind = CASES[case]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((48, 4))
    y = _targets(kind, x)
    model = refnn.Sequential([layers.Dense(6, activation="tanh", kernel_regularizer=regularizers.L2(0.01)),
                              layers.Dense(units, activation=activation)], input_dim=4, seed=3)
    model.compile(optimizers.Adam(0.01), loss, metrics=[loss])
    result = compare.training(model, x, y, epochs=4, batch_size=16, validation_split=0.25)
    assert result.passed, result.table()
    metric_rows = [r for r in result.rows if r.name in (f"history/{loss}", f"history/val_{loss}")]
    assert len(metric_rows) == 2, [r.name for r in result.rows]
    # the penalty separates the loss from the data-only metric, on both sides
    assert all(a > b for a, b in zip(result.keras_history["loss"], result.keras_history[loss]))
    assert all(a > b for a, b in zip(result.refnn_history["loss"], result.refnn_history[loss]))


def test_keras_crossentropy_metric_objects_map_to_refnn():
    with floatx("float64"):
        kmodel = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        kmodel.compile("sgd", "categorical_crossentropy",
                       metrics=[keras.metrics.CategoricalCrossentropy(name="cce")])
    model = from_keras(kmodel)
    assert [m.name for m in model.metrics] == ["cce"]
    x = np.random.default_rng(0).standard_normal((5, 4))
    y = np.eye(3)[[0, 1, 2, 0, 1]]
    p = model.predict(x)
    np.testing.assert_allclose(model.metrics[0](y, p), -np.log(np.sum(y * p, axis=1)), rtol=1e-12)


def test_the_bridge_refuses_a_diagonal_softmax_with_the_reason():
    model = refnn.Sequential([layers.Dense(3, activation=Softmax(derivative="diagonal"))], input_dim=2, seed=0)
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(NotMappableError, match=r"Softmax\(derivative='diagonal'\).*Keras always uses the Jacobian"):
        to_keras(model)
    separate = refnn.Sequential([layers.Dense(3), layers.Activation(Softmax(derivative="diagonal"))],
                                input_dim=2, seed=0)
    separate.compile("sgd", "categorical_crossentropy")
    assert repr(separate.layers[1]) == "Activation(Softmax(derivative='diagonal'))"
    with pytest.raises(NotMappableError,
                       match=r"Layer 'activation_0' \(Activation\): Softmax\(derivative='diagonal'\)"):
        to_keras(separate)


@pytest.mark.parametrize("activation, loss, weights, y", [
    ("softmax", "categorical_crossentropy", np.diag([0.0, 60.0, 60.0]), np.array([[1.0, 0.0, 0.0]])),
    ("softmax", "sparse_categorical_crossentropy", np.diag([0.0, 60.0, 60.0]), np.array([0])),
    ("sigmoid", "binary_crossentropy", np.full((3, 1), -30.0), np.array([[1.0]])),
])
def test_far_beyond_the_clip_the_metric_follows_keras_into_the_logits(activation, loss, weights, y):
    """Keras's backend takes a softmax/sigmoid output's logits for the metric too: −log p = 60, not the
    clipped 16.1 — refnn decides the same way."""
    units = weights.shape[1]
    model = refnn.Sequential([layers.Dense(units, activation=activation, use_bias=False)], input_dim=3, seed=0)
    model.compile("sgd", loss, metrics=[loss])
    model.set_weights([weights])
    x = np.array([[1.0, 1.0, 0.0]])
    mine = model.evaluate(x, y, return_dict=True, verbose=0)
    with floatx("float64"):
        theirs = to_keras(model).evaluate(x, y, verbose=0, return_dict=True)
    assert mine[loss] > 20
    assert mine[loss] == pytest.approx(theirs[loss], rel=1e-12)
    assert mine["loss"] == pytest.approx(theirs["loss"], rel=1e-12)


def test_a_crossentropy_metric_of_a_mismatched_output_is_a_labelled_known_difference():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 4))
    y = np.eye(3)[np.argmax(x[:, :3], axis=1)]
    model = refnn.Sequential([layers.Dense(3, activation="softmax")], input_dim=4, seed=0)
    model.compile("sgd", "categorical_crossentropy", metrics=["binary_crossentropy"])
    result = compare.training(model, x, y, epochs=2, batch_size=20)
    rows = {r.name: r for r in result.rows}
    assert not rows["history/binary_crossentropy"].passed  # Keras: the sigmoid crossentropy of the logits
    label = rows["history/binary_crossentropy"].known_difference
    assert "the metric 'binary_crossentropy' of a softmax output" in label
    assert rows["history/loss"].passed and rows["history/loss"].known_difference == ""


def test_a_sparse_crossentropy_metric_that_ignores_a_class_is_not_mapped():
    from keras_bridge.losses import metrics_from_keras

    spec = {"class_name": "SparseCategoricalCrossentropy", "config": {"name": "scce", "ignore_class": 0}}
    with pytest.raises(NotMappableError, match="SparseCategoricalCrossentropy"):
        metrics_from_keras([spec])
    set_aside = []
    assert metrics_from_keras([spec], set_aside) == [] and "SparseCategoricalCrossentropy" in set_aside[0]

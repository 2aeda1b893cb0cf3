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

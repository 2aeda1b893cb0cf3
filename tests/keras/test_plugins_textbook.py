"""Keras optimizers for refnn's textbook conventions (``keras_bridge.plugins.textbook``): every refnn
optimizer now has a Keras counterpart. They are refnn's own Keras port — a consistency check, not an
independent one; at Keras's own value of the option each *is* Keras's optimizer (tested too)."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import refnn  # noqa: E402
from keras_bridge import NotMappableError, compare, export, load, optimizer_to_keras, plugins  # noqa: E402
from refnn import layers, optimizers  # noqa: E402
from refnn.optimizers import schedules  # noqa: E402

DTYPES = ["float64", "float32"]

TEXTBOOK = {
    "sgd-ema-schedule": lambda: optimizers.SGD(schedules.ExponentialDecay(0.1, 7, 0.5), momentum=0.9,
                                               momentum_form="ema"),
    "sgd-trace-nesterov-schedule": lambda: optimizers.SGD(schedules.InverseTimeDecay(0.05, 5, 0.5), momentum=0.8,
                                                          nesterov=True, momentum_form="trace"),
    # (not CosineDecay: TensorFlow's float32 cos is off by an ulp at a few steps, docs/keras-numerics.md)
    "sgd-ema-nesterov-schedule": lambda: optimizers.SGD(schedules.PolynomialDecay(0.1, 40, 0.01), momentum=0.9,
                                                        nesterov=True, momentum_form="ema"),
    "adam-sqrt-v-hat": lambda: optimizers.Adam(0.01, epsilon_placement="sqrt_v_hat"),
    "adam-sqrt-v-hat-amsgrad": lambda: optimizers.Adam(0.01, epsilon_placement="sqrt_v_hat", amsgrad=True),
    "adamw-sqrt-v-hat": lambda: optimizers.AdamW(0.01, weight_decay=0.05, epsilon_placement="sqrt_v_hat"),
    "rmsprop-outside": lambda: optimizers.RMSprop(0.01, epsilon_placement="outside_sqrt"),
    "rmsprop-outside-centered-momentum": lambda: optimizers.RMSprop(0.01, epsilon_placement="outside_sqrt",
                                                                    centered=True, momentum=0.5),
    "rmsprop-bias-corrected": lambda: optimizers.RMSprop(0.01, bias_correction=True),
    "rmsprop-bias-corrected-outside": lambda: optimizers.RMSprop(0.01, bias_correction=True,
                                                                 epsilon_placement="outside_sqrt"),
    "adagrad-outside": lambda: optimizers.Adagrad(0.05, epsilon_placement="outside_sqrt"),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(TEXTBOOK))
def test_textbook_plugins_follow_refnn_step_for_step(name, dtype):
    """100 steps on a gradient sequence with sign flips and a bias at scale 1e-4 (where ε's place
    matters), float64 ≤ 1e-10, float32 ≤ 1e-5 (``TOLERANCES["optimizer"]``)."""
    compare.optimizer_steps(TEXTBOOK[name](), steps=100, dtype=dtype).assert_passed()


@pytest.mark.parametrize("name", list(TEXTBOOK))
def test_stock_keras_refuses_them_and_says_where_the_difference_is_explained(name):
    with pytest.raises(NotMappableError, match=r"has no stock Keras counterpart: .*docs/keras-numerics.md.*"
                                               r"keras_bridge.plugins\.\w+ computes it: pass plugins=True"):
        optimizer_to_keras(TEXTBOOK[name]())
    keras_optimizer = optimizer_to_keras(TEXTBOOK[name](), plugins=True)
    assert type(keras_optimizer).__module__ == "keras_bridge.plugins.textbook"


def test_at_keras_values_the_plugins_are_keras_optimizers():
    """The one added option at Keras's own value: the update is Keras's own code, bit for bit."""
    rng = np.random.default_rng(0)
    pairs = [(plugins.SGD(0.05, momentum=0.9, nesterov=True), keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True)),
             (plugins.Adam(0.01, amsgrad=True), keras.optimizers.Adam(0.01, amsgrad=True)),
             (plugins.RMSprop(0.01, centered=True), keras.optimizers.RMSprop(0.01, centered=True)),
             (plugins.Adagrad(0.05), keras.optimizers.Adagrad(0.05))]
    for mine, theirs in pairs:
        start = rng.normal(size=(3, 2)).astype("float32")
        variables = [keras.Variable(start), keras.Variable(start)]
        for _ in range(5):
            g = rng.normal(size=(3, 2)).astype("float32")
            mine.apply_gradients([(g, variables[0])])
            theirs.apply_gradients([(g, variables[1])])
        np.testing.assert_array_equal(variables[0].numpy(), variables[1].numpy())


def test_a_model_trained_with_a_textbook_form_fits_and_exports(tmp_path):
    """EMA momentum under a schedule — refused by the bridge before — trains in Keras's fit as in
    refnn, and the exported file loads back with the same configuration."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(30, 1))
    model = refnn.Sequential([layers.Dense(5, activation="tanh"), layers.Dense(1)], input_dim=3, seed=0)
    model.compile(TEXTBOOK["sgd-ema-schedule"](), "mse")
    compare.training(model, x, y, epochs=6, batch_size=8).assert_passed()
    path = export(model, tmp_path / "ema.keras", plugins=True)
    assert type(keras.models.load_model(path).optimizer) is plugins.SGD
    back = load(path, keras_exact=False)
    assert back.optimizer.get_config() == model.optimizer.get_config()

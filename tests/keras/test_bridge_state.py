"""Optimizer state across the bridge: 5 epochs in refnn then 5 in Keras is the 10-epoch run of
either side (and the other way round), float64 ≤ 1e-10 — the step count, every slot, Nadam's
μ-product, iRprop+'s previous loss and Levenberg–Marquardt's μ cross with the model. Keras's side
is its own compiled ``fit``; Rprop, Quickprop and Levenberg–Marquardt run as refnn's own Keras
port (``keras_bridge.plugins``), a consistency check rather than an independent one."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import refnn  # noqa: E402
from keras_bridge import export, floatx, from_keras, keras_exact_copy, load, to_keras  # noqa: E402
from refnn import layers, optimizers  # noqa: E402
from refnn.optimizers import schedules  # noqa: E402
from refnn.utils.tolerance import relative_error  # noqa: E402

RESUME_RTOL = 1e-10

# name: (optimizer factory, loss, batch size: None = full batch)
OPTIMIZERS = {
    "sgd-nesterov": (lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True), "mse", 8),
    "sgd-schedule": (lambda: optimizers.SGD(schedules.ExponentialDecay(0.1, 7, 0.5), momentum=0.5), "mse", 8),
    "adam-amsgrad": (lambda: optimizers.Adam(0.01, amsgrad=True), "mse", 8),
    "adamw": (lambda: optimizers.AdamW(0.01, weight_decay=0.05), "mse", 8),
    "rmsprop-centered": (lambda: optimizers.RMSprop(0.005, momentum=0.5, centered=True), "mse", 8),
    "adagrad": (lambda: optimizers.Adagrad(0.05), "mse", 8),
    "adadelta": (lambda: optimizers.Adadelta(1.0), "mse", 8),
    "adamax": (lambda: optimizers.Adamax(0.01), "mse", 8),
    "nadam": (lambda: optimizers.Nadam(0.01), "mse", 8),
    "rprop+": (lambda: optimizers.Rprop("rprop+", learning_rate=0.05), "mse", None),
    "rprop-": (lambda: optimizers.Rprop("rprop-", learning_rate=0.05), "mse", None),
    "irprop+": (lambda: optimizers.Rprop("irprop+", learning_rate=0.3), "sse", None),
    "irprop-": (lambda: optimizers.Rprop("irprop-", learning_rate=0.05), "mse", None),
    "quickprop": (lambda: optimizers.Quickprop(0.05), "mse", None),
    "levenberg-marquardt": (lambda: optimizers.LevenbergMarquardt(mu=0.1), "mse", None),
}


def _data(n=24):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    return x, np.tanh(x @ np.array([[0.8], [-0.5], [0.3]]))


def _model(name):
    factory, loss, _ = OPTIMIZERS[name]
    model = refnn.Sequential([layers.Dense(6, activation="tanh"), layers.Dense(1)], input_dim=3, seed=1,
                             name="resumed")
    model.compile(factory(), loss)
    return keras_exact_copy(model)  # the constants Keras rounds through float32, rounded alike


def _fit(model, epochs, batch_size):
    x, y = _data()
    kwargs = dict(epochs=epochs, batch_size=batch_size or len(x), shuffle=False, verbose=0)
    if isinstance(model, keras.Model):
        with floatx("float64"):
            return model.fit(x, y, **kwargs).history["loss"]
    return model.fit(x, y, **kwargs).history["loss"]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_five_epochs_in_refnn_then_five_in_keras_is_ten_in_refnn(name):
    batch_size = OPTIMIZERS[name][2]
    whole = _model(name)
    expected = _fit(whole, 10, batch_size)[5:]
    first = _model(name)
    _fit(first, 5, batch_size)
    resumed = _fit(to_keras(first, plugins=True), 5, batch_size)
    assert relative_error(resumed, expected) <= RESUME_RTOL, (resumed, expected)
    fresh = _fit(to_keras(_model(name), plugins=True, optimizer_state=False), 5, batch_size)
    assert fresh != resumed  # the state matters: a fresh optimizer takes other steps


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_five_epochs_in_keras_then_five_in_refnn_is_ten_in_keras(name):
    batch_size = OPTIMIZERS[name][2]
    whole = to_keras(_model(name), plugins=True)
    expected = _fit(whole, 10, batch_size)[5:]
    first = to_keras(_model(name), plugins=True)
    _fit(first, 5, batch_size)
    resumed = _fit(from_keras(first), 5, batch_size)
    assert relative_error(resumed, expected) <= RESUME_RTOL, (resumed, expected)


@pytest.mark.parametrize("name", ["adam-amsgrad", "nadam", "irprop+"])
def test_an_exported_file_carries_the_state(name, tmp_path):
    """``export`` then ``keras.models.load_model``: Keras continues; ``load`` back: refnn continues."""
    batch_size = OPTIMIZERS[name][2]
    whole = _model(name)
    expected = _fit(whole, 10, batch_size)[5:]
    first = _model(name)
    _fit(first, 5, batch_size)
    path = export(first, tmp_path / "resumed.keras", plugins=True)
    with floatx("float64"):
        in_keras = keras.models.load_model(path)
    assert relative_error(_fit(in_keras, 5, batch_size), expected) <= RESUME_RTOL
    assert relative_error(_fit(load(path), 5, batch_size), expected) <= RESUME_RTOL


def test_export_without_the_optimizer_loads_in_stock_keras(tmp_path):
    """A model trained by a plugin optimizer, exported with ``include_optimizer=False``: the file
    (architecture and weights) names no keras_bridge class, so Keras loads it in a process that
    never imported refnn."""
    import subprocess
    import sys
    import zipfile

    model = _model("rprop+")
    _fit(model, 3, None)
    path = export(model, tmp_path / "plain.keras", include_optimizer=False)
    assert b"keras_bridge" not in zipfile.ZipFile(path).read("config.json")
    code = ("import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'; import keras, sys; "
            "m = keras.models.load_model(sys.argv[1]); print(m.name, m.count_params(), m.compiled)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["resumed", str(model.count_params()), "False"]

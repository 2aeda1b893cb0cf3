"""Export: ``.keras`` / ``.weights.h5`` files that stock Keras loads — in a process that never
imports refnn — with predictions equal to refnn's; ``load`` reads them back into refnn."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import keras_bridge  # noqa: E402
import refnn  # noqa: E402
from keras_bridge import export, load, to_keras  # noqa: E402
from refnn import layers, optimizers, regularizers  # noqa: E402
from refnn.utils.tolerance import TOLERANCES, relative_error  # noqa: E402

DTYPES = ["float64", "float32"]

STOCK_KERAS = textwrap.dedent("""
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np, keras
    for path, x_path, out_path, dtype in zip(*[iter(sys.argv[1:])] * 4):
        x = np.load(x_path)
        model = keras.models.load_model(path)
        keras.config.set_floatx(dtype)   # predict casts NumPy inputs to floatx
        np.save(out_path, np.stack([model(x).numpy(), model.predict(x, verbose=0)]))
        print(type(model).__name__, model.layers[0].dtype_policy.name, type(model.optimizer).__name__,
              model.optimizer.iterations.numpy())
    banned = [m for m in sys.modules if m.split(".")[0] in ("refnn", "keras_bridge", "comparisons")]
    assert not banned, banned
""")


def _model(dtype):
    model = refnn.Sequential([
        layers.Dense(8, activation="relu", kernel_regularizer=regularizers.L2(1e-3)),
        layers.Dropout(0.3, seed=2),
        layers.Dense(3, activation="softmax"),
    ], input_dim=5, seed=4, dtype=dtype, name="exported")
    model.compile(optimizers.Adam(0.01), "categorical_crossentropy", metrics=["accuracy"])
    return model


def _x(dtype, n=9):
    return np.random.default_rng(3).normal(size=(n, 5)).astype(dtype)


def test_exported_keras_files_load_in_stock_keras_without_refnn(tmp_path):
    """One fresh Python process (TensorFlow's import is the slow part) loads a float64 and a
    float32 export with plain ``keras.models.load_model``."""
    args, expected = [], {}
    for dtype in DTYPES:
        model = _model(dtype)
        x = _x(dtype)
        np.save(tmp_path / f"x_{dtype}.npy", x)
        args += [export(model, tmp_path / f"model_{dtype}.keras"), str(tmp_path / f"x_{dtype}.npy"),
                 str(tmp_path / f"y_{dtype}.npy"), dtype]
        expected[dtype] = model.predict(x)
    env = {**os.environ, "PYTHONPATH": ""}  # nothing of this project on the path
    out = subprocess.run([sys.executable, "-c", STOCK_KERAS, *args],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-8:] == ["Sequential", "float64", "Adam", "0", "Sequential", "float32", "Adam", "0"]
    assert "Skipping variable loading" not in out.stderr
    for dtype in DTYPES:
        called, predicted = np.load(tmp_path / f"y_{dtype}.npy")
        assert called.dtype == dtype
        assert relative_error(called, expected[dtype]) <= TOLERANCES["forward"][dtype]
        assert relative_error(predicted, expected[dtype]) <= TOLERANCES["forward"][dtype]


@pytest.mark.parametrize("dtype", DTYPES)
def test_keras_file_loads_back_into_refnn(dtype, tmp_path):
    model = _model(dtype)
    back = load(export(model, tmp_path / "m.keras"), keras_exact=False)
    assert [type(l).__name__ for l in back.layers] == ["Dense", "Dropout", "Dense"]
    assert back.dtype == model.dtype and back.name == "exported"
    assert back.optimizer.get_config() == model.optimizer.get_config()
    assert back.loss.get_config() == model.loss.get_config() and [m.name for m in back.metrics] == ["accuracy"]
    for a, b in zip(model.get_weights(), back.get_weights()):
        assert np.array_equal(a, b)


def test_loading_a_keras_file_computes_what_keras_computes_by_default(tmp_path):
    """``keras_exact=True`` is the default everywhere the flag appears: the loaded model rounds
    what Keras rounds through float32 (its optimizer's constants, its regularizer factors)."""
    back = load(export(_model("float64"), tmp_path / "m.keras"))
    assert back.optimizer.keras_float32_constants is True
    assert back.layers[0].kernel_regularizer.l2 == float(np.float32(1e-3))


@pytest.mark.parametrize("dtype", DTYPES)
def test_weights_file_loads_with_stock_load_weights_and_back_into_refnn(dtype, tmp_path):
    model = _model(dtype)
    path = export(model, tmp_path / "m.weights.h5")
    other = _model(dtype)
    other.set_weights([w * 0 for w in other.get_weights()])
    twin = to_keras(other, compile=False)  # a Keras model of the same structure
    twin.load_weights(path)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        assert np.array_equal(a, b)
    assert load(path, model=other) is other
    for a, b in zip(model.get_weights(), other.get_weights()):
        assert np.array_equal(a, b)


def test_export_with_plugins_needs_keras_bridge_to_load(tmp_path):
    model = refnn.Sequential([layers.Dense(3, activation="tanh"), layers.Dense(1)], input_dim=2, seed=0)
    model.compile(optimizers.Rprop(variant="irprop-", learning_rate=0.05), "sse")
    path = export(model, tmp_path / "rprop.keras", plugins=True)
    loaded = keras.models.load_model(path)  # keras_bridge is imported: its plugins are registered
    assert isinstance(loaded.optimizer, keras_bridge.plugins.Rprop) and loaded.optimizer.variant == "irprop-"
    assert isinstance(loaded.loss, keras_bridge.plugins.SumSquaredError)
    back = load(path, keras_exact=False)
    assert back.optimizer.get_config() == model.optimizer.get_config()
    assert back.loss.get_config() == model.loss.get_config()


def test_export_and_load_refuse_bad_paths(tmp_path):
    model = _model("float64")
    with pytest.raises(ValueError, match=r"`path` must end with '\.keras' .* or '\.weights\.h5'.*path='m\.h5'"):
        export(model, "m.h5")
    with pytest.raises(ValueError, match="needs the refnn `model` to load it into"):
        load(tmp_path / "m.weights.h5")
    path = export(model, tmp_path / "m.keras")
    with pytest.raises(ValueError, match="`model` is only used with '.weights.h5' files"):
        load(path, model=model)


def test_a_damaged_keras_file_is_refused_naming_the_file(tmp_path):
    """Random bytes under a .keras name, and an archive cut short: a ValueError that names the file
    (Keras itself reports such a file as "File not found")."""
    rng = np.random.default_rng(0)
    (tmp_path / "noise.keras").write_bytes(rng.integers(0, 256, 3000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match=r"'.*noise.keras' is not a Keras .keras archive"):
        load(tmp_path / "noise.keras")
    export(_model("float64"), tmp_path / "m.keras")
    data = (tmp_path / "m.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"'.*cut.keras' is not a Keras .keras archive"):
        load(tmp_path / "cut.keras")
    with pytest.raises(FileNotFoundError, match=r"'.*absent.keras' does not exist"):
        load(tmp_path / "absent.keras")


def test_an_uncompiled_model_exports_and_loads_in_keras(tmp_path):
    """The docstring says "compiled or not": exporting a never-compiled model raised AttributeError."""
    model = refnn.Sequential([layers.Dense(4, activation="tanh"), layers.Dense(2)], input_dim=3, seed=0)
    path = export(model, tmp_path / "plain.keras")
    loaded = keras.models.load_model(path)
    x = _x("float64")[:, :3]
    with keras_bridge.floatx("float64"):
        assert relative_error(loaded(x).numpy(), model.predict(x)) <= TOLERANCES["forward"]["float64"]
    assert load(path).loss is None


def test_each_file_is_pointed_to_the_loader_that_reads_it(tmp_path):
    """Real files of each kind given to the other side's loader: the error names the right one."""
    model = _model("float64")
    export(model, tmp_path / "m.keras")
    export(model, tmp_path / "w.weights.h5")
    model.save(tmp_path / "m.refnn")
    model.save_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match=r"Keras .keras archive: load it with keras_bridge.load\(path\)"):
        refnn.load_model(tmp_path / "m.keras")
    with pytest.raises(ValueError, match=r"HDF5 file.*keras_bridge.load\(path, model=model\)"):
        model.load_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match=r"is a refnn model archive .*refnn.load_model\(path\)"):
        load(tmp_path / "m.refnn")
    with pytest.raises(ValueError, match=r"is a refnn weights file .*model.load_weights\(path\)"):
        load(tmp_path / "w.npz", model=model)
    copy = tmp_path / "w-npz.weights.h5"
    copy.write_bytes((tmp_path / "w.npz").read_bytes())
    with pytest.raises(ValueError, match=r"is a refnn weights file .*model.load_weights\(path\)"):
        load(copy, model=model)
    with pytest.raises(ValueError, match=r"writes refnn's own format.*keras_bridge.export"):
        model.save(tmp_path / "again.keras")


def test_type_errors_say_which_library():
    """Both libraries call their model "Sequential": the message says whose it is."""
    model = _model("float64")
    with pytest.raises(keras_bridge.NotMappableError, match=r"Received: refnn.models.sequential.Sequential "
                                                            r"'exported' \(it is already a refnn model"):
        keras_bridge.from_keras(model)
    with pytest.raises(TypeError, match=r"Received: model of type keras.*Sequential \(a Keras model is already"):
        to_keras(to_keras(model))

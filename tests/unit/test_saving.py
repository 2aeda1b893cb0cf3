"""Saving: weights as .npz (no pickle, names and shapes checked, model unchanged on refusal),
whole models as JSON + weights, and atomic writes."""

import json
import os
import zipfile

import numpy as np
import pytest

import refnn
from refnn import initializers, layers, losses, optimizers, regularizers
from refnn.models import saving


def model_a(seed=0, dtype="float64", compile=True):
    model = refnn.Sequential([
        layers.Dense(6, activation="relu", kernel_regularizer=regularizers.L2(0.01),
                     kernel_initializer=initializers.HeUniform(seed=3)),
        layers.Dropout(0.25, seed=5),
        layers.Dense(4, activation="tanh", use_bias=False, bias_regularizer=regularizers.L1(0.1)),
        layers.Activation("sigmoid"),
        layers.Dense(3, activation="softmax", kernel_regularizer=regularizers.L1L2(l1=0.001, l2=0.002),
                     bias_initializer=initializers.RandomNormal(0.1, 0.2, seed=9)),
    ], input_dim=5, seed=seed, dtype=dtype, name="classifier")
    if compile:
        model.compile(optimizers.SGD(0.05, momentum=0.9), losses.CategoricalCrossentropy(label_smoothing=0.1),
                      metrics=["accuracy", "mse"])
    return model


def data(n=12):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 5)), np.eye(3)[rng.integers(0, 3, n)]


def weights_equal(a, b):
    return all(np.array_equal(u, v) and u.dtype == v.dtype for u, v in zip(a, b)) and len(a) == len(b)


# ---- weights -------------------------------------------------------------------------------------
def test_save_and_load_weights_round_trip(tmp_path):
    x, y = data()
    source = model_a(seed=0)
    source.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "w.npz"
    source.save_weights(path)
    target = model_a(seed=1)
    assert not weights_equal(source.get_weights(), target.get_weights())
    target.load_weights(path)
    assert weights_equal(source.get_weights(), target.get_weights())
    np.testing.assert_array_equal(source.predict(x), target.predict(x))
    # the file: one named array per parameter, no pickle needed
    with np.load(path, allow_pickle=False) as archive:
        assert archive.files == list(source.params)
        assert archive.files == ["dense_0/kernel", "dense_0/bias", "dense_1/kernel", "dense_2/kernel", "dense_2/bias"]


def test_weights_file_written_exactly_at_the_given_path(tmp_path):
    model = model_a()
    model.save_weights(tmp_path / "weights.bin")
    assert os.listdir(tmp_path) == ["weights.bin"]  # no ".npz" appended, no temporary left
    model.load_weights(tmp_path / "weights.bin")


def test_float32_weights_load_into_float64_model(tmp_path):
    small = model_a(dtype="float32")
    small.save_weights(tmp_path / "w.npz")
    big = model_a(seed=1)
    big.load_weights(tmp_path / "w.npz")
    for a, b in zip(big.get_weights(), small.get_weights()):
        assert a.dtype == np.float64
        np.testing.assert_array_equal(a, b.astype(np.float64))


def save_arrays(path, arrays):
    np.savez(path, **arrays)
    return path


def refused(model, path, match):
    before = model.get_weights()
    with pytest.raises(ValueError, match=match):
        model.load_weights(path)
    assert weights_equal(model.get_weights(), before)  # unchanged


def test_missing_entry_is_refused_and_named(tmp_path):
    model = model_a()
    arrays = dict(zip(model.params, model_a(seed=1).get_weights()))
    del arrays["dense_1/kernel"]
    refused(model, save_arrays(tmp_path / "w.npz", arrays),
            r"has no entry 'dense_1/kernel' \(the model's parameter of shape \(6, 4\)\)")


def test_shape_mismatch_is_refused_and_names_the_first(tmp_path):
    model = model_a()
    arrays = dict(zip(model.params, model_a(seed=1).get_weights()))
    arrays["dense_1/kernel"] = np.zeros((6, 5))
    arrays["dense_2/kernel"] = np.zeros((5, 3))
    refused(model, save_arrays(tmp_path / "w.npz", arrays),
            r"shape mismatch for 'dense_1/kernel': the model has \(6, 4\), the file '.*w.npz' has \(6, 5\)")


def test_unexpected_entry_is_refused(tmp_path):
    model = model_a()
    arrays = dict(zip(model.params, model_a(seed=1).get_weights()))
    arrays["dense_9/kernel"] = np.zeros((2, 2))
    refused(model, save_arrays(tmp_path / "w.npz", arrays), r"has an entry the model does not: 'dense_9/kernel'")


def test_renamed_layers_are_refused(tmp_path):
    # names matter (unlike Keras's .weights.h5, which matches by order)
    model = model_a()
    model.save_weights(tmp_path / "w.npz")
    other = refnn.Sequential([layers.Dense(6, name="hidden"), layers.Dense(3, name="out")], input_dim=5)
    refused(other, tmp_path / "w.npz", r"has no entry 'hidden/kernel'")


def test_non_numeric_weights_are_refused(tmp_path):
    model = model_a()
    arrays = dict(zip(model.params, model_a(seed=1).get_weights()))
    arrays["dense_2/bias"] = np.array(["a", "b", "c"])
    refused(model, save_arrays(tmp_path / "str.npz", arrays), r"entry 'dense_2/bias' of .* is not numeric")


def test_diverged_weights_load_back_as_saved(tmp_path):
    """A run that diverged saved NaN weights: they load back as they were (Keras accepts them in
    set_weights too) — nothing a user saved is refused or altered."""
    model = model_a()
    weights = model.get_weights()
    weights[-1][1] = np.nan
    model.set_weights(weights)
    model.save_weights(tmp_path / "diverged.npz")
    other = model_a(seed=1)
    other.load_weights(tmp_path / "diverged.npz")
    for a, b in zip(other.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


def test_pickled_objects_are_refused(tmp_path):
    model = model_a()
    arrays = dict(zip(model.params, model_a(seed=1).get_weights()))
    arrays["dense_0/bias"] = np.array([object()] * 6, dtype=object)  # needs pickle
    refused(model, save_arrays(tmp_path / "obj.npz", arrays), r"entry 'dense_0/bias' cannot be loaded safely")
    path = tmp_path / "pickle.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    refused(model, path, r"is not a NumPy .npz weights file")


def test_not_a_weights_file(tmp_path):
    model = model_a()
    (tmp_path / "notes.txt").write_text("hello")
    refused(model, tmp_path / "notes.txt", r"'.*notes.txt' is not a NumPy .npz weights file")
    np.save(tmp_path / "one.npy", np.zeros(3))
    refused(model, tmp_path / "one.npy", r"is not a .npz archive of named arrays")


def test_damaged_files_are_refused_naming_the_file(tmp_path):
    """A truncated weights file, a model archive cut short and one with overwritten bytes: a
    ``ValueError`` naming the file (never ``zipfile.BadZipFile``), and the model unchanged."""
    model = model_a()
    model_a(seed=1).save_weights(tmp_path / "w.npz")
    data = (tmp_path / "w.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    refused(model, tmp_path / "cut.npz", r"'.*cut.npz' is damaged: it cannot be read as a .npz weights file")
    model_a(seed=1).save(tmp_path / "m.refnn")
    archive = (tmp_path / "m.refnn").read_bytes()
    (tmp_path / "cut.refnn").write_bytes(archive[: len(archive) - 40])
    with pytest.raises(ValueError, match=r"'.*cut.refnn' is not a refnn model archive"):
        refnn.load_model(tmp_path / "cut.refnn")
    # overwrite bytes inside the stored weights: the zip's checksum no longer matches
    inside = archive.index(b"model.weights.npz") + 200
    (tmp_path / "bad.refnn").write_bytes(archive[:inside] + bytes(64) + archive[inside + 64:])
    with pytest.raises(ValueError, match=r"'.*bad.refnn' is damaged"):
        refnn.load_model(tmp_path / "bad.refnn")
    refused(model, tmp_path / "bad.refnn", r"'.*bad.refnn' is damaged")


def test_unbuilt_model_cannot_save_or_load(tmp_path):
    model = refnn.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match=r"not been built yet, so `save_weights` cannot run"):
        model.save_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match=r"not been built yet, so `load_weights` cannot run"):
        model.load_weights(tmp_path / "w.npz")


# ---- atomic writes -------------------------------------------------------------------------------
def test_a_failing_save_leaves_the_old_file_and_no_temporary(tmp_path):
    model = model_a()
    path = tmp_path / "w.npz"
    model.save_weights(path)
    good = path.read_bytes()

    def crash(f):
        f.write(b"half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        saving.atomic_write(path, crash)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["w.npz"]


def test_a_crash_while_serialising_leaves_the_old_file(tmp_path, monkeypatch):
    model = model_a()
    path = tmp_path / "m.refnn"
    model.save(path)
    good = path.read_bytes()
    monkeypatch.setattr(zipfile.ZipFile, "writestr", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["m.refnn"]


def test_saved_file_has_normal_permissions(tmp_path):
    model_a().save_weights(tmp_path / "w.npz")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "w.npz").stat().st_mode & 0o777 == 0o666 & ~umask


# ---- whole models --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_save_and_load_model_predicts_identically(tmp_path, dtype):
    x, y = data()
    model = model_a(dtype=dtype)
    model.fit(x.astype(dtype), y, epochs=2, verbose=0)
    path = tmp_path / "model.refnn"
    model.save(path)
    loaded = refnn.load_model(path)
    assert repr(loaded) == repr(model) and loaded.name == "classifier" and loaded.dtype == model.dtype
    assert weights_equal(loaded.get_weights(), model.get_weights())
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    # configs survive: regularizers (so the loss), dropout, initializers, optimizer, loss, metrics
    assert [layer.get_config() for layer in loaded.layers].__repr__() == [
        layer.get_config() for layer in model.layers].__repr__()
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.loss.get_config() == model.loss.get_config()
    assert [m.name for m in loaded.metrics] == ["accuracy", "mse"]
    assert loaded.evaluate(x, y, return_dict=True, verbose=0) == model.evaluate(x, y, return_dict=True, verbose=0)
    # and it trains on (with a fresh optimizer state)
    loaded.fit(x, y, epochs=1, verbose=0)


def test_archive_layout_is_readable_json(tmp_path):
    model = model_a()
    path = tmp_path / "model.refnn"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.npz", "state.json",
                                              "state.npz"]
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
        state = json.loads(archive.read("state.json"))
    assert metadata["format"] == "refnn.model" and metadata["format_version"] == 2
    assert state["optimizer"]["iterations"] == 0 and state["random"]["shuffle"]["bit_generator"] == "PCG64"
    assert set(state["random"]["layers"]) == {"dropout_0"}  # the one layer with a generator of its own
    assert config["config"]["input_dim"] == 5 and config["config"]["dtype"] == "float64"
    dense = config["config"]["layers"][0]
    assert dense["class_name"] == "Dense" and dense["config"]["kernel_regularizer"] == {
        "module": "refnn.regularizers", "class_name": "L2", "config": {"l2": 0.01}}
    assert config["compile_config"]["optimizer"]["class_name"] == "SGD"
    # load_weights also accepts a model archive
    other = model_a(seed=1)
    other.load_weights(path)
    assert weights_equal(other.get_weights(), model.get_weights())


def test_load_model_without_compile_and_uncompiled_models(tmp_path):
    model = model_a()
    model.save(tmp_path / "m.refnn")
    assert refnn.load_model(tmp_path / "m.refnn", compile=False).optimizer is None
    bare = model_a(compile=False)
    bare.save(tmp_path / "bare.refnn")
    loaded = refnn.load_model(tmp_path / "bare.refnn")
    assert loaded.optimizer is None and weights_equal(loaded.get_weights(), bare.get_weights())


def test_unbuilt_model_round_trip(tmp_path):
    model = refnn.Sequential([layers.Dense(3, activation="relu"), layers.Dense(1)], seed=4)
    model.save(tmp_path / "m.refnn")
    loaded = refnn.load_model(tmp_path / "m.refnn")
    assert not loaded.built and loaded.seed == 4
    x = np.ones((2, 7))
    loaded.build(7)
    model.build(7)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))  # same seed, same weights


def test_levenberg_marquardt_model_round_trip(tmp_path):
    model = refnn.Sequential([layers.Dense(4, activation="tanh"), layers.Dense(1)], input_dim=1, seed=0)
    model.compile(optimizers.LevenbergMarquardt(mu=0.01, mu_max=1e8), "sse")
    model.save(tmp_path / "lm.refnn")
    loaded = refnn.load_model(tmp_path / "lm.refnn")
    assert loaded.optimizer.get_config() == model.optimizer.get_config()


def test_load_model_refusals(tmp_path):
    model_a().save_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match=r"is not a refnn model archive: it lacks metadata.json.*use model.load_weights"):
        refnn.load_model(tmp_path / "w.npz")
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(ValueError, match=r"is not a refnn model archive \(written by model.save\)"):
        refnn.load_model(tmp_path / "t.txt")
    model_a().save(tmp_path / "m.refnn")
    # a class name that is not refnn's own is never imported
    with zipfile.ZipFile(tmp_path / "m.refnn") as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}

    def rewrite(name, **changes):
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            for entry, content in {**entries, **changes}.items():
                archive.writestr(entry, content)
        return tmp_path / name

    config = json.loads(entries["config.json"])
    config["config"]["layers"][0]["class_name"] = "os.system"
    with pytest.raises(ValueError, match=r"refnn.layers has no class 'os.system'"):
        refnn.load_model(rewrite("bad.refnn", **{"config.json": json.dumps(config)}))
    config["config"]["layers"][0]["module"] = "subprocess"
    with pytest.raises(ValueError, match=r"unknown module 'subprocess' \(refnn's own only\)"):
        refnn.load_model(rewrite("bad2.refnn", **{"config.json": json.dumps(config)}))
    metadata = json.loads(entries["metadata.json"])
    metadata["format_version"] = 99
    with pytest.raises(ValueError, match=r"version 99; this refnn reads 'refnn.model' versions \[1, 2\]"):
        refnn.load_model(rewrite("future.refnn", **{"metadata.json": json.dumps(metadata)}))


def test_unserialisable_parts_are_refused_at_save(tmp_path):
    model = model_a(compile=False)
    model.compile(optimizers.SGD(learning_rate=lambda: 0.1), "mse")
    with pytest.raises(TypeError, match=r"Cannot save the model: optimizer.learning_rate = .* has no JSON form"):
        model.save(tmp_path / "m.refnn")
    assert not (tmp_path / "m.refnn").exists()
    custom = model_a(compile=False)
    custom.compile(optimizers.SGD(), "mse", metrics=[refnn.metrics.Metric("f1", lambda a, b: a)])
    with pytest.raises(TypeError, match=r"metric 'f1' is not one of refnn's named metrics"):
        custom.save(tmp_path / "m.refnn")


# ---- each file reaches the loader that can read it ------------------------------------------------
@pytest.mark.parametrize("name", ["m.keras", "w.weights.h5", "m.h5"])
def test_refnn_formats_refuse_keras_names(tmp_path, name):
    """A refnn archive named ``m.keras`` used to be written, and Keras then failed to load it."""
    model = model_a()
    for save in (model.save, model.save_weights):
        with pytest.raises(ValueError, match=r"writes refnn's own format, which Keras cannot load.*"
                                             r"keras_bridge.export\(model, '.*" + name.replace(".", r"\.")):
            save(tmp_path / name)
    assert not (tmp_path / name).exists()


def test_keras_files_are_pointed_to_keras_bridge(tmp_path):
    """A Keras .keras archive and an HDF5 weights file, given to refnn's loaders, name the loader
    that reads them (the files here have Keras's layout; real ones are tested in tests/keras)."""
    with zipfile.ZipFile(tmp_path / "m.keras", "w") as archive:
        for member in ("metadata.json", "config.json", "model.weights.h5"):
            archive.writestr(member, "{}")
    (tmp_path / "w.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(ValueError, match=r"is not a refnn model archive.*Keras .keras archive: load it with "
                                         r"keras_bridge.load\(path\)"):
        refnn.load_model(tmp_path / "m.keras")
    model = model_a()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"not a refnn weights file. It is an HDF5 file.*"
                                         r"keras_bridge.load\(path, model=model\)"):
        model.load_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match=r"Keras .keras archive"):
        model.load_weights(tmp_path / "m.keras")
    assert weights_equal(before, model.get_weights())

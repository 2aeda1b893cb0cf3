"""Reliability: what refnn does with bad input, damaged files and random models.

=====================================================  ===============================
What is tried                                          How many
=====================================================  ===============================
bad inputs to the public API (``BAD_INPUTS``)          70, each a clear ``ValueError``/
                                                       ``TypeError`` naming the argument
file faults injected (``FILE_FAULTS``)                 40, each refused naming the file;
                                                       a model loading weights is unchanged
properties on random models (``test_properties.py``)   6
  gradients equal finite differences                   300 examples per run
  predict does not depend on batch_size                200 examples per run
  the same seed trains bit for bit                     150 examples per run
  fit(a) then fit(b) is fit(a + b)                     150 examples per run
  round trips continue training identically            150 examples per run
  optimizers stay finite on extreme gradients          300 examples per run
=====================================================  ===============================

``test_the_table_is_current`` recounts the table from the code. The file faults: a model archive
and a weights file cut short at six lengths, the bytes of each archive member overwritten (the
checksum no longer matches), each member missing, each member replaced by bytes that are not JSON
or not ``.npz``, each JSON member holding a list instead of an object, a config with no layers,
optimizer slots of the wrong shape, for a parameter the model lacks, missing or unknown, and a
directory and a missing path in place of each file.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pytest

import refnn
from refnn import callbacks, layers, losses, optimizers, regularizers
from refnn.optimizers import schedules
from refnn.utils.data import one_hot, train_test_split

from .test_properties import PROPERTIES

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 2))


def _model(compile=True, optimizer="sgd", loss="mse"):
    model = refnn.Sequential([layers.Dense(4, activation="tanh"), layers.Dense(2)], input_dim=3, seed=0)
    if compile:
        model.compile(optimizer, loss)
    return model


def _fit(**kwargs):
    model = _model(**{k: kwargs.pop(k) for k in ("optimizer", "loss") if k in kwargs})
    return model.fit(kwargs.pop("x", X), kwargs.pop("y", Y), verbose=kwargs.pop("verbose", 0), **kwargs)


def _built_dense():
    dense = layers.Dense(3)
    dense.build(3, rng=np.random.default_rng(0), dtype="float64")
    return dense


def _two_models_one_layer():
    dense = layers.Dense(2)
    refnn.Sequential([dense], input_dim=3)
    refnn.Sequential([dense], input_dim=3)


def _an_optimizer_that_trained_another_model():
    model = _model(optimizer=optimizers.Adam())
    model.fit(X, Y, epochs=1, verbose=0)
    _model(compile=False).compile(model.optimizer, "mse")


# name: (call, pattern the message must contain: the argument and the value received, or what to
# call first)
BAD_INPUTS = {
    "Dense units 0": (lambda: layers.Dense(0), r"`units`.*Received: units=0"),
    "Dense units 2.5": (lambda: layers.Dense(2.5), r"`units`.*Received: units=2.5"),
    "Dense unknown activation": (lambda: layers.Dense(3, activation="swishy"), r"`activation`.*'swishy'"),
    "Dense unknown initializer": (lambda: layers.Dense(3, kernel_initializer="nope"), r"`kernel_initializer`.*'nope'"),
    "Dense unknown regularizer": (lambda: layers.Dense(3, kernel_regularizer="nope"), r"`kernel_regularizer`.*'nope'"),
    "Dropout rate 1.5": (lambda: layers.Dropout(1.5), r"`rate`.*Received: rate=1.5"),
    "Dropout rate -0.1": (lambda: layers.Dropout(-0.1), r"`rate`.*Received: rate=-0.1"),
    "Dropout seed -1": (lambda: layers.Dropout(0.5, seed=-1), r"`seed`.*Received: seed=-1"),
    "Activation unknown": (lambda: layers.Activation("nope"), r"`activation`.*'nope'"),
    "forward before build": (lambda: layers.Dense(3).forward(X), r"call layer.build\(input_dim\) before"),
    "backward before forward": (lambda: _built_dense().backward(np.ones((6, 3))),
                                r"call layer.forward\(x, training=...\) before layer.backward"),
    "Sequential input_dim 0": (lambda: refnn.Sequential([layers.Dense(2)], input_dim=0), r"input_dim=0"),
    "Sequential dtype float16": (lambda: refnn.Sequential([layers.Dense(2)], dtype="float16"), r"dtype='float16'"),
    "Sequential seed 'a'": (lambda: refnn.Sequential([layers.Dense(2)], seed="a"), r"`seed`.*seed='a'"),
    "Sequential a non-layer": (lambda: refnn.Sequential([3]), r"must be a refnn.layers.Layer. Received: 3"),
    "a layer in two models": (_two_models_one_layer, r"already belongs to the model 'sequential'"),
    "a layer twice in one model": (lambda: refnn.Sequential([d := layers.Dense(2), d], input_dim=3),
                                   r"is already in this model"),
    "build for another width": (lambda: _model().build(5), r"already built for input_dim=3.*input_dim=5"),
    "compile unknown optimizer": (lambda: _model(False).compile("nope", "mse"), r"`optimizer`.*'nope'"),
    "compile unknown loss": (lambda: _model(False).compile("sgd", "nope"), r"`loss`.*'nope'"),
    "compile unknown metric": (lambda: _model(False).compile("sgd", "mse", metrics=["nope"]), r"`metrics`.*'nope'"),
    "compile unreduced loss": (lambda: _model(False).compile("sgd", losses.MeanSquaredError(reduction="none")),
                               r"reduction='none'"),
    "an optimizer that trained another model": (_an_optimizer_that_trained_another_model,
                                                r"already trained the model 'sequential'"),
    "fit before compile": (lambda: _model(False).fit(X, Y, verbose=0),
                           r"call `compile\(optimizer, loss\)` before `fit`"),
    "fit epochs -1": (lambda: _fit(epochs=-1), r"`epochs`.*epochs=-1"),
    "fit batch_size 0": (lambda: _fit(batch_size=0), r"`batch_size`.*batch_size=0"),
    "fit validation_split 1.0": (lambda: _fit(validation_split=1.0), r"`validation_split`.*validation_split=1.0"),
    "fit validation_data of one array": (lambda: _fit(validation_data=(X,)), r"`validation_data`.*with 1 entries"),
    "fit rows of x and y differ": (lambda: _fit(y=Y[:5]), r"`y` must have one row per row of x \(6\).*\(5, 2\)"),
    "fit x of another width": (lambda: _fit(x=X[:, :2]), r"`x` must have shape \(N, 3\).*\(6, 2\)"),
    "fit y of another width": (lambda: _fit(y=Y[:, :1]), r"`y` must have shape \(N, 2\).*\(6, 1\)"),
    "fit string inputs": (lambda: _fit(x=np.full((6, 3), "a")), r"`x` must be a numeric array"),
    "fit a callback that is not one": (lambda: _fit(callbacks=[object()]), r"`callbacks` must be a refnn"),
    "fit verbose 5": (lambda: _fit(verbose=5), r"`verbose`.*verbose=5"),
    "fit class id out of range": (lambda: _fit(loss="sparse_categorical_crossentropy", y=np.array([0, 1, 2, 0, 1, 0])),
                                  r"class ids in \[0, 2\).*value 2"),
    "fit Rprop on mini-batches": (lambda: _fit(optimizer=optimizers.Rprop(), batch_size=2),
                                  r"full-batch method.*batch_size=2"),
    "fit Levenberg-Marquardt on crossentropy": (
        lambda: _fit(optimizer=optimizers.LevenbergMarquardt(), loss="categorical_crossentropy",
                     y=np.eye(2)[[0, 1] * 3]),
        r"sum-of-squares loss.*CategoricalCrossentropy"),
    "predict before build": (lambda: refnn.Sequential([layers.Dense(2)]).predict(X),
                             r"not been built yet, so `predict`"),
    "predict x of another width": (lambda: _model().predict(X[:, :2]), r"`x` must have shape \(N, 3\)"),
    "predict one row as a vector": (lambda: _model().predict(X[0]), r"x.shape=\(3,\)"),
    "predict batch_size 0": (lambda: _model().predict(X, batch_size=0), r"batch_size=0"),
    "evaluate no rows": (lambda: _model().evaluate(X[:0], Y[:0], verbose=0), r"at least one row.*\(0, 3\)"),
    "set_weights too few arrays": (lambda: _model().set_weights([np.zeros((3, 4))]), r"must hold 4 arrays.*1 arrays"),
    "set_weights a wrong shape": (
        lambda: _model().set_weights([np.zeros((3, 5)), np.zeros(4), np.zeros((4, 2)), np.zeros(2)]),
        r"'dense_0/kernel'.*\(3, 4\).*\(3, 5\)"),
    "SGD learning_rate -1": (lambda: optimizers.SGD(-1), r"`learning_rate`.*learning_rate=-1"),
    "SGD learning_rate 'fast'": (lambda: optimizers.SGD("fast"), r"learning_rate='fast'"),
    "SGD momentum 1.5": (lambda: optimizers.SGD(momentum=1.5), r"`momentum`.*momentum=1.5"),
    "Adam beta_1 1.0": (lambda: optimizers.Adam(beta_1=1.0), r"`beta_1`.*beta_1=1.0"),
    "Adam epsilon -1": (lambda: optimizers.Adam(epsilon=-1), r"`epsilon`.*epsilon=-1"),
    "clipnorm 0": (lambda: optimizers.SGD(clipnorm=0), r"`clipnorm`.*clipnorm=0"),
    "clipnorm and clipvalue": (lambda: optimizers.SGD(clipnorm=1, clipvalue=1),
                               r"Only one of.*clipnorm=1, clipvalue=1"),
    "RMSprop centered and bias-corrected": (lambda: optimizers.RMSprop(centered=True, bias_correction=True),
                                            r"`centered=True` with `bias_correction=True` is refused"),
    "Rprop unknown variant": (lambda: optimizers.Rprop("nope"), r"`variant`.*'nope'"),
    "Rprop with a schedule": (lambda: optimizers.Rprop(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.5)),
                              r"cannot be a schedule.*ExponentialDecay"),
    "Levenberg-Marquardt mu -1": (lambda: optimizers.LevenbergMarquardt(mu=-1), r"`mu`.*mu=-1"),
    "schedule decay_steps 0": (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), r"`decay_steps`.*decay_steps=0"),
    "optimizers.get unknown": (lambda: optimizers.get("nope"), r"`optimizer`.*'nope'"),
    "L2 factor -1": (lambda: regularizers.L2(-1), r"`l2`.*l2=-1"),
    "L1 factor 'a'": (lambda: regularizers.L1("a"), r"`l1`.*l1='a'"),
    "label_smoothing 2": (lambda: losses.CategoricalCrossentropy(label_smoothing=2), r"label_smoothing=2"),
    "loss of mismatched shapes": (lambda: losses.MeanSquaredError()(np.zeros((3, 2)), np.zeros((3, 3))),
                                  r"y_true.shape=\(3, 2\), y_pred.shape=\(3, 3\)"),
    "one_hot of nothing": (lambda: one_hot([]), r"`labels` is empty.*pass `num_classes`"),
    "one_hot of -1": (lambda: one_hot([-1, 0]), r"`labels`.*value -1"),
    "one_hot of 0.5": (lambda: one_hot([0.5]), r"`labels`.*value 0.5"),
    "train_test_split of different lengths": (lambda: train_test_split(X, Y[:5]),
                                              r"inconsistent numbers of samples: \[6, 5\]"),
    "train_test_split to an empty test set": (lambda: train_test_split(X[:3], Y[:3], test_size=0.1),
                                              r"n_samples=3, test_size=0.1.*test set will be empty"),
    "train_test_split stratified below one per class": (
        lambda: train_test_split(X[:4], np.array([0, 0, 1, 1]), test_size=0.25, stratify=True),
        r"test_size = 0 should be greater or equal to the number of classes = 2"),
    "train_test_split test_size 1.5": (lambda: train_test_split(X, Y, test_size=1.5), r"`test_size`.*test_size=1.5"),
    "EarlyStopping patience -1": (lambda: callbacks.EarlyStopping(patience=-1), r"`patience`.*patience=-1"),
    "EarlyStopping unknown mode": (lambda: callbacks.EarlyStopping(mode="nope"), r"`mode`.*'nope'"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gets_a_clear_error(name):
    call, pattern = BAD_INPUTS[name]
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert re.search(pattern, str(info.value), re.DOTALL), f"{type(info.value).__name__}: {info.value}"


# ---- file faults ---------------------------------------------------------------------------------
MEMBERS = ("metadata.json", "config.json", "model.weights.npz", "state.json", "state.npz")
CUTS = (0.0, 0.01, 0.25, 0.5, 0.75, 0.99)


def _fault_names():
    names = [f"{kind} cut at {cut:.0%}" for kind in ("archive", "weights") for cut in CUTS]
    for member in MEMBERS:
        names += [f"archive {member} overwritten", f"archive without {member}", f"archive {member} garbage"]
        names += [f"archive {member} a list"] if member.endswith(".json") else []
    names += ["weights overwritten", "archive config.json with no layers", "archive optimizer slot of another shape",
              "archive optimizer slot for no parameter", "archive optimizer slot missing",
              "archive optimizer slot of an unknown name", "archive is a directory", "weights is a directory",
              "archive missing", "weights missing"]
    return names


FILE_FAULTS = _fault_names()


def _noisy_model():
    model = refnn.Sequential([layers.Dense(4, activation="tanh"), layers.Dropout(0.2), layers.Dense(2)],
                             input_dim=3, seed=0)
    model.compile(optimizers.Adam(0.01), "mse")
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A trained model's archive and weights file, their bytes and the archive's members."""
    directory = tmp_path_factory.mktemp("faults")
    model = _noisy_model()
    model.fit(X, Y, epochs=1, verbose=0)
    model.save(directory / "m.refnn")
    model.save_weights(directory / "w.npz")
    with zipfile.ZipFile(directory / "m.refnn") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    assert tuple(members) == MEMBERS
    return directory, (directory / "m.refnn").read_bytes(), (directory / "w.npz").read_bytes(), members


def _rezip(path, members, **changes):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in {**members, **changes}.items():
            if content is not None:
                archive.writestr(name, content)


def _state_with(members, change):
    with np.load(io.BytesIO(members["state.npz"])) as state:
        arrays = dict(state)
    change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _inject(fault, directory, archive, weights, members):
    """Write the damaged file; return ``("archive" | "weights", its path)``."""
    kind = fault.split()[0]
    path = directory / f"{re.sub(r'[^a-z0-9]+', '-', fault)}.{'refnn' if kind == 'archive' else 'npz'}"
    data = archive if kind == "archive" else weights
    if " cut at " in fault:
        path.write_bytes(data[: int(len(data) * float(fault.split()[-1].rstrip("%")) / 100)])
    elif fault == "weights overwritten":
        path.write_bytes(data[: len(data) // 2] + bytes(16) + data[len(data) // 2 + 16:])
    elif fault.endswith("overwritten"):
        at = data.index(fault.split()[1].encode()) + 40
        path.write_bytes(data[:at] + bytes(16) + data[at + 16:])
    elif " without " in fault:
        _rezip(path, members, **{fault.split()[-1]: None})
    elif fault.endswith("garbage"):
        _rezip(path, members, **{fault.split()[1]: b"\x00garbage{"})
    elif fault.endswith("a list"):
        _rezip(path, members, **{fault.split()[1]: b"[1, 2]"})
    elif fault == "archive config.json with no layers":
        config = json.loads(members["config.json"])
        del config["config"]["layers"]
        _rezip(path, members, **{"config.json": json.dumps(config)})
    elif fault.startswith("archive optimizer slot"):
        key = "optimizer/dense_0/kernel/momentum"
        change = {"of another shape": lambda a: a.__setitem__(key, np.zeros(3)),
                  "for no parameter": lambda a: a.__setitem__("optimizer/dense_9/kernel/momentum", a.pop(key)),
                  "missing": lambda a: a.pop(key),
                  "of an unknown name": lambda a: a.__setitem__(key + "_2", a[key])}[fault.split(" slot ")[1]]
        _rezip(path, members, **{"state.npz": _state_with(members, change)})
    elif fault.endswith("directory"):
        path.mkdir()
    elif fault not in ("archive missing", "weights missing"):
        raise AssertionError(f"unknown fault {fault!r}")
    return kind, path


@pytest.mark.parametrize("fault", FILE_FAULTS)
def test_a_damaged_file_is_refused_naming_it(fault, saved):
    """``load_model`` and ``load_weights`` refuse with an error that names the file (``ValueError``,
    or the operating system's own for a missing path or a directory); a model refusing a weights
    file keeps its weights."""
    kind, path = _inject(fault, *saved)
    target = _noisy_model()
    before = target.get_weights()
    expected = {f"{kind} missing": FileNotFoundError, f"{kind} is a directory": (IsADirectoryError, ValueError)}.get(
        fault, ValueError)
    with pytest.raises(expected) as info:
        refnn.load_model(path) if kind == "archive" else target.load_weights(path)
    assert str(path) in str(info.value), info.value
    assert all(np.array_equal(a, b) for a, b in zip(before, target.get_weights(), strict=True))


# ---- the table -----------------------------------------------------------------------------------
def test_the_table_is_current():
    table = __doc__
    assert re.search(rf"\(``BAD_INPUTS``\)\s+{len(BAD_INPUTS)},", table)
    assert re.search(rf"\(``FILE_FAULTS``\)\s+{len(FILE_FAULTS)},", table)
    assert re.search(rf"\(``test_properties.py``\)\s+{len(PROPERTIES)}\n", table)
    for name, count in PROPERTIES.items():
        assert re.search(rf"  {re.escape(name)}\s+{count} examples per run", table), name

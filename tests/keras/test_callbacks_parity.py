"""Keras's callback family, refnn vs Keras on the same run, both sides computed live.

The same model (refnn's and its Keras twin, same initial weights) trains on the same batches —
refnn's shuffle order replayed to Keras by ``keras_bridge.compare.training``, or no shuffling —
with ``ReduceLROnPlateau``, ``LearningRateScheduler``, ``CSVLogger`` or ``ModelCheckpoint`` on
each side. Float64: curves within 1e-8 (relative), learning rates, saved epochs and CSV columns
identical; the CSV bytes of the same logs identical.
"""

import os

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import refnn  # noqa: E402
from keras_bridge import compare  # noqa: E402
from keras_bridge.compare.training import keras_fit_in_order  # noqa: E402
from keras_bridge.compare.twins import training_twins  # noqa: E402
from keras_bridge.weights import keras_weights_by_path  # noqa: E402
from refnn import layers, optimizers  # noqa: E402
from refnn.callbacks import CSVLogger, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau  # noqa: E402
from refnn.utils.data import split_validation  # noqa: E402
from refnn.utils.tolerance import relative_error  # noqa: E402

RTOL = 1e-8


def data(n=40, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    y = np.tanh(x @ np.array([[1.0, 0.5], [-0.5, 1.0], [0.25, -1.0]])) + 0.3 * rng.standard_normal((n, 2))
    return x, y


def make_model(lr=0.3, dtype="float64"):
    model = refnn.Sequential([layers.Dense(6, activation="tanh"), layers.Dense(2)], input_dim=3, seed=3,
                             dtype=dtype)
    model.compile(optimizers.SGD(lr), "mse")
    return model


def halve_every_other(epoch, lr):
    return lr * 0.5 if epoch % 2 else lr


# ---- learning-rate callbacks through compare.training -----------------------------------------------
@pytest.mark.parametrize("make_callback", [
    lambda: ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_delta=1e-3),
    lambda: keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_delta=1e-3),
    lambda: ReduceLROnPlateau(monitor="loss", factor=0.3, patience=0, min_delta=0.02, cooldown=2, min_lr=0.01),
], ids=["refnn", "keras", "cooldown_min_lr"])
def test_reduce_lr_on_plateau_same_epochs_and_rates(float64, make_callback):
    x, y = data()
    result = compare.training(make_model(), x, y, epochs=14, batch_size=8, validation_split=0.25,
                              callbacks=[make_callback()])
    result.assert_passed()
    mine, theirs = result.refnn_history["learning_rate"], result.keras_history["learning_rate"]
    assert mine == theirs, (mine, theirs)
    assert len(set(mine)) >= 3, f"the run must reduce the rate at least twice: {mine}"
    assert result.max_rel <= RTOL


def test_reduce_lr_on_plateau_float32_rates_are_float32_roundings(floatx):
    x, y = data()
    result = compare.training(make_model(dtype=floatx), x, y, epochs=10, batch_size=8, validation_split=0.25,
                              callbacks=[ReduceLROnPlateau(factor=0.3, patience=0, min_delta=1e-2)])
    mine, theirs = result.refnn_history["learning_rate"], result.keras_history["learning_rate"]
    assert mine == theirs and len(set(mine)) >= 2, (mine, theirs)
    if floatx == "float32":
        assert all(float(np.float32(v)) == v for v in mine)


@pytest.mark.parametrize("schedule", [halve_every_other, lambda epoch: 0.3 / (1 + epoch)],
                         ids=["two_arguments", "one_argument"])
@pytest.mark.parametrize("side", ["refnn", "keras"])
def test_learning_rate_scheduler_same_rates_and_curves(float64, schedule, side):
    x, y = data()
    cls = LearningRateScheduler if side == "refnn" else keras.callbacks.LearningRateScheduler
    result = compare.training(make_model(), x, y, epochs=8, batch_size=8, validation_split=0.25,
                              callbacks=[cls(schedule)])
    result.assert_passed()
    assert result.refnn_history["learning_rate"] == result.keras_history["learning_rate"]
    assert result.max_rel <= RTOL


# ---- files: CSVLogger and ModelCheckpoint on twin runs ----------------------------------------------
def twin_runs(refnn_callbacks, keras_callbacks, epochs=10, lr=0.3):
    """refnn's fit and Keras's on the same unshuffled batches, each with its own callbacks."""
    x, y = data()
    mine, keras_model, _ = training_twins(make_model(lr), keras_exact=True, set_aside=[])
    x_train, y_train, x_val, y_val = split_validation(x, y, 0.25)
    history = mine.fit(x, y, epochs=epochs, batch_size=8, validation_split=0.25, shuffle=False,
                       callbacks=refnn_callbacks, verbose=0)
    orders = np.tile(np.arange(x_train.shape[0]), (epochs, 1))
    keras_history = keras_fit_in_order(keras_model, x_train, y_train, orders, 8, validation_data=(x_val, y_val),
                                       callbacks=keras_callbacks)
    return mine, keras_model, history.history, keras_history.history


def test_csv_logger_same_columns_and_numbers(float64, tmp_path):
    mine_path, keras_path = tmp_path / "refnn.csv", tmp_path / "keras.csv"
    twin_runs([ReduceLROnPlateau(patience=1, factor=0.5), CSVLogger(mine_path)],
              [keras.callbacks.ReduceLROnPlateau(patience=1, factor=0.5), keras.callbacks.CSVLogger(str(keras_path))])
    mine, theirs = mine_path.read_bytes().split(b"\r\n"), keras_path.read_bytes().split(b"\r\n")
    assert mine[0] == theirs[0] == b"epoch,learning_rate,loss,val_loss"
    assert len(mine) == len(theirs) == 12 and mine[-1] == theirs[-1] == b""
    for row_mine, row_theirs in zip(mine[1:-1], theirs[1:-1]):
        cells_mine, cells_theirs = row_mine.split(b","), row_theirs.split(b",")
        assert cells_mine[:2] == cells_theirs[:2]  # epoch and learning rate: the same text
        for a, b in zip(cells_mine[2:], cells_theirs[2:]):
            assert relative_error(float(a), float(b)) <= RTOL, (row_mine, row_theirs)


def test_csv_logger_same_bytes_for_the_same_logs(tmp_path):
    epochs = [{"loss": 0.5, "accuracy": 1 / 3}, {"loss": 0.1234567890123, "accuracy": 0.75, "extra": "x"},
              {"accuracy": 1.0}]
    files = {}
    for side, cls in (("refnn", CSVLogger), ("keras", keras.callbacks.CSVLogger)):
        for append in (False, True):  # the second pass appends, without a second header
            logger = cls(str(tmp_path / f"{side}.csv"), separator=";", append=append)
            logger.on_train_begin({})
            for epoch, logs in enumerate(epochs):
                logger.on_epoch_end(epoch, dict(logs))
            logger.on_train_end({})
        files[side] = (tmp_path / f"{side}.csv").read_bytes()
    assert files["refnn"] == files["keras"]
    assert files["refnn"].startswith(b"epoch;accuracy;loss;val_accuracy;val_loss\r\n0;")


def test_model_checkpoint_same_epochs_and_best_weights(float64, tmp_path):
    mine_cb = ModelCheckpoint(str(tmp_path / "r-{epoch:02d}.weights.npz"), save_best_only=True,
                              save_weights_only=True)
    keras_cb = keras.callbacks.ModelCheckpoint(str(tmp_path / "k-{epoch:02d}.weights.h5"), save_best_only=True,
                                               save_weights_only=True)
    mine, keras_model, history, keras_history = twin_runs([mine_cb], [keras_cb], epochs=12, lr=0.9)
    saved_mine = sorted(f[2:4] for f in os.listdir(tmp_path) if f.startswith("r-"))
    saved_keras = sorted(f[2:4] for f in os.listdir(tmp_path) if f.startswith("k-"))
    assert saved_mine == saved_keras
    assert 1 < len(saved_mine) < 12, f"the run must have non-improving epochs: saved {saved_mine}"
    assert relative_error(history["val_loss"], keras_history["val_loss"]) <= RTOL
    assert mine_cb.best == pytest.approx(keras_cb.best, rel=RTOL)
    mine.load_weights(str(tmp_path / f"r-{saved_mine[-1]}.weights.npz"))
    keras_model.load_weights(str(tmp_path / f"k-{saved_keras[-1]}.weights.h5"))
    theirs = keras_weights_by_path(mine, keras_model)
    for path, value in mine.params.items():
        assert relative_error(value, theirs[path]) <= RTOL, path


# ---- Keras callback objects given to refnn's fit ---------------------------------------------------
@pytest.mark.parametrize("callback, match", [
    (keras.callbacks.EarlyStopping(patience=2), "use refnn.callbacks.EarlyStopping with the same arguments"),
    (keras.callbacks.ReduceLROnPlateau(), "use refnn.callbacks.ReduceLROnPlateau"),
    (keras.callbacks.CSVLogger("x.csv"), "use refnn.callbacks.CSVLogger"),
    (keras.callbacks.TensorBoard(), "refnn writes no TensorBoard logs"),
    (keras.callbacks.RemoteMonitor(), "LambdaCallback"),
])
def test_keras_callbacks_given_to_refnn_fit_name_the_counterpart(callback, match):
    x, y = data()
    with pytest.raises(TypeError, match=match):
        make_model().fit(x, y, epochs=1, callbacks=[callback], verbose=0)


def test_a_keras_callback_subclass_is_told_to_subclass_refnns():
    class Mine(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    x, y = data()
    with pytest.raises(TypeError, match="subclass refnn.callbacks.Callback instead of keras.src.callbacks"):
        make_model().fit(x, y, epochs=1, callbacks=[Mine()], verbose=0)


def test_model_checkpoint_every_few_batches_same_files(float64, tmp_path):
    # 30 training rows in batches of 8: 4 batches an epoch; a save every 3 batches, counted across epochs
    mine_cb = ModelCheckpoint(str(tmp_path / "r-{epoch}-{batch}.weights.npz"), save_weights_only=True, save_freq=3)
    keras_cb = keras.callbacks.ModelCheckpoint(str(tmp_path / "k-{epoch}-{batch}.weights.h5"),
                                               save_weights_only=True, save_freq=3)
    twin_runs([mine_cb], [keras_cb], epochs=3)
    names = os.listdir(tmp_path)
    saved_mine = sorted(f.removeprefix("r-").removesuffix(".weights.npz") for f in names if f.startswith("r-"))
    saved_keras = sorted(f.removeprefix("k-").removesuffix(".weights.h5") for f in names if f.startswith("k-"))
    assert saved_mine == saved_keras == ["1-3", "2-2", "3-1", "3-4"]

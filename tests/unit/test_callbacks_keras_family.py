"""Keras's callback family in refnn (ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler,
CSVLogger, LambdaCallback, BackupAndRestore), the settable ``optimizer.learning_rate`` and the
refusal of Keras callback objects — NumPy only. Expected values are worked out by hand in the
comments from Keras 3's rules (each callback's docstring); ``tests/keras/test_callbacks_parity.py``
runs the same callbacks in Keras."""

import copy
import csv
import os
import pickle
import warnings

import numpy as np
import pytest

import refnn
from refnn import layers, optimizers
from refnn.callbacks import (BackupAndRestore, Callback, CSVLogger, LambdaCallback, LearningRateScheduler,
                             ModelCheckpoint, ReduceLROnPlateau)
from refnn.callbacks.monitoring import BatchCounter, check_save_freq
from refnn.optimizers import schedules


def data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, np.tanh(x @ np.array([[1.0, 0.5], [-0.5, 1.0], [0.25, -1.0]]))


def make_model(optimizer=None, dropout=False):
    stack = [layers.Dense(5, activation="tanh")] + ([layers.Dropout(0.3)] if dropout else []) + [layers.Dense(2)]
    model = refnn.Sequential(stack, input_dim=3, seed=0)
    model.compile(optimizer or optimizers.SGD(0.1), "mse")
    return model


def drive(callback, model, values, monitor="val_loss"):
    """Feed ``values`` as ``logs[monitor]`` epoch by epoch; return the logs of each epoch."""
    callback.set_model(model)
    callback.on_train_begin({})
    all_logs = []
    for epoch, value in enumerate(values):
        logs = {monitor: value}
        callback.on_epoch_begin(epoch, {})
        callback.on_epoch_end(epoch, logs)
        all_logs.append(logs)
    callback.on_train_end({})
    return all_logs


# ---- optimizer.learning_rate --------------------------------------------------------------------
def test_learning_rate_is_assignable():
    opt = optimizers.SGD(0.1)
    opt.learning_rate = 0.05
    assert opt.learning_rate == 0.05 and opt.current_learning_rate() == 0.05
    opt.learning_rate = np.float32(0.25)
    assert type(opt.learning_rate) is float and opt.learning_rate == 0.25
    opt.learning_rate = 0.0  # a frozen rate is allowed
    with pytest.raises(ValueError, match=r"`learning_rate` must be a float .* Received: learning_rate=-0.1"):
        opt.learning_rate = -0.1
    with pytest.raises(ValueError, match="learning_rate='fast'"):
        opt.learning_rate = "fast"


def test_learning_rate_float_over_schedule_is_refused_as_in_keras():
    opt = optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(TypeError, match="hence its learning rate is not settable"):
        opt.learning_rate = 0.01
    opt.learning_rate = schedules.ExponentialDecay(0.2, 10, 0.5)  # a schedule replaces a schedule
    assert opt.current_learning_rate() == pytest.approx(0.2)


def test_learning_rate_survives_copy_pickle_and_config():
    opt = optimizers.Adam(0.01)
    opt.learning_rate = 0.003
    for clone in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt)), optimizers.Adam.from_config(opt.get_config())):
        assert clone.learning_rate == 0.003


def test_pickle_from_before_the_property_loads():
    opt = optimizers.SGD(0.1)
    state = opt.__getstate__()
    state["learning_rate"] = state.pop("_learning_rate")
    old = optimizers.SGD.__new__(optimizers.SGD)
    old.__setstate__(state)
    assert old.learning_rate == 0.1


# ---- ReduceLROnPlateau ------------------------------------------------------------------------------
def test_reduce_lr_patience_and_cooldown():
    model = make_model(optimizers.SGD(1.0))
    cb = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_delta=0.0)
    logs = drive(cb, model, [5, 4, 4, 4, 4, 4, 3, 3, 3, 3])
    # e1 best 4; e2 wait 1; e3 wait 2 → 0.5, cooldown 1; e4 cooldown → 0, then wait 1; e5 wait 2 → 0.25;
    # e6 cooldown → 0, 3 improves; e7 wait 1; e8 wait 2 → 0.125; e9 cooldown → 0, wait 1.
    # logs hold the rate *before* the epoch's reduction
    assert [log["learning_rate"] for log in logs] == [1, 1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]
    assert model.optimizer.learning_rate == 0.125 and cb.wait == 1 and cb.cooldown_counter == 0


def test_reduce_lr_floor_compared_in_float32():
    model = make_model(optimizers.SGD(1.0))
    cb = ReduceLROnPlateau(factor=0.1, patience=0, min_lr=0.05)
    logs = drive(cb, model, [1.0, 1.0, 1.0, 1.0])
    # e1 → 0.1, e2 → max(0.01, 0.05) = 0.05; e3: 0.05 > float32(0.05) is false in float32 → stays
    assert [log["learning_rate"] for log in logs] == [1.0, 1.0, 0.1, 0.05]
    assert model.optimizer.learning_rate == 0.05


def test_reduce_lr_improvement_is_a_float32_comparison():
    model = make_model(optimizers.SGD(1.0))
    cb = ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0.0)
    drive(cb, model, [1.0, 1.0 - 1e-9])  # equal in float32: no improvement, wait 1 → reduce
    assert model.optimizer.learning_rate == 0.5


def test_reduce_lr_max_mode_and_missing_monitor():
    model = make_model(optimizers.SGD(1.0))
    cb = ReduceLROnPlateau(monitor="val_accuracy", mode="max", factor=0.5, patience=1)
    drive(cb, model, [0.5, 0.6, 0.6, 0.7], monitor="val_accuracy")  # e2 no improvement → 0.5
    assert model.optimizer.learning_rate == 0.5
    with pytest.warns(UserWarning, match="conditioned on metric `val_loss` which is not available"):
        drive(ReduceLROnPlateau(), model, [1.0], monitor="loss")


def test_reduce_lr_rounds_to_float32_in_float32_models():
    model = refnn.Sequential([layers.Dense(1)], input_dim=2, seed=0, dtype="float32")
    model.compile(optimizers.SGD(0.1), "mse")
    drive(ReduceLROnPlateau(factor=0.1, patience=0), model, [1.0, 1.0])
    assert model.optimizer.learning_rate == float(np.float32(0.1 * 0.1))


@pytest.mark.parametrize("kwargs, match", [
    (dict(factor=1.0), "does not support a factor >= 1.0"),
    (dict(factor=-0.1), "factor=-0.1"),
    (dict(patience=-1), "patience"),
    (dict(min_lr=-1.0), "min_lr=-1.0"),
    (dict(mode="up"), "mode"),
    (dict(monitor=""), "monitor"),
])
def test_reduce_lr_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ReduceLROnPlateau(**kwargs)


def test_reduce_lr_refuses_a_schedule_driven_optimizer():
    model = make_model(optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.5)))
    with pytest.raises(TypeError, match="not settable"):
        drive(ReduceLROnPlateau(patience=0), model, [1.0, 1.0])


# ---- LearningRateScheduler ----------------------------------------------------------------------
def test_scheduler_sets_the_rate_and_logs_it():
    x, y = data()
    model = make_model(optimizers.SGD(0.1))
    cb = LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr * 0.5)
    history = model.fit(x, y, epochs=3, batch_size=8, callbacks=[cb], verbose=0)
    assert history.history["learning_rate"] == [0.1, 0.05, 0.025]
    # the same as setting the rate by hand between one-epoch fits (fit continues exactly)
    manual = make_model(optimizers.SGD(0.1))
    for epoch, lr in enumerate([0.1, 0.05, 0.025]):
        manual.optimizer.learning_rate = lr
        manual.fit(x, y, epochs=epoch + 1, initial_epoch=epoch, batch_size=8, verbose=0)
    for a, b in zip(model.get_weights(), manual.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_scheduler_one_argument_form_and_bad_outputs():
    x, y = data()
    model = make_model()
    history = model.fit(x, y, epochs=2, callbacks=[LearningRateScheduler(lambda e: 0.1 / (e + 1))], verbose=0)
    assert history.history["learning_rate"] == [0.1, 0.05]
    with pytest.raises(ValueError, match="The output of the `schedule` function should be a float. Got: 1"):
        make_model().fit(x, y, epochs=1, callbacks=[LearningRateScheduler(lambda e, lr: 1)], verbose=0)
    with pytest.raises(ValueError, match="`learning_rate` must be a float"):
        make_model().fit(x, y, epochs=1, callbacks=[LearningRateScheduler(lambda e, lr: float("nan"))], verbose=0)
    with pytest.raises(TypeError, match="`schedule` must be a function"):
        LearningRateScheduler(0.1)


# ---- CSVLogger ----------------------------------------------------------------------------------
def test_csv_logger_format(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    history = make_model().fit(x, y, epochs=3, validation_split=0.2, callbacks=[CSVLogger(path)], verbose=0)
    raw = path.read_bytes()
    assert raw.startswith(b"epoch,loss,val_loss\r\n") and raw.count(b"\r\n") == 4
    rows = list(csv.reader(raw.decode().splitlines()))[1:]
    assert [row[0] for row in rows] == ["0", "1", "2"]
    assert [row[1] for row in rows] == [str(float(v)) for v in history.history["loss"]]
    assert [row[2] for row in rows] == [str(float(v)) for v in history.history["val_loss"]]


def test_csv_logger_without_validation_adds_val_columns_and_appends(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    model = make_model()
    model.fit(x, y, epochs=1, callbacks=[CSVLogger(path, separator=";")], verbose=0)
    model.fit(x, y, epochs=1, callbacks=[CSVLogger(path, separator=";", append=True)], verbose=0)
    lines = path.read_bytes().decode().split("\r\n")
    assert lines[0] == "epoch;loss;val_loss"  # Keras's guess: val_ columns, "NA" when absent
    assert lines[1].startswith("0;") and lines[1].endswith(";NA") and lines[2].startswith("0;")
    assert len(lines) == 4 and lines[3] == ""  # one header only


def test_csv_logger_bad_arguments():
    with pytest.raises(ValueError, match="separator"):
        CSVLogger("a.csv", separator=",,")
    with pytest.raises(TypeError, match="filename"):
        CSVLogger(3)


# ---- LambdaCallback -----------------------------------------------------------------------------
def test_lambda_callback_calls_every_hook():
    x, y = data()
    calls = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: calls.append("train_end"))
    make_model().fit(x, y, epochs=1, batch_size=10, callbacks=[cb], verbose=0)
    assert calls == ["train_begin", ("epoch_begin", 0), ("batch_begin", 0), ("batch_end", 0, ["loss"]),
                     ("batch_begin", 1), ("batch_end", 1, ["loss"]), ("epoch_end", 0, ["loss"]), "train_end"]


def test_lambda_callback_old_batch_names_and_refusals():
    x, y = data()
    seen = []
    make_model().fit(x, y, epochs=1, batch_size=10, verbose=0,
                     callbacks=[LambdaCallback(on_batch_end=lambda batch, logs: seen.append(batch))])
    assert seen == [0, 1]
    with pytest.raises(ValueError, match="refnn never calls `on_test_begin`"):
        LambdaCallback(on_test_begin=print)
    with pytest.raises(TypeError, match="unexpected keyword argument 'on_epoch_ending'"):
        LambdaCallback(on_epoch_ending=print)
    with pytest.raises(TypeError, match="`on_epoch_end` must be a function"):
        LambdaCallback(on_epoch_end=3)


# ---- ModelCheckpoint ----------------------------------------------------------------------------
def test_checkpoint_every_epoch_formats_the_path(tmp_path):
    x, y = data()
    pattern = str(tmp_path / "ck-{epoch:02d}-{val_loss:.4f}.refnn")
    cb = ModelCheckpoint(pattern)
    model = make_model()
    history = model.fit(x, y, epochs=3, validation_split=0.2, callbacks=[cb], verbose=0)
    expected = [pattern.format(epoch=e + 1, val_loss=v) for e, v in enumerate(history.history["val_loss"])]
    assert cb.saved == expected and all(os.path.exists(p) for p in expected)
    last = refnn.load_model(expected[-1])
    for a, b in zip(last.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_best_only_keeps_the_best_weights(tmp_path):
    x, y = data()
    path = str(tmp_path / "best.weights.npz")
    snapshots = []
    watcher = LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    model = make_model(optimizers.SGD(0.9))  # a large rate: val_loss goes up and down
    cb = ModelCheckpoint(path, monitor="loss", save_best_only=True, save_weights_only=True)
    history = model.fit(x, y, epochs=8, batch_size=4, callbacks=[cb, watcher], verbose=0)
    losses = history.history["loss"]
    best = int(np.argmin(losses))
    improving = [e for e in range(len(losses)) if losses[e] < min(losses[:e], default=np.inf)]
    assert len(cb.saved) == len(improving) and cb.best == losses[best]
    restored = make_model()
    restored.load_weights(path)
    for a, b in zip(restored.get_weights(), snapshots[best]):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_threshold_missing_monitor_and_batches(tmp_path):
    x, y = data()
    cb = ModelCheckpoint(str(tmp_path / "t.npz"), monitor="loss", save_best_only=True, save_weights_only=True,
                         initial_value_threshold=0.0)  # no loss beats 0 → never saved
    make_model().fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    assert cb.saved == []
    cb = ModelCheckpoint(str(tmp_path / "m.npz"), save_best_only=True, save_weights_only=True)
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        make_model().fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    assert len(cb.saved) == 1
    # 4 batches per epoch, a save every 3 batches counted across epochs (Keras's counter)
    cb = ModelCheckpoint(str(tmp_path / "b-{epoch}-{batch}.npz"), save_weights_only=True, save_freq=3)
    make_model().fit(x, y, epochs=3, batch_size=6, callbacks=[cb], verbose=0)
    assert [os.path.basename(p) for p in cb.saved] == ["b-1-3.npz", "b-2-2.npz", "b-3-1.npz", "b-3-4.npz"]


@pytest.mark.parametrize("name, match", [("best.keras", "'best.refnn'"), ("w.weights.h5", "'best.weights.npz'"),
                                         ("m.h5", "keras_bridge.export")])
def test_checkpoint_refuses_keras_names(name, match):
    with pytest.raises(ValueError, match=match):
        ModelCheckpoint(name, save_weights_only=name.endswith(".weights.h5"))


def test_checkpoint_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="Unrecognized save_freq: 'batch'"):
        ModelCheckpoint("a.refnn", save_freq="batch")
    with pytest.raises(ValueError, match="Unrecognized save_freq: 0"):
        ModelCheckpoint("a.refnn", save_freq=0)
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        make_model().fit(*data(), epochs=1, verbose=0, callbacks=[ModelCheckpoint(str(tmp_path / "{acc}.refnn"))])
    with pytest.raises(ValueError, match="initial_value_threshold=nan"):
        ModelCheckpoint("a.refnn", initial_value_threshold=float("nan"))


@pytest.mark.parametrize("make, name", [
    (lambda v: ModelCheckpoint("a.refnn", save_best_only=v), "save_best_only"),
    (lambda v: ModelCheckpoint("a.refnn", save_weights_only=v), "save_weights_only"),
    (lambda v: BackupAndRestore("d", delete_checkpoint=v), "delete_checkpoint"),
    (lambda v: CSVLogger("a.csv", append=v), "append"),
])
def test_boolean_arguments_must_be_bools(make, name):
    assert make(np.bool_(True)) is not None
    with pytest.raises(TypeError, match=f"`{name}` must be a bool. Received: {name}='yes'"):
        make("yes")


def test_batch_counter_counts_across_epochs_as_keras():
    counter = BatchCounter(3)
    batches = [0, 1, 2, 3] * 3  # 4 batches per epoch, 3 epochs
    assert [i for i, b in enumerate(batches) if counter.due(b)] == [2, 5, 8, 11]
    with pytest.raises(ValueError, match="Unrecognized save_freq: True"):
        check_save_freq(True)
    assert check_save_freq(np.int64(5)) == 5 and type(check_save_freq(np.int64(5))) is int


# ---- BackupAndRestore ---------------------------------------------------------------------------
class Interrupt(Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt(f"interrupted at epoch {epoch}")


def _interrupted_then_resumed(tmp_path, pass_initial_epoch: bool):
    x, y = data()
    kwargs = dict(epochs=6, batch_size=6, shuffle=True, validation_split=0.2, verbose=0)
    whole = make_model(optimizers.Adam(0.01), dropout=True)
    whole.fit(x, y, **kwargs)
    backup = BackupAndRestore(tmp_path / "backup")
    model = make_model(optimizers.Adam(0.01), dropout=True)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, callbacks=[backup, Interrupt(4)], **kwargs)
    assert os.path.exists(tmp_path / "backup" / "backup.npz")
    # a fresh process: a new model, trained from scratch state, picks the backup up
    resumed = make_model(optimizers.Adam(0.01), dropout=True)
    extra = dict(initial_epoch=4) if pass_initial_epoch else {}
    history = resumed.fit(x, y, callbacks=[BackupAndRestore(tmp_path / "backup")], **kwargs, **extra)
    return whole, resumed, history


def test_backup_and_restore_resumes_exactly(tmp_path):
    whole, resumed, history = _interrupted_then_resumed(tmp_path, pass_initial_epoch=True)
    assert resumed._initial_epoch == 4 and history.epoch == [4, 5]
    for a, b in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert resumed.optimizer.iterations == whole.optimizer.iterations
    assert not os.path.exists(tmp_path / "backup")  # deleted at the end of a normal fit


def test_backup_and_restore_sets_the_initial_epoch_of_fit(tmp_path):
    whole, resumed, history = _interrupted_then_resumed(tmp_path, pass_initial_epoch=False)
    assert history.epoch == [4, 5]
    for a, b in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_backup_keeps_a_reduced_learning_rate_and_refuses_another_model(tmp_path):
    x, y = data()
    model = make_model(optimizers.SGD(0.1))
    cb = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    model.fit(x, y, epochs=2, callbacks=[LearningRateScheduler(lambda e, lr: 0.02), cb], verbose=0)
    fresh = make_model(optimizers.SGD(0.1))
    cb.set_model(fresh)
    cb.on_train_begin({})
    assert fresh.optimizer.learning_rate == 0.02 and fresh.optimizer.iterations == model.optimizer.iterations
    other = refnn.Sequential([layers.Dense(4), layers.Dense(2)], input_dim=3, seed=0)
    other.compile("sgd", "mse")
    cb.set_model(other)
    with pytest.raises(ValueError, match="holds the weights of another model"):
        cb.on_train_begin({})


def test_backup_leaves_no_temporary_file_and_refuses_a_damaged_one(tmp_path):
    x, y = data()
    cb = BackupAndRestore(tmp_path / "b", delete_checkpoint=False, save_freq=2)
    make_model(optimizers.Adam(0.01)).fit(x, y, epochs=2, batch_size=6, callbacks=[cb], verbose=0)
    assert os.listdir(tmp_path / "b") == ["backup.npz"]
    (tmp_path / "b" / "backup.npz").write_bytes(b"not an archive")
    cb.set_model(make_model(optimizers.Adam(0.01)))
    with pytest.raises(ValueError, match="cannot be read .*delete it to start afresh"):
        cb.on_train_begin({})


def test_backup_bad_arguments():
    with pytest.raises(ValueError, match="backup_dir"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore("d", save_freq="batch")


# ---- Keras callbacks refused --------------------------------------------------------------------
def _fake_keras_class(name, module):
    return type(name, (), {"__module__": module})


@pytest.mark.parametrize("name, module, match", [
    ("EarlyStopping", "keras.src.callbacks.early_stopping", "use refnn.callbacks.EarlyStopping with the same"),
    ("ReduceLROnPlateau", "keras.src.callbacks.reduce_lr_on_plateau", "refnn.callbacks.ReduceLROnPlateau"),
    ("TensorBoard", "keras.src.callbacks.tensorboard", "use refnn.callbacks.CSVLogger"),
    ("History", "keras.src.callbacks.history", "fit makes its own History"),
])
def test_keras_callbacks_are_refused_with_their_counterpart(name, module, match):
    fake = _fake_keras_class(name, module)()
    with pytest.raises(TypeError, match=match):
        make_model().fit(*data(), epochs=1, callbacks=[fake], verbose=0)


def test_user_subclass_of_a_keras_callback_is_told_to_subclass_refnn():
    base = _fake_keras_class("Callback", "keras.src.callbacks.callback")
    mine = type("MyCallback", (base,), {"__module__": "__main__"})
    with pytest.raises(TypeError, match="subclass refnn.callbacks.Callback instead of keras.src.callbacks.callback"):
        make_model().fit(*data(), epochs=1, callbacks=[mine()], verbose=0)


def test_other_objects_still_get_the_plain_message():
    with warnings.catch_warnings():
        with pytest.raises(TypeError, match="must be a refnn.callbacks.Callback"):
            make_model().fit(*data(), epochs=1, callbacks=[object()], verbose=0)

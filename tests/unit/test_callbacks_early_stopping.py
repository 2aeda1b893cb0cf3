"""EarlyStopping driven by synthetic loss sequences — no training.

A one-weight model stands in for the network: before ``on_epoch_end(e)`` its kernel is set to
``e``, so the weights restored at the end name the epoch they came from. Each case's expected
``(stopped_epoch, epochs run, restored epoch)`` is worked out by hand in the comment beside it,
from the rules in ``docs/keras-numerics.md``; ``tests/keras/test_early_stopping_parity.py``
feeds the same cases to ``keras.callbacks.EarlyStopping``.
"""

import math
import warnings

import numpy as np
import pytest

import refnn
from refnn import layers
from refnn.callbacks import EarlyStopping

NAN = float("nan")

# (id, EarlyStopping kwargs, monitored values per epoch, (stopped_epoch, epochs run, restored epoch))
CASES = [
    # best 10, 9, 8 (e0–e2); e3 = 9 is the first non-improving epoch: wait 1 >= 0 → stop at 3
    ("patience0", dict(patience=0), [10, 9, 8, 9, 8.9, 8.8, 8.7, 8.6], (3, 4, 3)),
    ("patience1", dict(patience=1), [10, 9, 8, 9, 8.9, 8.8, 8.7, 8.6], (3, 4, 3)),
    # wait 1 at e3, 2 at e4 (8.9 is not < 8) → stop at 4
    ("patience2", dict(patience=2), [10, 9, 8, 9, 8.9, 8.8, 8.7, 8.6], (4, 5, 4)),
    ("patience3", dict(patience=3), [10, 9, 8, 9, 8.9, 8.8, 8.7, 8.6], (5, 6, 5)),
    # the same, restoring the best epoch (2)
    ("patience2_restore", dict(patience=2, restore_best_weights=True), [10, 9, 8, 9, 8.9, 8.8, 8.7], (4, 5, 2)),
    # improvement at e4 resets wait; then e5, e6, e7 do not improve → stop at 7, best e4
    ("patience3_reimprove", dict(patience=3, restore_best_weights=True),
     [5, 4, 4.5, 4.2, 3.9, 4.1, 4.0, 4.05, 4.2], (7, 8, 4)),
    # min_delta strict: 3.75 + 0.25 = 4 is not < 4 → no improvement at e1 → stop at 1
    ("min_delta_strict", dict(patience=1, min_delta=0.25), [4, 3.75, 3.5, 3.25, 3.0], (1, 2, 1)),
    # patience 2: e2 3.5 + .25 < 4 improves, e3 does not (3.5 < 3.5 false), e4 3.25 < 3.5 improves
    ("min_delta_patience2", dict(patience=2, min_delta=0.25), [4, 3.75, 3.5, 3.25, 3.0], (0, 5, 4)),
    # min_delta is used as |min_delta|
    ("min_delta_negative", dict(patience=1, min_delta=-0.25), [4, 3.75, 3.5, 3.25, 3.0], (1, 2, 1)),
    # baseline 0.3 never beaten: e0 improves but does not reset wait (1); e1 wait 2 → stop at 1
    ("baseline_never_beaten", dict(patience=2, baseline=0.3), [1, 1, 1, 1], (1, 2, 1)),
    # every epoch improves (above the baseline): an improving epoch never stops training
    ("baseline_improving", dict(patience=1, baseline=0.3, restore_best_weights=True),
     [1.0, 0.9, 0.8, 0.7, 0.6], (0, 5, 4)),
    # baseline beaten at e3 (0.25 < 0.5) resets wait; e4 does not improve → stop at 4, best e3
    ("baseline_beaten", dict(patience=1, baseline=0.5, restore_best_weights=True),
     [1.0, 0.75, 0.5, 0.25, 0.375, 0.3125], (4, 5, 3)),
    # epochs 0–1 ignored: e2 is the first (best 3), e3 improves (2.5), e4 does not → stop at 4
    ("start_from_epoch", dict(patience=0, start_from_epoch=2, restore_best_weights=True),
     [1, 2, 3, 2.5, 2.75, 2], (4, 5, 3)),
    # without start_from_epoch the same sequence stops at e1, best e0
    ("no_start_from_epoch", dict(patience=0, restore_best_weights=True), [1, 2, 3, 2.5, 2.75, 2], (1, 2, 0)),
    # no early stop, yet the best epoch (2) is restored at the end
    ("restore_without_stop", dict(patience=5, restore_best_weights=True), [3, 2, 1, 1.5, 2], (0, 5, 2)),
    ("no_restore_without_stop", dict(patience=5), [3, 2, 1, 1.5, 2], (0, 5, 4)),
    # mode max: 0.6 is not > 0.6 → wait 1 at e2 → stop, best e1
    ("mode_max", dict(monitor="accuracy", mode="max", patience=1, restore_best_weights=True),
     [0.5, 0.6, 0.6, 0.55, 0.7], (2, 3, 1)),
    ("mode_max_min_delta", dict(monitor="accuracy", mode="max", patience=1, min_delta=0.125),
     [0.5, 0.625, 0.75, 0.875], (1, 2, 1)),
    # a NaN best makes every later comparison false
    ("nan_first", dict(patience=1, restore_best_weights=True), [NAN, 1.0, 0.5], (1, 2, 0)),
    # Keras compares in float32: 1 − 1e-9 rounds to 1.0 → no improvement → stop at 1
    ("float32_resolution", dict(patience=1), [1.0, 1.0 - 1e-9, 1.0 - 2e-9], (1, 2, 1)),
]


def one_weight_model():
    model = refnn.Sequential([layers.Dense(1)], input_dim=1, seed=0)
    model.compile("sgd", "mse")
    return model


def drive(callback, values, model=None, monitor="loss"):
    """Run the hooks ``fit`` would run; return ``(stopped_epoch, epochs run, restored epoch)``."""
    model = model or one_weight_model()
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin({})
    epochs = 0
    for epoch, value in enumerate(values):
        model.set_weights([np.array([[float(epoch)]]), np.zeros(1)])
        callback.on_epoch_end(epoch, {monitor: value})
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end({})
    return callback.stopped_epoch, epochs, int(model.get_weights()[0][0, 0])


@pytest.mark.parametrize("case_id, kwargs, values, expected", CASES, ids=[c[0] for c in CASES])
def test_synthetic_sequences(case_id, kwargs, values, expected):
    kwargs = dict(kwargs)
    monitor = kwargs.setdefault("monitor", "loss")
    assert drive(EarlyStopping(**kwargs), values, monitor=monitor) == expected


def test_float64_comparison_sees_tiny_improvements():
    # the float32_resolution case, compared exactly: each value improves, so no stop
    callback = EarlyStopping(monitor="loss", patience=1, comparison_dtype="float64")
    assert drive(callback, [1.0, 1.0 - 1e-9, 1.0 - 2e-9]) == (0, 3, 2)


def test_state_after_a_run_and_reuse():
    callback = EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    drive(callback, [10, 9, 8, 9, 8.9])
    assert callback.best == 8 and callback.best_epoch == 2 and callback.wait == 2
    # reusable: on_train_begin resets everything
    assert drive(callback, [3, 2, 1]) == (0, 3, 2)
    assert callback.best == 1 and callback.wait == 0


def test_auto_mode_uses_metric_direction():
    model = one_weight_model()
    model.compile("sgd", "mse", metrics=["accuracy", "mae"])
    # accuracy: higher is better → 0.6 improves on 0.5, 0.55 does not
    assert drive(EarlyStopping(monitor="val_accuracy", patience=0), [0.5, 0.6, 0.55], model, "val_accuracy") == (2, 3, 2)
    assert drive(EarlyStopping(monitor="mae", patience=0), [0.5, 0.6], model, "mae") == (1, 2, 1)
    assert drive(EarlyStopping(monitor="val_loss", patience=0), [0.5, 0.4, 0.45], model, "val_loss") == (2, 3, 2)


def test_auto_mode_unknown_direction_is_an_error():
    model = one_weight_model()
    callback = EarlyStopping(monitor="val_f1")
    callback.set_model(model)
    with pytest.raises(ValueError, match=r'cannot tell whether `val_f1`.*Pass mode="min" or mode="max"'):
        callback.on_train_begin({})


def test_missing_monitor_warns_and_changes_nothing():
    model = one_weight_model()
    callback = EarlyStopping(monitor="val_loss", patience=0)
    callback.set_model(model)
    callback.on_train_begin({})
    with pytest.warns(UserWarning, match=r"`val_loss`, which is not in the logs. Available keys: loss"):
        for epoch in range(3):
            callback.on_epoch_end(epoch, {"loss": 1.0})
    assert not model.stop_training and callback.wait == 0 and callback.best is None


def test_verbose_messages(capsys):
    drive(EarlyStopping(monitor="loss", patience=0, verbose=1, restore_best_weights=True), [2, 1, 3])
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


def test_early_stopping_in_fit_on_training_loss():
    # SGD with a learning rate far too large diverges: the loss grows from epoch 1 on
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 2))
    y = x @ np.array([[1.0], [-2.0]])
    model = refnn.Sequential([layers.Dense(1)], input_dim=2, seed=0)
    model.compile(refnn.optimizers.SGD(learning_rate=3.0), "mse")
    start = model.get_weights()
    callback = EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    history = model.fit(x, y, epochs=20, batch_size=16, shuffle=False, verbose=0, callbacks=[callback])
    losses = history.history["loss"]
    assert all(b > a for a, b in zip(losses, losses[1:]))
    assert callback.stopped_epoch == 1 and len(losses) == 2
    # best epoch 0: its end-of-epoch weights are one step from the start
    model2 = refnn.Sequential([layers.Dense(1)], input_dim=2, seed=0)
    model2.compile(refnn.optimizers.SGD(learning_rate=3.0), "mse")
    model2.set_weights(start)
    model2.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), model2.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mode="maximum"), r"`mode` must be one of \['auto', 'min', 'max'\]. Received: mode='maximum'"),
        (dict(patience=-1), r"`patience` must be a non-negative integer. Received: patience=-1"),
        (dict(patience=1.5), r"`patience` must be a non-negative integer. Received: patience=1.5"),
        (dict(start_from_epoch=-2), r"`start_from_epoch` must be a non-negative integer. Received: start_from_epoch=-2"),
        (dict(min_delta="0.1"), r"`min_delta` must be a number. Received: min_delta='0.1'"),
        (dict(min_delta=math.nan), r"`min_delta` must be a number. Received: min_delta=nan"),
        (dict(baseline="low"), r"`baseline` must be a number or None. Received: baseline='low'"),
        (dict(monitor=""), r"`monitor` must be a non-empty string. Received: monitor=''"),
        (dict(comparison_dtype="float16"), r"`comparison_dtype` must be one of \['float32', 'float64'\]. Received: comparison_dtype='float16'"),
    ],
)
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EarlyStopping(**kwargs)


def test_restore_best_weights_must_be_bool():
    with pytest.raises(TypeError, match=r"`restore_best_weights` must be a bool. Received: restore_best_weights=1"):
        EarlyStopping(restore_best_weights=1)


def test_no_warning_when_monitor_present():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drive(EarlyStopping(monitor="loss"), [1.0, 0.5])

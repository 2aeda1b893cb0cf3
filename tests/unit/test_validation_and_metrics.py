"""Validation in fit (Keras's split: the last rows, before shuffling), val_ keys, and metrics
chosen and computed as Keras does."""

import numpy as np
import pytest

import refnn
from refnn import layers, metrics, optimizers
from refnn.callbacks import Callback, EarlyStopping


def regression(n=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, x @ np.array([[1.0], [-0.5], [0.25]]) + 0.1


def mlp(out_units=1, out_act=None, loss="mse", metric_names=(), seed=0, input_dim=3):
    model = refnn.Sequential([layers.Dense(6, activation="tanh"), layers.Dense(out_units, activation=out_act)],
                             input_dim=input_dim, seed=seed)
    model.compile(optimizers.SGD(0.1), loss, metrics=list(metric_names))
    return model


class EpochEndProbe(Callback):
    """Evaluates the model on the given rows when each epoch ends (weights at the end of the epoch)."""

    def __init__(self, x, y, batch_size=32):
        super().__init__()
        self.x, self.y, self.batch_size, self.seen = x, y, batch_size, []

    def on_epoch_end(self, epoch, logs=None):
        result = self.model.evaluate(self.x, self.y, batch_size=self.batch_size, return_dict=True, verbose=0)
        self.seen.append((dict(logs), result, self.model.get_weights()))


# ---- validation_split ----------------------------------------------------------------------------
@pytest.mark.parametrize("split, n, split_at", [(0.3, 10, 7), (0.25, 10, 7), (0.2, 10, 8), (0.5, 9, 4)])
def test_validation_split_holds_out_the_last_rows_before_shuffling(split, n, split_at):
    # split_at = floor(N·(1 − v)): 10·0.7 = 7.000000000000001 → 7, 10·0.75 = 7.5 → 7, 9·0.5 → 4
    x, y = regression(n)
    a, b = mlp(), mlp()
    probe = EpochEndProbe(x[split_at:], y[split_at:], batch_size=3)  # validation batches = batch_size
    ha = a.fit(x, y, epochs=3, batch_size=3, shuffle=True, validation_split=split, verbose=0, callbacks=[probe])
    # the same training on the first rows only, with the last rows as validation_data
    hb = b.fit(x[:split_at], y[:split_at], epochs=3, batch_size=3, shuffle=True,
               validation_data=(x[split_at:], y[split_at:]), verbose=0)
    assert ha.history == hb.history
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    # val_loss is computed with the weights at the end of each epoch, in inference mode
    for logs, evaluated, _ in probe.seen:
        assert logs["val_loss"] == evaluated["loss"]


def test_val_keys_and_order():
    x, y = regression(20)
    model = mlp(metric_names=["mse", "mae"])
    history = model.fit(x, y, epochs=2, batch_size=5, validation_split=0.25, verbose=0)
    assert list(history.history) == ["loss", "mse", "mae", "val_loss", "val_mse", "val_mae"]
    assert all(len(v) == 2 for v in history.history.values())
    # without regularisation the mse metric is the mse loss
    assert history.history["val_mse"] == pytest.approx(history.history["val_loss"], rel=1e-15)


def test_validation_split_errors():
    x, y = regression(10)
    model = mlp()
    # floor(10·0.05) = 0 training rows; floor(10·(1 − 1e-17)) = 10 leaves no validation row
    with pytest.raises(ValueError, match=r"leaves an empty training or validation set for 10 rows. Received: validation_split=0.95"):
        model.fit(x, y, validation_split=0.95, verbose=0)
    with pytest.raises(ValueError, match=r"leaves an empty training or validation set for 10 rows. Received: validation_split=1e-17"):
        model.fit(x, y, validation_split=1e-17, verbose=0)
    with pytest.raises(ValueError, match=r"`validation_split` must be a float in \[0.0, 1.0\). Received: validation_split=1.0"):
        model.fit(x, y, validation_split=1.0, verbose=0)
    with pytest.raises(ValueError, match=r"Pass either `validation_split` or `validation_data`, not both."):
        model.fit(x, y, validation_split=0.2, validation_data=(x, y), verbose=0)
    with pytest.raises(ValueError, match=r"`validation_data` must be a tuple \(x_val, y_val\)"):
        model.fit(x, y, validation_data=x, verbose=0)
    with pytest.raises(ValueError, match=r"`validation_data\[0\]` must have shape \(N, 3\)"):
        model.fit(x, y, validation_data=(x[:, :2], y), verbose=0)


# ---- metrics -------------------------------------------------------------------------------------
def classification(kind, n=30, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    labels = rng.integers(0, k, n)
    if kind == "binary":
        return x, (x[:, 0] + 0.3 * rng.standard_normal(n) > 0).astype(float)
    if kind == "sparse":
        return x, labels
    return x, np.eye(k)[labels]


def test_accuracy_is_binary_for_one_output_unit():
    x, y = classification("binary")
    model = mlp(1, "sigmoid", "binary_crossentropy", ["accuracy"])
    p = model.predict(x)[:, 0]
    result = model.evaluate(x, y, return_dict=True, verbose=0)
    assert result["accuracy"] == pytest.approx(np.mean(y == (p > 0.5)), rel=1e-15)


def test_accuracy_is_categorical_for_one_hot_targets():
    x, y = classification("onehot")
    model = mlp(3, "softmax", "categorical_crossentropy", ["accuracy"])
    p = model.predict(x)
    result = model.evaluate(x, y, return_dict=True, verbose=0)
    assert result["accuracy"] == pytest.approx(np.mean(p.argmax(1) == y.argmax(1)), rel=1e-15)


def test_accuracy_is_sparse_for_class_ids():
    x, labels = classification("sparse")
    model = mlp(3, "softmax", "sparse_categorical_crossentropy", ["acc"])
    p = model.predict(x)
    expected = np.mean(p.argmax(1) == labels)
    assert model.evaluate(x, labels, return_dict=True, verbose=0)["acc"] == pytest.approx(expected, rel=1e-15)
    assert model.evaluate(x, labels[:, None], return_dict=True, verbose=0)["acc"] == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    "y_true_shape, y_pred_shape, expected",
    [
        ((6,), (6, 1), "binary"),
        ((6, 1), (6, 1), "binary"),
        ((6,), (6, 3), "sparse"),
        ((6, 1), (6, 3), "sparse"),
        ((6, 3), (6, 3), "categorical"),
    ],
)
def test_accuracy_dispatch_follows_keras_shape_rules(y_true_shape, y_pred_shape, expected):
    # Keras (compile_utils.is_binary_or_sparse_categorical): binary if the output has one unit;
    # sparse if y_true has lower rank or a last axis of 1 while the output has more; else categorical
    rng = np.random.default_rng(0)
    y_pred = rng.random(y_pred_shape)
    if expected == "binary":
        y_true = rng.integers(0, 2, y_true_shape).astype(float)
        reference = metrics.binary_accuracy(y_true, y_pred)
    elif expected == "sparse":
        y_true = rng.integers(0, 3, y_true_shape)
        reference = metrics.sparse_categorical_accuracy(y_true, y_pred)
    else:
        y_true = np.eye(3)[rng.integers(0, 3, 6)]
        reference = metrics.categorical_accuracy(y_true, y_pred)
    np.testing.assert_array_equal(metrics.accuracy(y_true, y_pred), reference)


def test_mse_and_mae_metrics():
    x, y = regression(12)
    y2 = np.hstack([y, -y])
    model = mlp(2, None, "mse", ["mse", "mae", "mean_absolute_error"])
    result = model.evaluate(x, y2, return_dict=True, verbose=0)
    p = model.predict(x)
    assert result["mse"] == pytest.approx(np.mean((p - y2) ** 2), rel=1e-14)
    assert result["mae"] == pytest.approx(np.mean(np.abs(p - y2)), rel=1e-14)
    assert result["mean_absolute_error"] == result["mae"]


def test_training_metrics_use_the_weights_before_each_update():
    # one full batch per epoch: the epoch's training accuracy is that of the weights at its start
    x, y = classification("onehot")
    model = mlp(3, "softmax", "categorical_crossentropy", ["accuracy"])
    start = model.evaluate(x, y, return_dict=True, verbose=0)
    history = model.fit(x, y, epochs=1, batch_size=30, shuffle=False, verbose=0)
    assert history.history["accuracy"][0] == start["accuracy"]
    assert history.history["loss"][0] == pytest.approx(start["loss"], rel=1e-15)


def test_training_metrics_are_size_weighted_over_batches():
    # 10 rows in batches of 4, 4, 2: Σ n_b·m_b / Σ n_b, with the weights before each batch
    x, y = regression(10)
    model = mlp(metric_names=["mae"])
    probe = []

    class Before(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            rows = slice(4 * batch, min(4 * batch + 4, 10))
            probe.append((rows.stop - rows.start, model.evaluate(x[rows], y[rows], return_dict=True, verbose=0)))

    history = model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0, callbacks=[Before()])
    for key in ("loss", "mae"):
        expected = sum(n * r[key] for n, r in probe) / 10
        assert history.history[key][0] == pytest.approx(expected, rel=1e-14)


def test_metric_directions_for_early_stopping():
    assert metrics.get("accuracy").direction == "up"
    assert metrics.get("sparse_categorical_accuracy").direction == "up"
    assert metrics.get("mse").direction == "down" and metrics.get("mae").direction == "down"
    with pytest.raises(ValueError, match=r"`direction` must be one of \['up', 'down', None\]. Received: direction='max'"):
        metrics.Metric("f1", lambda a, b: a, direction="max")


def test_unknown_metric():
    with pytest.raises(ValueError, match=r"Unknown metric.*Received: metrics entry 'f1'"):
        mlp(metric_names=["f1"])


# ---- EarlyStopping on val_loss through fit -------------------------------------------------------
def test_early_stopping_on_val_loss_restores_the_best_epoch():
    # train on y = f(x), validate on y = −f(x): the better the fit, the worse val_loss
    x, y = regression(24)
    model = mlp()
    probe = EpochEndProbe(x, y)
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=30, batch_size=8, shuffle=False, validation_data=(x, -y), verbose=0,
                        callbacks=[probe, stopper])
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert stopper.best_epoch == best and stopper.stopped_epoch == best + 2 and len(val) == best + 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    for restored, at_best in zip(model.get_weights(), probe.seen[best][2]):
        np.testing.assert_array_equal(restored, at_best)
    assert model.evaluate(x, -y, return_dict=True, verbose=0)["loss"] == val[best]


def test_bool_seeds_are_refused_everywhere():
    for make in (lambda: layers.Dropout(0.5, seed=True), lambda: refnn.Sequential([], seed=True),
                 lambda: refnn.initializers.GlorotUniform(seed=False)):
        with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer or None. Received: seed=(True|False)"):
            make()

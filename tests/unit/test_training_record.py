"""The training record (``History.record``), why ``fit`` stopped (``History.stop_reason``), the
``Goal`` callback, and the data-only crossentropy metrics."""

import numpy as np
import pytest

import refnn
from refnn import callbacks, layers, metrics, optimizers, regularizers
from refnn.callbacks import Callback, EarlyStopping, Goal, TerminateOnNaN, TimeLimit
from refnn.optimizers import schedules


def regression(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, np.tanh(x @ np.array([[0.5], [-1.0], [2.0]]))


def small_model(optimizer=None, loss="mse", units=4, seed=0, **compile_args):
    model = refnn.Sequential([layers.Dense(units, activation="tanh"), layers.Dense(1)], input_dim=3, seed=seed)
    model.compile(optimizer or optimizers.SGD(0.05), loss, **compile_args)
    return model


# ---- the record ------------------------------------------------------------------------------------
def test_full_batch_gradient_norm_is_the_norm_of_the_epochs_gradient():
    x, y = regression()
    model = small_model()
    norms = []
    for _ in range(3):  # with the full batch, epoch e's gradient is the gradient at its start
        _, grads = model.loss_and_gradients(x, y)
        norms.append(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
        model.optimizer.apply(model.params, grads)
    again = small_model()
    history = again.fit(x, y, epochs=3, batch_size=len(x), shuffle=False, verbose=0)
    np.testing.assert_allclose(history.record["gradient_norm"], norms, rtol=1e-12)


def test_record_keys_learning_rate_and_seconds():
    x, y = regression()
    schedule = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    model = small_model(optimizers.SGD(schedule))
    history = model.fit(x, y, epochs=4, batch_size=20, verbose=0)
    assert set(history.record) == {"learning_rate", "gradient_norm", "seconds"}
    # two updates per epoch: after epoch e the next update is step 2(e + 1), lr = 0.1 · 0.5^(e + 1)
    np.testing.assert_allclose(history.record["learning_rate"], [0.1 * 0.5 ** (e + 1) for e in range(4)])
    seconds = history.record["seconds"]
    assert all(b >= a for a, b in zip(seconds, seconds[1:])) and seconds[0] >= 0
    assert list(history.history) == ["loss"]  # Keras's keys only


def test_validation_failures_count_epochs_since_the_best_val_loss():
    class FakeValidation(Callback):
        """Writes a chosen val_loss into the logs before History records it."""

        def __init__(self, values):
            super().__init__()
            self.values = values

        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = self.values[epoch]

    x, y = regression()
    model = small_model()
    values = [3.0, 2.0, 2.5, 2.0, 1.0, 1.5, 1.5]
    history = model.fit(x, y, epochs=len(values), verbose=0, callbacks=[FakeValidation(values)])
    assert history.record["validation_failures"] == [0, 0, 1, 2, 0, 1, 2]  # a tie is no improvement


def test_levenberg_marquardt_records_mu_and_its_gradient_norm():
    x, y = regression()
    model = small_model(optimizers.LevenbergMarquardt(mu=1e-3), loss="sse")
    history = model.fit(x, y, epochs=4, batch_size=len(x), verbose=0)
    assert set(history.record) == {"gradient_norm", "mu", "seconds"}
    assert history.record["mu"][-1] == model.optimizer.mu
    assert history.record["gradient_norm"][-1] == model.optimizer.gradient_norm


# ---- why training stopped ---------------------------------------------------------------------------
def test_stop_reason_epochs_and_early_stopping():
    x, y = regression()
    assert small_model().fit(x, y, epochs=2, verbose=0).stop_reason == "epochs"
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=10.0)  # nothing improves by 10
    history = small_model().fit(x, y, epochs=20, verbose=0, callbacks=[stop])
    assert history.stop_reason == "early stopping" and len(history.epoch) == 2


def test_stop_reason_time_goal_non_finite_and_a_plain_callback():
    x, y = regression()
    history = small_model().fit(x, y, epochs=50, verbose=0, callbacks=[TimeLimit(1e-9)])
    assert history.stop_reason == "time" and len(history.epoch) == 1

    history = small_model().fit(x, y, epochs=500, verbose=0, callbacks=[Goal(0.05)])
    assert history.stop_reason == "goal" and history.history["loss"][-1] <= 0.05
    assert all(v > 0.05 for v in history.history["loss"][:-1])

    diverging = small_model(optimizers.SGD(1e6), loss="mse")
    with pytest.warns(RuntimeWarning, match="non-finite"):
        history = diverging.fit(x * 1e3, y, epochs=50, verbose=0, callbacks=[TerminateOnNaN()])
    assert history.stop_reason == "non-finite"

    class StopAtOnce(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    assert small_model().fit(x, y, epochs=5, verbose=0, callbacks=[StopAtOnce()]).stop_reason == "callback"


def test_the_first_callback_to_stop_names_the_reason():
    x, y = regression()
    history = small_model().fit(x, y, epochs=50, verbose=0, callbacks=[Goal(1e9), TimeLimit(1e-9)])
    assert history.stop_reason == "goal"


def test_levenberg_marquardt_stop_reasons():
    x, y = regression()
    model = small_model(optimizers.LevenbergMarquardt(min_grad=1e9), loss="sse")
    assert model.fit(x, y, epochs=5, batch_size=len(x), verbose=0).stop_reason == "minimum gradient"
    # at an exact fit (targets = the model's own outputs) no step lowers the error: μ grows past mu_max
    model = small_model(optimizers.LevenbergMarquardt(mu=1.0, mu_max=1e3, min_grad=0.0), loss="sse")
    history = model.fit(x, model.predict(x), epochs=30, batch_size=len(x), verbose=0)
    assert history.stop_reason == "maximum mu" and len(history.epoch) == 1
    assert set(callbacks.STOP_REASONS) >= {"epochs", "time", "early stopping", "goal", "non-finite",
                                           "minimum gradient", "maximum mu", "callback"}


@pytest.mark.parametrize("kwargs, match", [
    ({"goal": float("nan")}, r"`goal` must be a finite number. Received: goal=nan"),
    ({"goal": "0.1"}, r"`goal` must be a finite number. Received: goal='0.1'"),
    ({"goal": 0.1, "monitor": ""}, r"`monitor` must be a non-empty string"),
    ({"goal": 0.1, "mode": "best"}, r"`mode` must be one of .* Received: mode=.best."),
])
def test_goal_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Goal(**kwargs)


# ---- data-only crossentropy metrics -------------------------------------------------------------------
def classification(n=60, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))
    return x, np.eye(k)[np.argmax(x[:, :k], axis=1)]


def test_crossentropy_metric_is_the_loss_without_the_penalty():
    x, y = classification()
    model = refnn.Sequential([layers.Dense(6, activation="relu", kernel_regularizer=regularizers.L2(0.01)),
                              layers.Dense(3, activation="softmax")], input_dim=4, seed=0)
    model.compile("sgd", "categorical_crossentropy", metrics=["categorical_crossentropy"])
    result = model.evaluate(x, y, batch_size=len(x), return_dict=True, verbose=0)
    probabilities = model.predict(x)
    data_term = float(np.mean(-np.sum(y * np.log(np.clip(probabilities, 1e-7, 1 - 1e-7)), axis=1)))
    assert result["categorical_crossentropy"] == pytest.approx(data_term, rel=1e-12)
    assert result["loss"] - result["categorical_crossentropy"] == pytest.approx(model.regularization_loss(), rel=1e-9)
    assert metrics.get("categorical_crossentropy").direction == "down"


def test_binary_and_sparse_crossentropy_metrics():
    p = np.array([[0.9], [0.2], [1.0]])
    t = np.array([[1.0], [0.0], [0.0]])
    clipped = np.clip(p[:, 0], 1e-7, 1 - 1e-7)  # 1 − (1 − 1e-7) is 1.0000000005838672e-07 in float64
    expected = -np.log([clipped[0], 1 - clipped[1], 1 - clipped[2]])
    np.testing.assert_allclose(metrics.get("binary_crossentropy")(t, p), expected, rtol=1e-12)
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(metrics.get("sparse_categorical_crossentropy")(np.array([0, 2]), probs),
                               -np.log([0.7, 0.8]), rtol=1e-12)


def test_crossentropy_metric_takes_the_logits_of_a_softmax_output_as_the_loss_does():
    # a true-class logit 60 below the others: p_true ≈ 1e-26, far below the clip at 1e-7
    model = refnn.Sequential([layers.Dense(3, activation="softmax", use_bias=False)], input_dim=3, seed=0)
    model.compile("sgd", "categorical_crossentropy", metrics=["categorical_crossentropy", "binary_crossentropy"])
    model.set_weights([np.diag([0.0, 60.0, 60.0])])
    x, y = np.array([[1.0, 1.0, 0.0]]), np.array([[1.0, 0.0, 0.0]])
    result = model.evaluate(x, y, return_dict=True, verbose=0)
    assert result["loss"] == pytest.approx(60.0 + np.log1p(np.exp(-60.0)), rel=1e-12)
    assert result["categorical_crossentropy"] == pytest.approx(result["loss"], rel=1e-12)
    # refnn fuses binary crossentropy with a sigmoid only: of a softmax output it reads the clipped
    # probabilities (Keras would take the softmax's logits: a known difference, keras_bridge.compare)
    of_probabilities = float(metrics.get("binary_crossentropy")(y, model.predict(x))[0])
    assert result["binary_crossentropy"] == of_probabilities and of_probabilities < 12
    history = model.fit(x, y, epochs=1, verbose=0)
    assert history.history["categorical_crossentropy"][0] == pytest.approx(history.history["loss"][0], rel=1e-12)


def test_a_nan_val_loss_is_a_validation_failure_and_goal_reads_the_metric_direction():
    class FakeValidation(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = [float("nan"), 1.0, 0.5][epoch]

    x, y = regression()
    history = small_model().fit(x, y, epochs=3, verbose=0, callbacks=[FakeValidation()])
    assert history.record["validation_failures"] == [1, 0, 0]

    xc, yc = classification()
    model = refnn.Sequential([layers.Dense(3, activation="softmax")], input_dim=4, seed=0)
    model.compile(optimizers.SGD(0.5), "categorical_crossentropy", metrics=["accuracy"])
    goal = Goal(0.9, monitor="accuracy")  # mode "auto": accuracy goes up
    history = model.fit(xc, yc, epochs=200, verbose=0, callbacks=[goal])
    assert history.stop_reason == "goal" and history.history["accuracy"][-1] >= 0.9 > history.history["accuracy"][0]
    with pytest.raises(ValueError, match="Goal cannot tell whether `val_auc` should be minimised or maximised"):
        model.fit(xc, yc, epochs=1, verbose=0, callbacks=[Goal(0.9, monitor="val_auc")])
    with pytest.warns(UserWarning, match="Goal is conditioned on `val_loss`, which is not in the logs"):
        model.fit(xc, yc, epochs=1, verbose=0, callbacks=[Goal(0.1, monitor="val_loss")])


def test_the_gradient_norm_is_the_last_batchs_before_clipping_even_if_a_callback_recomputes_gradients():
    x, y = regression(n=30)

    class Recompute(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.loss_and_gradients(x[:3], y[:3])  # overwrites the gradient buffer

    reference = small_model(optimizers.SGD(0.05, clipnorm=1e-3))
    model = small_model(optimizers.SGD(0.05, clipnorm=1e-3))
    history = model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0, callbacks=[Recompute()])
    reference.train_step(x[:16], y[:16])
    _, grads = reference.loss_and_gradients(x[16:], y[16:])  # the last (partial) batch, unclipped
    expected = np.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    assert history.record["gradient_norm"] == [pytest.approx(expected, rel=1e-12)]
    assert expected > 1e-3  # clipping would have changed it


def test_a_callback_that_undoes_a_stop_does_not_take_the_blame():
    class StopThenUndo(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    class Undo(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = False

    x, y = regression()
    history = small_model().fit(x, y, epochs=3, verbose=0, callbacks=[StopThenUndo(), Undo(), TimeLimit(1e-9)])
    assert history.stop_reason == "time" and len(history.epoch) == 1


def test_bad_activation_configs_name_the_argument():
    from refnn import activations

    for bad in ({"name": "relu", "config": {"derivative": "diagonal"}}, {"name": "softmax", "config": "diagonal"}):
        with pytest.raises(ValueError, match=r"`config` does not fit .* Received: activation="):
            activations.get(bad)

"""TimeLimit (with an injected clock, no sleeping), TerminateOnNaN, History and the hook order."""

import numpy as np
import pytest

import refnn
from refnn import layers, optimizers
from refnn.callbacks import Callback, History, TerminateOnNaN, TimeLimit


class FakeClock:
    """Time advances only when the test says so."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Tick(Callback):
    """Each training batch 'takes' ``seconds`` on the fake clock."""

    def __init__(self, clock, seconds):
        super().__init__()
        self.clock, self.seconds = clock, seconds

    def on_train_batch_end(self, batch, logs=None):
        self.clock.now += self.seconds


def data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, x @ np.array([[0.5], [-1.0], [2.0]])


def linear_model(lr=0.05, dtype="float64"):
    model = refnn.Sequential([layers.Dense(1)], input_dim=3, seed=0, dtype=dtype)
    model.compile(optimizers.SGD(learning_rate=lr), "mse")
    return model


# ---- TimeLimit ---------------------------------------------------------------------------------
def test_time_limit_stops_after_the_epoch_in_which_the_limit_passes():
    x, y = data()
    clock = FakeClock()
    limit = TimeLimit(3.25, clock=clock)
    # 3 batches × 0.5 s = 1.5 s per epoch: 1.5, 3.0, 4.5 → the limit passes during epoch 2
    history = linear_model().fit(x, y, epochs=10, batch_size=4, verbose=0,
                                 callbacks=[Tick(clock, 0.5), limit])
    assert history.epoch == [0, 1, 2]
    assert limit.timed_out and limit.stopped_epoch == 2 and limit.elapsed == 4.5


def test_time_limit_reached_exactly_at_an_epoch_end_stops_there():
    x, y = data()
    clock = FakeClock()
    limit = TimeLimit(3.0, clock=clock)
    history = linear_model().fit(x, y, epochs=10, batch_size=4, verbose=0,
                                 callbacks=[Tick(clock, 0.5), limit])
    assert history.epoch == [0, 1] and limit.stopped_epoch == 1 and limit.elapsed == 3.0


def test_time_limit_not_reached_records_nothing_and_resets_between_fits():
    x, y = data()
    clock = FakeClock()
    limit = TimeLimit(100.0, clock=clock)
    model = linear_model()
    history = model.fit(x, y, epochs=4, batch_size=4, verbose=0, callbacks=[Tick(clock, 0.5), limit])
    assert len(history.epoch) == 4 and not limit.timed_out and limit.stopped_epoch is None
    assert limit.elapsed == 6.0
    # a second fit measures from its own start (the clock is now at 6 s)
    limit.seconds = 1.0
    history = model.fit(x, y, epochs=4, batch_size=4, verbose=0, callbacks=[Tick(clock, 0.5), limit])
    assert history.epoch == [0] and limit.timed_out and limit.elapsed == 1.5


def test_time_limit_counts_validation_time():
    # the check runs at epoch end, after validation: time spent validating counts
    x, y = data()
    clock = FakeClock()

    class SlowValidation(Callback):
        def on_epoch_end(self, epoch, logs=None):
            clock.now += 10.0

    limit = TimeLimit(5.0, clock=clock)
    history = linear_model().fit(x, y, epochs=5, verbose=0, validation_split=0.25,
                                 callbacks=[SlowValidation(), limit])
    assert history.epoch == [0] and limit.elapsed == 10.0


def test_time_limit_with_the_real_clock():
    x, y = data()
    limit = TimeLimit(1e-9)
    history = linear_model().fit(x, y, epochs=5, verbose=0, callbacks=[limit])
    assert history.epoch == [0] and limit.timed_out and limit.elapsed > 0


@pytest.mark.parametrize("seconds", [0, -1.0, float("inf"), "10"])
def test_time_limit_seconds_must_be_positive(seconds):
    with pytest.raises(ValueError, match=r"`seconds` must be a float in \(0.0, inf\). Received: seconds="):
        TimeLimit(seconds)


def test_time_limit_clock_must_be_callable():
    with pytest.raises(TypeError, match=r"`clock` must be a callable returning seconds. Received: clock=3"):
        TimeLimit(1.0, clock=3)


# ---- TerminateOnNaN ----------------------------------------------------------------------------
def test_terminate_on_nan_stops_a_diverging_fit(capsys):
    x, y = data()
    terminate = TerminateOnNaN()
    seen = []

    class Record(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    with np.errstate(all="ignore"):
        history = linear_model(lr=1e6, dtype="float32").fit(
            x, y, epochs=50, batch_size=1, shuffle=False, verbose=0, callbacks=[terminate, Record()])
    epoch, batch = terminate.terminated_batch
    losses = history.history["loss"]
    assert not np.isfinite(losses[-1]) and np.all(np.isfinite(losses[:-1]))
    # fit finishes the epoch (on_epoch_end runs) and stops
    assert seen == history.epoch and history.epoch[-1] == epoch
    assert f"Batch {batch}: Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_hooks_directly():
    model = linear_model()
    callback = TerminateOnNaN()
    callback.set_model(model)
    callback.on_train_begin({})
    callback.on_epoch_begin(3, {})
    callback.on_train_batch_end(0, {"loss": 1.0})
    assert not model.stop_training and callback.terminated_batch is None
    callback.on_train_batch_end(1, {"loss": float("inf")})
    assert model.stop_training and callback.terminated_batch == (3, 1)


def test_terminate_on_nan_raise_error():
    model = linear_model()
    callback = TerminateOnNaN(raise_error=True)
    callback.set_model(model)
    callback.on_epoch_begin(0, {})
    with pytest.raises(RuntimeError, match=r"NaN or Inf loss encountered at epoch 0, batch 2. Loss value: nan"):
        callback.on_train_batch_end(2, {"loss": float("nan")})


def test_terminate_on_nan_raise_error_must_be_bool():
    with pytest.raises(TypeError, match=r"`raise_error` must be a bool. Received: raise_error=1"):
        TerminateOnNaN(raise_error=1)


# ---- History and hooks -------------------------------------------------------------------------
def test_hook_order_and_history():
    x, y = data()
    calls = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin {epoch}")

        def on_train_batch_begin(self, batch, logs=None):
            calls.append(f"batch_begin {batch}")

        def on_train_batch_end(self, batch, logs=None):
            calls.append(f"batch_end {batch}")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            calls.append("train_end")

    model = linear_model()
    history = model.fit(x, y, epochs=2, batch_size=5, verbose=0, validation_split=0.25, callbacks=[Recorder()])
    keys = "['loss', 'val_loss']"
    assert calls == [
        "train_begin",
        "epoch_begin 0", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1",
        f"epoch_end 0 {keys}",
        "epoch_begin 1", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1",
        f"epoch_end 1 {keys}",
        "train_end",
    ]
    assert isinstance(history, History) and model.history is history
    assert history.epoch == [0, 1] and len(history.history["val_loss"]) == 2


def test_history_comes_after_the_user_callbacks_like_keras():
    # Keras appends History after the user's callbacks: what they add to the logs is recorded
    x, y = data()

    class AddLearningRate(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["learning_rate"] = self.model.optimizer.current_learning_rate()

    history = linear_model().fit(x, y, epochs=2, verbose=0, callbacks=[AddLearningRate()])
    assert history.history["learning_rate"] == [0.05, 0.05]

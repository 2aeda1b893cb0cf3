"""Calling fit again continues from the current weights and optimizer state, as in Keras:
fit(3 epochs) then fit(2 epochs) is one fit of 5 epochs, bit for bit."""

import numpy as np
import pytest

import refnn
from refnn import layers, optimizers
from refnn.callbacks import EarlyStopping


def data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, np.tanh(x @ np.array([[1.0, 0.5], [-0.5, 1.0], [0.25, -1.0]]))


def model_with(optimizer):
    model = refnn.Sequential([layers.Dense(5, activation="tanh"), layers.Dense(2)], input_dim=3, seed=0)
    model.compile(optimizer, "mse")
    return model


OPTIMIZERS = {
    "sgd_momentum": lambda: optimizers.SGD(0.05, momentum=0.9),
    "sgd_nesterov": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: optimizers.Adam(0.01),
}


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_two_fits_equal_one_long_fit(name, shuffle):
    x, y = data()
    kwargs = dict(batch_size=6, shuffle=shuffle, validation_split=0.2, verbose=0)
    long = model_with(OPTIMIZERS[name]())
    h_long = long.fit(x, y, epochs=5, **kwargs).history
    split = model_with(OPTIMIZERS[name]())
    h1 = split.fit(x, y, epochs=3, **kwargs).history
    h2 = split.fit(x, y, epochs=2, **kwargs).history
    for key in h_long:
        assert h1[key] + h2[key] == h_long[key], key
    for a, b in zip(split.get_weights(), long.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert split.optimizer.iterations == long.optimizer.iterations == 5 * 3
    for path, slots in long.optimizer.state.items():
        for slot, value in slots.items():
            np.testing.assert_array_equal(split.optimizer.state[path][slot], value)


def test_momentum_state_matters():
    # a fresh optimizer (velocity 0) after 3 epochs gives a different result: the state carried over
    x, y = data()
    kwargs = dict(batch_size=6, shuffle=False, verbose=0)
    continued = model_with(optimizers.SGD(0.05, momentum=0.9))
    continued.fit(x, y, epochs=3, **kwargs)
    restarted = model_with(optimizers.SGD(0.05, momentum=0.9))
    restarted.fit(x, y, epochs=3, **kwargs)
    restarted.compile(optimizers.SGD(0.05, momentum=0.9), "mse")
    assert restarted.optimizer.iterations == 0
    continued.fit(x, y, epochs=2, **kwargs)
    restarted.fit(x, y, epochs=2, **kwargs)
    assert not np.array_equal(continued.get_weights()[0], restarted.get_weights()[0])


def test_initial_epoch_numbers_the_epochs_like_keras():
    x, y = data()
    a, b = model_with(optimizers.SGD(0.05)), model_with(optimizers.SGD(0.05))
    history = a.fit(x, y, epochs=5, initial_epoch=3, batch_size=6, shuffle=False, verbose=0)
    assert history.epoch == [3, 4] and len(history.history["loss"]) == 2
    b.fit(x, y, epochs=2, batch_size=6, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.fit(x, y, epochs=3, initial_epoch=3, verbose=0).epoch == []


def test_each_fit_returns_its_own_history():
    x, y = data()
    model = model_with(optimizers.SGD(0.05))
    first = model.fit(x, y, epochs=2, verbose=0)
    second = model.fit(x, y, epochs=3, verbose=0)
    assert len(first.history["loss"]) == 2 and len(second.history["loss"]) == 3
    assert model.history is second


def test_fit_after_an_early_stop_trains_again():
    x, y = data()
    model = model_with(optimizers.SGD(3.0))  # diverges: stops at epoch 1
    stopper = EarlyStopping(monitor="loss", patience=0)
    first = model.fit(x, y, epochs=10, batch_size=20, verbose=0, callbacks=[stopper])
    assert len(first.epoch) == 2 and stopper.stopped_epoch == 1
    model.compile(optimizers.SGD(0.01), "mse")
    second = model.fit(x, y, epochs=3, batch_size=20, verbose=0)  # stop_training was reset
    assert len(second.epoch) == 3


def test_levenberg_marquardt_continues_with_its_mu():
    x, y = data()
    long, split = model_with(optimizers.LevenbergMarquardt()), model_with(optimizers.LevenbergMarquardt())
    h_long = long.fit(x, y, epochs=8, batch_size=20, verbose=0).history["loss"]
    h_split = (split.fit(x, y, epochs=5, batch_size=20, verbose=0).history["loss"]
               + split.fit(x, y, epochs=3, batch_size=20, verbose=0).history["loss"])
    assert h_split == h_long
    assert split.optimizer.mu == long.optimizer.mu and split.optimizer.iterations == long.optimizer.iterations
    for a, b in zip(split.get_weights(), long.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---- a model that crosses a file, a pickle or a process continues exactly ------------------------
def _noisy_model(optimizer):
    """Dropout (random masks) and shuffling (random order): every random stream matters."""
    model = refnn.Sequential([layers.Dense(6, activation="tanh"), layers.Dropout(0.3), layers.Dense(2)],
                             input_dim=3, seed=4)
    model.compile(optimizer, "mse")
    return model


CONTINUED = {
    "sgd_momentum": (lambda: optimizers.SGD(0.05, momentum=0.9), 4),
    "adam": (lambda: optimizers.Adam(0.01), 4),
    "nadam": (lambda: optimizers.Nadam(0.01), 4),
    "irprop_plus": (lambda: optimizers.Rprop("irprop+", learning_rate=0.05), 20),  # full batch
}


def _round_trip(model, how, tmp_path):
    import copy
    import pickle

    if how == "pickle":
        return pickle.loads(pickle.dumps(model))
    if how == "joblib":
        joblib = pytest.importorskip("joblib")
        joblib.dump(model, tmp_path / "m.joblib")
        return joblib.load(tmp_path / "m.joblib")
    if how == "deepcopy":
        return copy.deepcopy(model)
    model.save(tmp_path / "m.refnn")
    return refnn.load_model(tmp_path / "m.refnn")


@pytest.mark.parametrize("how", ["pickle", "joblib", "deepcopy", "save"])
@pytest.mark.parametrize("name", list(CONTINUED))
def test_training_continues_exactly_after_a_round_trip(name, how, tmp_path):
    """fit(2); round trip; fit(3) is the run that fit(2); fit(3) is, bit for bit: the weights, the
    optimizer's state and every random generator cross. (A pickled model used to train as a no-op,
    a compiled one could not be pickled, and a saved one restarted its optimizer and replayed its
    first shuffles and masks.)"""
    factory, batch_size = CONTINUED[name]
    x, y = data()
    original = _noisy_model(factory())
    original.fit(x, y, epochs=2, batch_size=batch_size, verbose=0)
    copy_ = _round_trip(original, how, tmp_path)
    expected = original.fit(x, y, epochs=3, batch_size=batch_size, verbose=0).history["loss"]
    continued = copy_.fit(x, y, epochs=3, batch_size=batch_size, verbose=0).history["loss"]
    assert continued == expected and expected[-1] < expected[0]
    for a, b in zip(original.get_weights(), copy_.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_levenberg_marquardt_continues_after_saving(tmp_path):
    x, y = data()
    model = refnn.Sequential([layers.Dense(4, activation="tanh"), layers.Dense(2)], input_dim=3, seed=0)
    model.compile(optimizers.LevenbergMarquardt(mu=1.0), "sse")
    model.fit(x, y, epochs=3, batch_size=20, verbose=0)
    model.save(tmp_path / "lm.refnn")
    loaded = refnn.load_model(tmp_path / "lm.refnn")
    assert loaded.optimizer.mu == model.optimizer.mu and loaded.optimizer.iterations == model.optimizer.iterations
    expected = model.fit(x, y, epochs=3, batch_size=20, verbose=0).history["loss"]
    assert loaded.fit(x, y, epochs=3, batch_size=20, verbose=0).history["loss"] == expected


def _train_elsewhere(model, x, y):
    """Runs in a spawned process: the model arrives pickled, trains, goes back pickled."""
    model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    return model


def test_a_model_trains_in_another_process_as_it_would_here():
    import multiprocessing

    x, y = data()
    model = _noisy_model(optimizers.Adam(0.01))
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        remote = pool.apply(_train_elsewhere, (model, x, y))
    local = _train_elsewhere(model, x, y)
    assert remote.history.history["loss"] == local.history.history["loss"]
    for a, b in zip(remote.get_weights(), local.get_weights()):
        np.testing.assert_array_equal(a, b)

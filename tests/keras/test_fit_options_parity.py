"""``fit``'s weighting and scheduling options, refnn vs Keras 3, computed live on both sides, float64.

Each case trains the same network from the same weights on both sides and compares every epoch's
logs and the final weights (≤ TOLERANCES["training"]["float64"] = 1e-8 relative):

* ``sample_weight`` with a partial last batch, with ``validation_split`` (which splits the weights
  alike) and with weighted ``validation_data=(x, y, w)``;
* ``metrics`` unweighted and ``weighted_metrics`` weighted (``weighted_accuracy`` beside
  ``accuracy``), as Keras 3 updates them;
* ``class_weight`` with one-hot targets (argmax), class ids and a single sigmoid unit, on
  imbalanced data — Keras converts them itself (never for the validation data);
* ``shuffle=True`` (refnn's permutations replayed to Keras through ``tf.data``, weights included)
  and ``shuffle=False``; ``initial_epoch``; ``validation_freq``; ``validation_batch_size``.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

import refnn  # noqa: E402
from keras_bridge.compare.training import replay_dataset  # noqa: E402
from keras_bridge.compare.twins import twins  # noqa: E402
from refnn import layers, optimizers  # noqa: E402
from refnn.utils.data import one_hot  # noqa: E402
from refnn.utils.tolerance import TOLERANCES, relative_error  # noqa: E402

RTOL = TOLERANCES["training"]["float64"]


def _data(kind: str, n: int = 70, seed: int = 0):
    """Imbalanced data: about 80 % of the rows in class 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    score = x @ np.array([1.0, -0.5, 0.3, 0.8])
    if kind == "binary":
        return x, (score > 0.9).astype(np.float64)[:, None], "sigmoid", 1, "binary_crossentropy"
    labels = np.digitize(score, [0.9, 1.6])
    if kind == "sparse":
        return x, labels.astype(np.int64), "softmax", 3, "sparse_categorical_crossentropy"
    return x, one_hot(labels, 3), "softmax", 3, "categorical_crossentropy"


def _pair(kind: str, metrics=("accuracy",), weighted_metrics=("accuracy",), seed: int = 3):
    x, y, activation, units, loss = _data(kind)
    model = refnn.Sequential([layers.Dense(6, "tanh"), layers.Dense(units, activation)], input_dim=4,
                             seed=seed, dtype="float64")
    model.compile(optimizers.Adam(0.02), loss, list(metrics), weighted_metrics=list(weighted_metrics))
    mine, kmodel, _ = twins(model, keras_exact=True)  # hyper-parameters Keras rounds through float32, alike
    kmodel.compile(kmodel.optimizer, kmodel.loss, metrics=list(metrics), weighted_metrics=list(weighted_metrics))
    return mine, kmodel, x, y


def _assert_same(mine, theirs, model, kmodel):
    assert sorted(mine.history) == sorted(theirs.history)
    for key, values in mine.history.items():
        assert len(values) == len(theirs.history[key]), key
        assert relative_error(values, theirs.history[key]) <= RTOL, (key, values, theirs.history[key])
    for a, b in zip(model.get_weights(), kmodel.get_weights()):
        assert relative_error(a, b) <= RTOL


@pytest.mark.parametrize("kind", ["onehot", "sparse", "binary"])
def test_class_weight_matches_keras(kind, float64):
    model, kmodel, x, y = _pair(kind)
    class_weight = {0: 0.4, 1: 2.5, 2: 4.0} if kind != "binary" else {0: 0.3, 1: 3.0}
    kwargs = dict(batch_size=16, epochs=4, shuffle=False, verbose=0, class_weight=class_weight,
                  validation_split=0.2)
    _assert_same(model.fit(x, y, **kwargs), kmodel.fit(x, y, **kwargs), model, kmodel)


def test_sample_weight_with_validation_split_matches_keras(float64):
    model, kmodel, x, y = _pair("onehot", metrics=("accuracy", "categorical_crossentropy"))
    w = np.random.default_rng(1).uniform(0.0, 3.0, size=x.shape[0])
    kwargs = dict(batch_size=16, epochs=4, shuffle=False, verbose=0, sample_weight=w, validation_split=0.3)
    _assert_same(model.fit(x, y, **kwargs), kmodel.fit(x, y, **kwargs), model, kmodel)


def test_weighted_validation_data_freq_and_batch_size_match_keras(float64):
    model, kmodel, x, y = _pair("sparse", metrics=("accuracy",))
    rng = np.random.default_rng(2)
    w, w_val = rng.uniform(0.1, 2.0, size=50), rng.uniform(0.0, 2.0, size=20)
    kwargs = dict(batch_size=12, epochs=5, shuffle=False, verbose=0, sample_weight=w,
                  validation_data=(x[50:], y[50:], w_val), validation_freq=2, validation_batch_size=7)
    mine, theirs = model.fit(x[:50], y[:50], **kwargs), kmodel.fit(x[:50], y[:50], **kwargs)
    assert len(mine.history["val_loss"]) == 2  # after epochs 2 and 4: (e + 1) % 2 == 0
    _assert_same(mine, theirs, model, kmodel)


def test_initial_epoch_matches_keras(float64):
    model, kmodel, x, y = _pair("binary", metrics=(), weighted_metrics=())
    kwargs = dict(batch_size=32, epochs=5, initial_epoch=2, shuffle=False, verbose=0)
    mine, theirs = model.fit(x, y, **kwargs), kmodel.fit(x, y, **kwargs)
    assert mine.epoch == theirs.epoch == [2, 3, 4]
    _assert_same(mine, theirs, model, kmodel)


def test_shuffled_sample_weight_matches_keras(float64):
    """refnn's permutations, replayed to Keras as one tf.data pipeline of (x, y, w) batches."""
    model, kmodel, x, y = _pair("onehot", metrics=("accuracy",))
    w = np.random.default_rng(4).uniform(0.0, 2.0, size=x.shape[0])
    epochs, batch_size = 3, 16
    orders = model.next_shuffle_orders(x.shape[0], epochs)
    mine = model.fit(x, y, batch_size=batch_size, epochs=epochs, sample_weight=w, verbose=0)
    data = replay_dataset(x, y, orders, batch_size, "float64", sample_weight=w)
    theirs = kmodel.fit(data, epochs=epochs, steps_per_epoch=-(-x.shape[0] // batch_size), shuffle=False, verbose=0)
    _assert_same(mine, theirs, model, kmodel)

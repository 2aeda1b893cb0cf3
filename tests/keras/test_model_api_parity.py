"""The Keras 3 model API on refnn vs Keras, both sides live, float64: ``model(x)``, ``predict``,
``evaluate`` / ``test_on_batch`` / ``train_on_batch`` (values and return forms), ``metrics_names``
order, the weight lists and ``get_layer``."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("keras")

import refnn  # noqa: E402
from keras_bridge.compare.twins import twins  # noqa: E402
from refnn import layers, optimizers  # noqa: E402
from refnn.utils.data import one_hot  # noqa: E402
from refnn.utils.tolerance import TOLERANCES, relative_error  # noqa: E402

FORWARD = TOLERANCES["forward"]["float64"]
STEP = TOLERANCES["optimizer"]["float64"]


def _twins(metrics=("accuracy",), weighted_metrics=()):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(45, 5))
    y = one_hot(rng.integers(0, 3, size=45), 3)
    model = refnn.Sequential([layers.Dense(7, "relu"), layers.Dense(3, "softmax")], input_dim=5, seed=2,
                             dtype="float64")
    model.compile(optimizers.SGD(0.1, momentum=0.5), "categorical_crossentropy", list(metrics),
                  weighted_metrics=list(weighted_metrics))
    mine, kmodel, _ = twins(model, keras_exact=True)
    kmodel.compile(kmodel.optimizer, kmodel.loss, metrics=list(metrics), weighted_metrics=list(weighted_metrics))
    return mine, kmodel, x, y


def _close(mine, theirs, rtol):
    if isinstance(theirs, dict):
        assert isinstance(mine, dict) and sorted(mine) == sorted(theirs)
        return all(relative_error(mine[k], theirs[k]) <= rtol for k in theirs)
    if isinstance(theirs, list):
        assert isinstance(mine, list) and len(mine) == len(theirs)
        return all(relative_error(a, b) <= rtol for a, b in zip(mine, theirs))
    assert isinstance(mine, float) and np.ndim(theirs) == 0
    return relative_error(mine, theirs) <= rtol


def test_call_and_predict_match_keras(float64):
    mine, kmodel, x, _ = _twins()
    assert isinstance(mine(x), np.ndarray)
    assert relative_error(mine(x), np.asarray(kmodel(x, training=False))) <= FORWARD
    for batch_size in (None, 8):
        assert relative_error(mine.predict(x, batch_size=batch_size),
                              kmodel.predict(x, batch_size=batch_size, verbose=0)) <= FORWARD
    assert relative_error(mine.predict_on_batch(x), kmodel.predict_on_batch(x)) <= FORWARD


@pytest.mark.parametrize("metrics, weighted", [((), ()), (("accuracy",), ()),
                                               (("accuracy", "categorical_crossentropy"), ("accuracy",))])
def test_evaluate_forms_and_values_match_keras(metrics, weighted, float64):
    mine, kmodel, x, y = _twins(metrics, weighted)
    w = np.random.default_rng(1).uniform(0.0, 2.0, size=x.shape[0])
    for kwargs in (dict(), dict(batch_size=10, sample_weight=w), dict(return_dict=True, sample_weight=w)):
        assert _close(mine.evaluate(x, y, verbose=0, **kwargs), kmodel.evaluate(x, y, verbose=0, **kwargs), FORWARD)
        one_batch = {k: v for k, v in kwargs.items() if k != "batch_size"}
        assert _close(mine.test_on_batch(x, y, **one_batch), kmodel.test_on_batch(x, y, **one_batch), FORWARD)
    expected = ["loss", *metrics, *(f"weighted_{m}" if m in metrics else m for m in weighted)]
    assert mine.metrics_names == expected
    assert sorted(kmodel.evaluate(x, y, verbose=0, return_dict=True)) == sorted(expected)


def test_train_on_batch_matches_keras_step_by_step(float64):
    """Each call reports its own batch (Keras resets the metrics in every call), with the weights
    before the step; the weights after each step agree."""
    mine, kmodel, x, y = _twins(("accuracy",), ("accuracy",))
    w = np.random.default_rng(2).uniform(0.0, 2.0, size=x.shape[0])
    for rows in (slice(0, 16), slice(16, 32), slice(32, 45)):
        for kwargs in (dict(sample_weight=w[rows]), dict(class_weight={0: 2.0, 2: 0.5}, return_dict=True)):
            got = mine.train_on_batch(x[rows], y[rows], **kwargs)
            assert _close(got, kmodel.train_on_batch(x[rows], y[rows], **kwargs), STEP)
            for a, b in zip(mine.get_weights(), kmodel.get_weights()):
                assert relative_error(a, b) <= STEP


def test_weight_lists_and_get_layer_follow_keras(float64):
    mine, kmodel, _, _ = _twins()
    assert [w.shape for w in mine.weights] == [tuple(v.shape) for v in kmodel.weights]
    assert [w.shape for w in mine.trainable_weights] == [tuple(v.shape) for v in kmodel.trainable_weights]
    assert mine.non_trainable_weights == [] and kmodel.non_trainable_weights == []
    for a, b in zip(mine.weights, kmodel.weights):
        assert relative_error(a, np.asarray(b)) == 0.0
    first, kfirst = mine.get_layer(index=0), kmodel.get_layer(index=0)
    assert np.array_equal(first.kernel, kfirst.kernel) and np.array_equal(first.bias, kfirst.bias)
    assert mine.get_layer(first.name) is first
    for call in (lambda m: m.get_layer("nope"), lambda m: m.get_layer(index=9), lambda m: m.get_layer(),
                 lambda m: m.get_layer("a", 0)):
        with pytest.raises(ValueError) as theirs:
            call(kmodel)
        with pytest.raises(ValueError) as ours:
            call(mine)
        first_words = str(theirs.value).split(":")[0].split(" at index")[0]
        assert str(ours.value).startswith(first_words)

"""``sample_weight``, ``class_weight`` and the other ``fit`` options, NumPy only.

The weighted batch loss is Keras's ``Σ w ℓ / N_b`` (not ``/ Σ w``), ``metrics`` ignore the weights,
``weighted_metrics`` are ``Σ w m / Σ w``; class weights turn into sample weights by Keras's rule.
"""

from __future__ import annotations

import numpy as np
import pytest

import refnn
from refnn import layers, optimizers
from refnn.models.weighting import class_weight_to_sample_weights
from refnn.utils.gradcheck import numerical_gradient
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL, relative_error

RNG = np.random.default_rng(0)
X = RNG.normal(size=(10, 3))
LABELS = np.array([0, 1, 2, 0, 0, 1, 0, 2, 0, 0])
Y = np.eye(3)[LABELS]
W = RNG.uniform(0.0, 2.0, size=10)


def _model(lr: float = 1e-300, metrics=(), weighted_metrics=(), units=3, activation="softmax",
           loss="categorical_crossentropy"):
    model = refnn.Sequential([layers.Dense(4, "tanh"), layers.Dense(units, activation)], input_dim=3, seed=1)
    model.compile(optimizers.SGD(lr), loss, list(metrics), weighted_metrics=list(weighted_metrics))
    return model


def _per_sample_loss(model, x, y):
    p = np.clip(model.predict(x), 1e-7, 1 - 1e-7)
    return -np.sum(y * np.log(p), axis=1)


def test_weighted_loss_divides_by_the_batch_size_including_a_partial_last_batch():
    model = _model()  # lr = 1e-300: w − lr·g rounds to w, the weights never move
    history = model.fit(X, Y, batch_size=4, shuffle=False, sample_weight=W, verbose=0)
    ell = _per_sample_loss(model, X, Y)
    batch_losses = [np.sum(W[s] * ell[s]) / len(ell[s]) for s in (slice(0, 4), slice(4, 8), slice(8, 10))]
    expected = (4 * batch_losses[0] + 4 * batch_losses[1] + 2 * batch_losses[2]) / 10
    assert relative_error(history.history["loss"][0], expected) <= 1e-14  # measured: 0


def test_metrics_ignore_weights_and_weighted_metrics_use_them():
    model = _model(metrics=["accuracy"], weighted_metrics=["accuracy"])
    logs = model.fit(X, Y, batch_size=4, shuffle=False, sample_weight=W, verbose=0).history
    hit = (model.predict(X).argmax(1) == LABELS).astype(float)
    assert logs["accuracy"][0] == pytest.approx(hit.mean(), rel=1e-15)
    assert logs["weighted_accuracy"][0] == pytest.approx(hit @ W / W.sum(), rel=1e-14)
    assert model.metrics_names == ["loss", "accuracy", "weighted_accuracy"]


def test_weighted_gradient_matches_finite_differences():
    model = _model(lr=0.1)
    _, grads = model.loss_and_gradients(X, Y, sample_weight=W)
    for path, param in model.params.items():
        numeric = numerical_gradient(lambda: model.loss_and_gradients(X, Y, sample_weight=W)[0], param)
        assert relative_error(grads[path], numeric) <= FINITE_DIFFERENCE_RTOL, path


@pytest.mark.parametrize("y, expected", [
    (np.eye(3)[[0, 2, 1]], [1.0, 5.0, 2.0]),                   # one-hot: argmax
    (np.array([0, 2, 1]), [1.0, 5.0, 2.0]),                    # class ids
    (np.array([[0.0], [1.0], [0.9]]), [1.0, 2.0, 2.0]),        # one sigmoid unit: rounded
    (np.array([3, 0]), [1.0, 1.0]),                            # a class missing from the dict: 1
])
def test_class_weight_conversion_follows_keras(y, expected):
    assert class_weight_to_sample_weights(y, {1: 2.0, 2: 5.0}).tolist() == expected


def test_class_weight_trains_like_the_equivalent_sample_weight():
    by_class = _model(lr=0.1).fit(X, Y, batch_size=4, shuffle=False, class_weight={0: 0.5, 1: 2.0, 2: 3.0},
                                  verbose=0, epochs=2)
    weights = np.array([0.5, 2.0, 3.0])[LABELS]
    by_sample = _model(lr=0.1).fit(X, Y, batch_size=4, shuffle=False, sample_weight=weights, verbose=0, epochs=2)
    assert by_class.history == by_sample.history


def test_validation_split_splits_the_weights_and_class_weight_never_weights_validation():
    model = _model()
    logs = model.fit(X, Y, batch_size=3, shuffle=False, sample_weight=W, validation_split=0.3, verbose=0).history
    ell = _per_sample_loss(model, X[7:], Y[7:])
    assert relative_error(logs["val_loss"][0], np.sum(W[7:] * ell) / 3) <= 1e-14
    unweighted = _model().fit(X, Y, validation_split=0.3, verbose=0).history["val_loss"]
    by_class = _model().fit(X, Y, validation_split=0.3, class_weight={0: 9.0}, verbose=0).history["val_loss"]
    assert by_class == unweighted


def test_validation_data_with_weights_freq_and_batch_size():
    model = _model()
    logs = model.fit(X, Y, epochs=4, validation_data=(X, Y, W), validation_freq=2, validation_batch_size=3,
                     verbose=0).history
    assert len(logs["val_loss"]) == 2
    assert relative_error(logs["val_loss"][0], np.mean(W * _per_sample_loss(model, X, Y))) <= 1e-14


def test_initial_epoch_runs_the_remaining_epochs():
    assert _model().fit(X, Y, epochs=3, initial_epoch=1, verbose=0).epoch == [1, 2]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(sample_weight=W, class_weight={0: 1.0}), ValueError, "cannot be specified at the same time"),
    (dict(sample_weight=W[:5]), ValueError, r"`sample_weight` must hold one weight per row of x: shape \(10,\)"),
    (dict(class_weight=[1.0, 2.0]), TypeError, "`class_weight` must be a dict"),
    (dict(class_weight={"a": 1.0}), ValueError, "keys must be integer class indices"),
    (dict(shuffle="batch"), ValueError, "shuffle='batch'"),
    (dict(steps_per_epoch=3), ValueError, r"`steps_per_epoch` is not supported.*steps_per_epoch=3"),
    (dict(validation_steps=2), ValueError, r"`validation_steps` is not supported"),
    (dict(validation_freq=0), ValueError, "validation_freq"),
    (dict(validation_data=(X, Y, W, W)), ValueError, r"\(x_val, y_val, val_sample_weight\).*4 entries"),
    (dict(validation_data=(X, Y, W[:3])), ValueError, r"validation_data\[2\]"),
])
def test_fit_option_refusals(kwargs, error, message):
    with pytest.raises(error, match=message):
        _model().fit(X, Y, verbose=0, **kwargs)


def test_generators_and_datasets_are_refused_by_name():
    with pytest.raises(TypeError, match="does not take generators.*generator"):
        _model().fit((row for row in X), Y, verbose=0)
    with pytest.raises(ValueError, match="`y` is required"):
        _model().fit(X, verbose=0)


def test_levenberg_marquardt_refuses_weights():
    model = refnn.Sequential([layers.Dense(2, "tanh"), layers.Dense(1)], input_dim=3, seed=0)
    model.compile(optimizers.LevenbergMarquardt(), "mse")
    with pytest.raises(ValueError, match="takes no `sample_weight` or `class_weight`"):
        model.fit(X, X[:, 0], batch_size=10, sample_weight=W, verbose=0)

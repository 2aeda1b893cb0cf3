"""A custom loss as a function with a ``gradient`` attribute: its derivative checked by finite
differences (float64), trained with ``fit`` exactly as the same loss written as a ``Loss`` subclass."""

import numpy as np
import pytest

import refnn
from refnn import losses
from refnn.utils.gradcheck import numerical_gradient
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL


def log_cosh(y_true, y_pred):
    return np.mean(np.log(np.cosh(y_pred - y_true)), axis=1)


log_cosh.gradient = lambda y_true, y_pred: np.tanh(y_pred - y_true) / y_pred.shape[1]


class LogCosh(losses.Loss):
    def call(self, y_true, y_pred):
        return log_cosh(y_true, y_pred)

    def call_gradient(self, y_true, y_pred):
        return log_cosh.gradient(y_true, y_pred)


def test_a_function_with_a_gradient_becomes_a_loss():
    loss = losses.get(log_cosh)
    assert isinstance(loss, losses.LossFunctionWrapper) and loss.name == "log_cosh"
    rng = np.random.default_rng(0)
    y, p, w = rng.standard_normal((6, 3)), rng.standard_normal((6, 3)), rng.random(6)
    q = p.copy()
    numeric = numerical_gradient(lambda: loss(y, q, sample_weight=w), q)
    np.testing.assert_allclose(loss.gradient(y, p, sample_weight=w), numeric, rtol=FINITE_DIFFERENCE_RTOL, atol=1e-10)
    assert loss(y, p, sample_weight=w) == pytest.approx(np.sum(log_cosh(y, p) * w) / 6, rel=1e-14)


def test_it_trains_as_the_subclass_does():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((40, 4)), rng.standard_normal((40, 2))

    def fitted(loss):
        model = refnn.Sequential([refnn.Input((4,)), refnn.layers.Dense(2)], seed=3)
        model.compile("adam", loss)
        return model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]

    assert fitted(log_cosh) == fitted(LogCosh())


def test_a_plain_function_is_refused_with_both_recipes():
    def plain(y_true, y_pred):
        return np.abs(y_pred - y_true).mean(axis=1)

    with pytest.raises(TypeError, match=r"(?s)Subclass refnn.losses.Loss.*plain.gradient = lambda"):
        losses.get(plain)


def test_a_non_callable_gradient_is_named():
    with pytest.raises(TypeError, match="`gradient` must be a function"):
        losses.LossFunctionWrapper(log_cosh, gradient=3)

"""L1/L2 penalties: formulas (Keras's, no ½), gradients against finite differences in float64,
and how they enter loss, val_loss and training."""

import numpy as np
import pytest

import refnn
from refnn import layers, optimizers, regularizers
from refnn.utils.gradcheck import check_model_gradients
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL


def test_penalty_formulas():
    w = np.array([[1.5, -2.0], [0.0, 0.5]])
    assert regularizers.L1(0.25)(w) == 0.25 * 4.0
    assert regularizers.L2(0.25)(w) == 0.25 * (2.25 + 4.0 + 0.25)  # no ½
    assert regularizers.L1L2(l1=0.5, l2=0.125)(w) == 0.5 * 4.0 + 0.125 * 6.5
    np.testing.assert_array_equal(regularizers.L1(0.25).gradient(w), 0.25 * np.array([[1, -1], [0, 1]]))
    np.testing.assert_array_equal(regularizers.L2(0.25).gradient(w), 0.5 * w)
    np.testing.assert_array_equal(regularizers.L1L2(0.5, 0.125).gradient(w),
                                  0.5 * np.sign(w) + 0.25 * w)


def test_string_identifiers_follow_keras():
    assert regularizers.get("l1").get_config() == {"l1": 0.01}
    assert regularizers.get("L2").get_config() == {"l2": 0.01}
    # Keras: "l1l2" is L1L2(0, 0), i.e. no penalty (its docstring says 0.01)
    assert regularizers.get("l1l2")(np.ones((2, 2))) == 0.0
    with pytest.raises(ValueError, match=r"Unknown regularizer.*Received: kernel_regularizer='l1_l2'"):
        layers.Dense(2, kernel_regularizer="l1_l2")
    with pytest.raises(ValueError, match=r"`l2` must be a float in \[0.0, inf\). Received: l2=-0.1"):
        regularizers.L2(-0.1)


def regularized_model(kernel_reg, bias_reg, seed=0):
    model = refnn.Sequential([
        layers.Dense(5, activation="tanh", kernel_regularizer=kernel_reg, bias_regularizer=bias_reg),
        layers.Dense(2, activation="softmax", kernel_regularizer=kernel_reg),
    ], input_dim=3, seed=seed)
    model.compile(optimizers.SGD(0.1), "categorical_crossentropy")
    rng = np.random.default_rng(seed)
    weights = model.get_weights()
    weights[1] = rng.uniform(-0.5, 0.5, 5)  # non-zero biases: away from L1's kink
    model.set_weights(weights)
    x = rng.standard_normal((6, 3))
    y = np.eye(2)[rng.integers(0, 2, 6)]
    return model, x, y


@pytest.mark.parametrize(
    "kernel_reg, bias_reg",
    [
        (regularizers.L1(0.05), regularizers.L1(0.1)),
        (regularizers.L2(0.05), regularizers.L2(0.2)),
        (regularizers.L1L2(l1=0.03, l2=0.07), None),
        (None, regularizers.L1L2(l1=0.1, l2=0.1)),
    ],
    ids=["l1", "l2", "l1l2-kernel", "l1l2-bias"],
)
def test_gradients_with_penalties_match_finite_differences(kernel_reg, bias_reg):
    model, x, y = regularized_model(kernel_reg, bias_reg)
    errors = check_model_gradients(model, x, y)
    assert max(errors.values()) < FINITE_DIFFERENCE_RTOL, errors


def test_the_penalty_is_in_the_loss_and_its_gradient():
    model, x, y = regularized_model(regularizers.L2(0.5), regularizers.L1(0.25))
    loss, grads = model.loss_and_gradients(x, y)
    w = model.get_weights()
    penalty = 0.5 * (np.sum(w[0] ** 2) + np.sum(w[2] ** 2)) + 0.25 * np.sum(np.abs(w[1]))
    assert model.regularization_loss() == pytest.approx(penalty, rel=1e-15)
    data_loss = model.loss(y, model.predict(x))
    assert loss == pytest.approx(data_loss + penalty, rel=1e-14)
    plain, _, _ = regularized_model(None, None)
    plain.set_weights(w)
    _, plain_grads = plain.loss_and_gradients(x, y)
    np.testing.assert_allclose(grads["dense_0/kernel"], plain_grads["dense_0/kernel"] + 2 * 0.5 * w[0], rtol=1e-14)
    np.testing.assert_allclose(grads["dense_0/bias"], plain_grads["dense_0/bias"] + 0.25 * np.sign(w[1]), rtol=1e-14)
    np.testing.assert_array_equal(grads["dense_1/bias"], plain_grads["dense_1/bias"])  # not regularised


def test_penalty_is_in_history_loss_and_val_loss():
    model, x, y = regularized_model(regularizers.L2(0.5), None)
    xs, ys = np.vstack([x, x[:2]]), np.vstack([y, y[:2]])
    before = model.get_weights()
    # one full batch: the loss before the update
    expected_loss = model.evaluate(x, y, return_dict=True, verbose=0)["loss"]
    history = model.fit(xs, ys, epochs=1, batch_size=6, shuffle=False, validation_split=0.25, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected_loss, rel=1e-14)
    # val_loss: the last 2 rows, end-of-epoch weights, penalty included
    val = model.loss(ys[6:], model.predict(xs[6:])) + model.regularization_loss()
    assert history.history["val_loss"][0] == pytest.approx(val, rel=1e-14)
    assert model.regularization_loss() > 0.1 * val
    assert not all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_bias_regularizer_ignored_without_bias():
    layer = layers.Dense(3, use_bias=False, bias_regularizer=regularizers.L2(1.0))
    assert layer.regularizers == {}


def test_l2_equals_weight_decay_2_lambda_for_plain_sgd():
    # SGD: W − lr(g + 2λW) = (W − W·2λ·lr) − lr·g, Keras's decoupled decay
    lam, lr = 0.05, 0.1
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))

    def make(reg, weight_decay):
        model = refnn.Sequential([layers.Dense(4, activation="tanh", kernel_regularizer=reg, bias_regularizer=reg),
                                  layers.Dense(2, kernel_regularizer=reg, bias_regularizer=reg)],
                                 input_dim=3, seed=1)
        model.compile(optimizers.SGD(lr, weight_decay=weight_decay), "mse")
        return model

    l2_model, wd_model = make(regularizers.L2(lam), None), make(None, 2 * lam)
    for model in (l2_model, wd_model):
        model.fit(x, y, epochs=5, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(l2_model.get_weights(), wd_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_l1_drives_weights_towards_zero():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 4)), rng.standard_normal((32, 1))
    norms = {}
    for l1 in (0.0, 0.05):
        model = refnn.Sequential([layers.Dense(1, kernel_regularizer=regularizers.L1(l1))], input_dim=4, seed=0)
        model.compile(optimizers.SGD(0.05), "mse")
        model.fit(x, y, epochs=30, batch_size=32, verbose=0)
        norms[l1] = np.abs(model.get_weights()[0]).sum()
    assert norms[0.05] < norms[0.0]

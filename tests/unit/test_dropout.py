"""Inverted dropout: mask statistics, scale, rate 0 and 1, inference, fresh masks, seeds, and a
float64 gradient check through a fixed mask."""

import numpy as np
import pytest

import refnn
from refnn import layers, optimizers
from refnn.utils.gradcheck import check_model_gradients
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL


def built(rate, seed=0, dtype="float64", width=50):
    layer = layers.Dropout(rate, seed=seed)
    layer.build(width, dtype=dtype)
    return layer


def test_kept_elements_are_scaled_by_1_over_keep_probability():
    x = np.arange(1.0, 2001.0).reshape(40, 50)
    layer = built(0.3)
    y = layer.forward(x, training=True)
    kept = y != 0
    np.testing.assert_array_equal(y[kept], x[kept] * (1.0 / 0.7))
    # 2000 Bernoulli(0.7) draws: a 5σ band is ±0.051 (seeded, so this is a fixed draw inside it)
    n, p = x.size, 0.7
    assert abs(kept.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    # inverted dropout keeps the expectation: E[y] = x, so mean(y / x) ≈ 1 within the same band
    assert abs(np.mean(y / x) - 1.0) < 5 * np.sqrt(p * (1 - p) / n) / p


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_mask_statistics(rate):
    layer = built(rate, seed=3, width=1000)
    x = np.ones((200, 1000))
    keep = layer.forward(x, training=True) != 0
    n = keep.size
    assert abs(keep.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / n)
    # independent elements: keep rates per column do not vary more than binomial noise
    per_column = keep.mean(axis=0)
    assert per_column.std() < 1.5 * np.sqrt(rate * (1 - rate) / 200)


def test_float32_scale_is_rounded_to_the_dtype():
    layer = built(0.3, dtype="float32")
    x = np.ones((10, 50), dtype=np.float32)
    y = layer.forward(x, training=True)
    assert y.dtype == np.float32
    assert set(np.unique(y)) == {np.float32(0), np.float32(1 / 0.7)}


def test_rate_zero_is_the_identity_and_rate_one_drops_everything():
    x = np.random.default_rng(0).standard_normal((4, 50))
    zero = built(0.0)
    np.testing.assert_array_equal(zero.forward(x, training=True), x)
    np.testing.assert_array_equal(zero.backward(np.ones_like(x)), np.ones_like(x))
    one = built(1.0)
    np.testing.assert_array_equal(one.forward(x, training=True), np.zeros_like(x))
    np.testing.assert_array_equal(one.backward(np.ones_like(x)), np.zeros_like(x))


def test_inference_is_the_identity():
    x = np.random.default_rng(0).standard_normal((4, 50))
    layer = built(0.5)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(2 * x), 2 * x)
    model = refnn.Sequential([layers.Dense(50), layers.Dropout(0.5, seed=0)], input_dim=50, seed=0)
    model.compile(optimizers.SGD(), "mse")
    np.testing.assert_array_equal(model.predict(x), model.layers[0].forward(x))
    # evaluate runs in inference mode too: deterministic
    first = model.evaluate(x, x, return_dict=True, verbose=0)["loss"]
    assert first == model.evaluate(x, x, return_dict=True, verbose=0)["loss"]


def test_backward_uses_the_forward_mask():
    x = np.random.default_rng(0).standard_normal((4, 50))
    layer = built(0.4)
    y = layer.forward(x, training=True)
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx, (y != 0) / 0.6)


def test_a_fresh_mask_every_training_call():
    x = np.ones((8, 50))
    layer = built(0.5)
    masks = [layer.forward(x, training=True) != 0 for _ in range(3)]
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])


def test_same_seed_same_mask_sequence():
    x = np.ones((8, 50))
    a, b, c = built(0.5, seed=7), built(0.5, seed=7), built(0.5, seed=8)
    for _ in range(3):
        ya, yb, yc = (layer.forward(x, training=True) for layer in (a, b, c))
        np.testing.assert_array_equal(ya, yb)
        assert not np.array_equal(ya, yc)


def test_model_seed_drives_unseeded_dropout_and_training_is_reproducible():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 4)), rng.standard_normal((32, 1))

    def run(seed):
        model = refnn.Sequential([layers.Dense(16, activation="relu"), layers.Dropout(0.5), layers.Dense(1)],
                                 input_dim=4, seed=seed)
        model.compile(optimizers.SGD(0.05), "mse")
        history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
        return history.history["loss"], model.get_weights()

    (loss_a, w_a), (loss_b, w_b), (loss_c, _) = run(1), run(1), run(2)
    assert loss_a == loss_b
    for a, b in zip(w_a, w_b):
        np.testing.assert_array_equal(a, b)
    assert loss_a != loss_c


def test_dropout_is_active_in_fit():
    # with rate 0.5 the training loss (dropout on) differs from the same run with rate 0
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 4)), rng.standard_normal((32, 1))
    losses = []
    for rate in (0.0, 0.5):
        model = refnn.Sequential([layers.Dense(16, activation="tanh"), layers.Dropout(rate, seed=0), layers.Dense(1)],
                                 input_dim=4, seed=0)
        model.compile(optimizers.SGD(0.05), "mse")
        losses.append(model.fit(x, y, epochs=1, batch_size=32, verbose=0).history["loss"][0])
    assert losses[0] != losses[1]


def test_gradient_check_with_a_fixed_mask():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)), np.eye(3)[rng.integers(0, 3, 6)]
    dropout = layers.Dropout(0.4, seed=0)
    model = refnn.Sequential([layers.Dense(5, activation="tanh"), dropout, layers.Dense(3, activation="softmax")],
                             input_dim=3, seed=0)
    model.compile(optimizers.SGD(), "categorical_crossentropy")
    mask = rng.random((6, 5)) >= 0.4
    mask[:, 2] = False  # unit 2 dropped for every sample
    dropout.fixed_mask = mask
    errors = check_model_gradients(model, x, y)
    assert max(errors.values()) < FINITE_DIFFERENCE_RTOL, errors
    # the fixed mask is really used: dropped units get no kernel gradient in the next layer
    _, grads = model.loss_and_gradients(x, y)
    np.testing.assert_array_equal(grads["dense_1/kernel"][2], 0.0)
    assert np.all(grads["dense_1/kernel"][[0, 1, 3, 4]] != 0.0)
    h = np.tanh(x @ model.get_weights()[0] + model.get_weights()[1])
    np.testing.assert_array_equal(dropout.forward(h, training=True), h * dropout.fixed_mask / 0.6)


def test_fixed_mask_shape_is_checked():
    layer = built(0.5, width=4)
    layer.fixed_mask = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"`fixed_mask` must have the input's shape. Received: "
                                         r"fixed_mask.shape=\(2, 3\), input shape=\(2, 4\)"):
        layer.forward(np.ones((2, 4)), training=True)


@pytest.mark.parametrize("rate", [-0.1, 1.5, "0.5"])
def test_rate_must_be_in_0_1(rate):
    with pytest.raises(ValueError, match=r"`rate` must be a float in \[0.0, 1.0\]. Received: rate="):
        layers.Dropout(rate)


def test_seed_must_be_a_non_negative_integer():
    with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer or None. Received: seed=-1"):
        layers.Dropout(0.5, seed=-1)

"""Dropout, refnn vs Keras. Keras draws its masks with TensorFlow's Philox generator, which NumPy
cannot reproduce, so dropout is compared where it is deterministic — ``rate=0`` in training and
any rate in inference (both exact, through ``compare``) — and statistically in training: over many
steps the masks of both sides have the mean and variance of inverted dropout within 4σ."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

import refnn  # noqa: E402
from keras_bridge import compare, to_keras  # noqa: E402
from keras_bridge.dtypes import floatx  # noqa: E402
from refnn import layers, optimizers  # noqa: E402
from refnn.utils.data import one_hot  # noqa: E402

DTYPES = ["float64", "float32"]


def _model(rate, dtype):
    model = refnn.Sequential([layers.Dense(12, activation="relu"), layers.Dropout(rate, seed=11),
                              layers.Dense(3, activation="softmax")], input_dim=5, seed=2, dtype=dtype)
    model.compile(optimizers.Adam(0.01), "categorical_crossentropy")
    return model


def _data(n=40):
    rng = np.random.default_rng(5)
    return rng.normal(size=(n, 5)), one_hot(rng.integers(0, 3, n), 3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rate_zero_trains_identically(dtype):
    x, y = _data()
    compare.training(_model(0.0, dtype), x, y, epochs=10, batch_size=8).assert_passed()


@pytest.mark.parametrize("dtype", DTYPES)
def test_inference_is_the_identity_on_both_sides(dtype):
    x, y = _data()
    model = _model(0.5, dtype)
    result = compare.forward(model, x, y).assert_passed()
    dense, dropout = result.rows[0], result.rows[1]
    assert np.array_equal(dropout.refnn, dense.refnn) and np.array_equal(dropout.keras, dense.keras)
    compare.gradients(model, x, y).assert_passed()


def _moments_z_scores(masks: np.ndarray, rate: float) -> tuple[float, float]:
    """z-scores of the sample mean and (unbiased) sample variance of inverted-dropout masks.

    ``m = s·B``, ``B ~ Bernoulli(q)``, ``q = 1 − p``, ``s = 1/q``: ``E m = 1``, ``σ² = Var m = p/q``,
    fourth central moment ``μ₄ = s⁴·q·p·(1 − 3qp)``. The standard errors are ``√(σ²/n)`` and
    ``√(μ₄/n − σ⁴(n − 3)/(n(n − 1)))`` (exact for iid samples; at p = ½ only the O(1/n²) term is left).
    """
    m = masks.astype(np.float64).ravel()
    n, q = m.size, 1.0 - rate
    s = 1.0 / q
    var = rate / q
    mu4 = s**4 * q * rate * (1 - 3 * q * rate)
    z_mean = (m.mean() - 1.0) / np.sqrt(var / n)
    z_var = (m.var(ddof=1) - var) / np.sqrt(mu4 / n - var**2 * (n - 3) / (n * (n - 1)))
    return z_mean, z_var


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_training_masks_have_the_same_statistics(rate, dtype):
    steps, shape = 200, (50, 20)
    model = _model(rate, dtype)
    keras_dropout = to_keras(model).layers[1]
    assert (keras_dropout.rate, keras_dropout.seed) == (rate, 11)
    ones = np.ones(shape, dtype=dtype)
    with floatx(dtype):
        keras_masks = np.stack([keras_dropout(tf.constant(ones), training=True).numpy() for _ in range(steps)])
    refnn_masks = np.stack([model.layers[1].forward(ones, training=True) for _ in range(steps)])
    scale = np.dtype(dtype).type(1.0 / (1.0 - rate))
    for masks in (keras_masks, refnn_masks):
        assert masks.dtype == dtype
        assert np.array_equal(np.unique(masks), [0.0, scale])  # inverted dropout: kept values scaled by 1/(1−p)
        assert not np.array_equal(masks[0], masks[1])  # a fresh mask at every step
        z_mean, z_var = _moments_z_scores(masks, rate)
        assert abs(z_mean) < 4 and abs(z_var) < 4, (z_mean, z_var)
    # and the two sides agree with each other: the kept fractions differ by less than 4σ of a difference
    n = keras_masks.size
    diff = (keras_masks != 0).mean() - (refnn_masks != 0).mean()
    assert abs(diff) < 4 * np.sqrt(2 * rate * (1 - rate) / n)

"""Initializers: Keras's formulas, seeded determinism."""

import numpy as np
import pytest

from refnn import initializers


@pytest.mark.parametrize("name", sorted(initializers.INITIALIZERS))
def test_seeded_initializers_are_deterministic(name):
    init = initializers.get(name)
    a = init((30, 20), "float64", np.random.default_rng(5))
    b = init((30, 20), "float64", np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (30, 20)


def test_glorot_uniform_limit_and_spread():
    w = initializers.GlorotUniform()((400, 200), "float64", np.random.default_rng(0))
    limit = np.sqrt(6 / 600)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    assert abs(w.std() - limit / np.sqrt(3)) < 0.01 * limit


@pytest.mark.parametrize("cls,fan", [(initializers.HeNormal, "in"), (initializers.GlorotNormal, "avg")])
def test_truncated_normals_have_the_intended_std(cls, fan):
    w = cls()((500, 300), "float64", np.random.default_rng(1))
    target = np.sqrt(2 / 500) if fan == "in" else np.sqrt(2 / 800)
    assert abs(w.std() - target) < 0.01 * target
    raw_std = target / 0.87962566103423978
    assert np.abs(w).max() <= 2 * raw_std


def test_he_uniform_and_constants():
    w = initializers.HeUniform()((100, 10), "float32", np.random.default_rng(0))
    assert w.dtype == np.float32 and np.abs(w).max() <= np.sqrt(6 / 100)
    np.testing.assert_array_equal(initializers.get("zeros")((3,)), np.zeros(3))
    np.testing.assert_array_equal(initializers.get("ones")((2, 2)), np.ones((2, 2)))


def test_own_seed_repeats_like_keras():
    init = initializers.RandomNormal(stddev=1.0, seed=3)
    np.testing.assert_array_equal(init((4, 4)), init((4, 4), rng=np.random.default_rng(99)))


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="Received: kernel_initializer='nope'"):
        initializers.get("nope", "kernel_initializer")
    with pytest.raises(ValueError, match=r"`stddev` must be .* Received: stddev=-1"):
        initializers.RandomNormal(stddev=-1)
    with pytest.raises(ValueError, match=r"`maxval` must be >= `minval`"):
        initializers.RandomUniform(minval=1.0, maxval=0.0)

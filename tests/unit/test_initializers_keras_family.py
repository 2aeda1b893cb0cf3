"""VarianceScaling and its presets (Glorot, He, LeCun), Orthogonal: the distributions (bounds,
moments, a Kolmogorov–Smirnov test against the theoretical CDF with a fixed seed), orthogonality,
config round trips and errors. NumPy only: the KS p-value is Kolmogorov's asymptotic series."""

import math

import numpy as np
import pytest

from refnn import initializers
from refnn.initializers import Orthogonal, VarianceScaling

TRUNC = 0.87962566103423978


def _normal_cdf(z):
    return 0.5 * np.vectorize(math.erfc)(-np.asarray(z) / math.sqrt(2))


def ks_pvalue(sample, cdf) -> float:
    """Two-sided one-sample KS test: statistic D and the asymptotic p-value (Stephens' correction)."""
    x = np.sort(np.ravel(sample))
    n = x.size
    f = cdf(x)
    d = max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    k = np.arange(1, 101)
    return float(np.clip(2 * np.sum((-1.0) ** (k - 1) * np.exp(-2 * k ** 2 * lam ** 2)), 0, 1))


def theoretical_cdf(distribution, scale_over_n):
    if distribution == "uniform":
        limit = math.sqrt(3 * scale_over_n)
        return lambda x: (x + limit) / (2 * limit)
    if distribution == "untruncated_normal":
        return lambda x: _normal_cdf(x / math.sqrt(scale_over_n))
    sigma = math.sqrt(scale_over_n) / TRUNC
    lo, hi = _normal_cdf(-2.0), _normal_cdf(2.0)
    return lambda x: (_normal_cdf(x / sigma) - lo) / (hi - lo)


SHAPE = (300, 200)
FANS = {"fan_in": 300, "fan_out": 200, "fan_avg": 250}


@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_variance_scaling_follows_its_distribution(mode, distribution):
    w = VarianceScaling(scale=2.0, mode=mode, distribution=distribution, seed=7)(SHAPE)
    target_var = 2.0 / FANS[mode]
    assert ks_pvalue(w, theoretical_cdf(distribution, target_var)) > 0.001
    n = w.size
    assert abs(w.mean()) < 4 * math.sqrt(target_var / n)
    # the std of a sample variance is ≤ √(2/n)·σ² for these light-tailed laws: 4 standard errors
    assert abs(w.var() - target_var) < 4 * math.sqrt(2 / n) * target_var
    if distribution == "uniform":
        assert np.abs(w).max() <= math.sqrt(3 * target_var)
    if distribution == "truncated_normal":
        assert np.abs(w).max() <= 2 * math.sqrt(target_var) / TRUNC


@pytest.mark.parametrize("name,scale,mode,distribution", [
    ("glorot_uniform", 1.0, "fan_avg", "uniform"), ("glorot_normal", 1.0, "fan_avg", "truncated_normal"),
    ("he_uniform", 2.0, "fan_in", "uniform"), ("he_normal", 2.0, "fan_in", "truncated_normal"),
    ("lecun_uniform", 1.0, "fan_in", "uniform"), ("lecun_normal", 1.0, "fan_in", "truncated_normal"),
])
def test_presets_are_variance_scaling(name, scale, mode, distribution):
    preset = initializers.get(name)
    assert isinstance(preset, VarianceScaling)
    assert (preset.scale, preset.mode, preset.distribution) == (scale, mode, distribution)
    general = VarianceScaling(scale, mode, distribution)
    rng = lambda: np.random.default_rng(11)  # noqa: E731
    np.testing.assert_array_equal(preset(SHAPE, rng=rng()), general(SHAPE, rng=rng()))
    assert ks_pvalue(preset(SHAPE, rng=rng()), theoretical_cdf(distribution, scale / FANS[mode])) > 0.001
    assert preset.get_config() == {"seed": None}


def test_presets_draw_what_they_drew_before_variance_scaling():
    """The textbook limits √(6/(fan_in + fan_out)) etc. are bit-identical to √(3·scale/n)."""
    for a, b in [(3, 5), (784, 128), (7, 1), (1000, 999)]:
        assert math.sqrt(6.0 / (a + b)) == math.sqrt(3.0 * 1.0 / ((a + b) / 2.0))
        assert math.sqrt(2.0 / (a + b)) == math.sqrt(1.0 / ((a + b) / 2.0))
        assert math.sqrt(6.0 / a) == math.sqrt(3.0 * 2.0 / a)
    w = initializers.GlorotUniform()((4, 6), rng=np.random.default_rng(0))
    np.testing.assert_array_equal(w, np.random.default_rng(0).uniform(-math.sqrt(0.6), math.sqrt(0.6), (4, 6)))


@pytest.mark.parametrize("shape", [(50, 20), (20, 50), (30, 30), (4, 5, 6)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_orthogonal_is_orthogonal(shape, gain):
    w = Orthogonal(gain=gain, seed=3)(shape)
    assert w.shape == shape
    flat = w.reshape(-1, shape[-1])
    small = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(small, gain ** 2 * np.eye(len(small)), rtol=0, atol=1e-14)


def test_orthogonal_is_haar_distributed():
    """With the sign correction, each entry of a Haar n×n orthogonal matrix has mean 0 and variance
    1/n; without it, the diagonal of Q is biased (the QR routine makes diag(R) one-signed)."""
    draws = np.stack([Orthogonal(seed=s)((4, 4)) for s in range(4000)])
    assert np.all(np.abs(draws.mean(axis=0)) < 4 * math.sqrt(0.25 / 4000))
    np.testing.assert_allclose(draws.var(axis=0), 0.25, atol=0.02)


def test_orthogonal_refuses_vectors():
    with pytest.raises(ValueError, match=r"at least two dimensions. Received: shape=\(5,\)"):
        Orthogonal()((5,))


@pytest.mark.parametrize("init", [
    VarianceScaling(0.5, "fan_out", "uniform", seed=4), Orthogonal(gain=2.0, seed=1), initializers.LecunNormal(seed=9),
    initializers.HeUniform(),
])
def test_config_round_trip(init):
    config = init.get_config()
    again = type(init).from_config(config)
    assert again.get_config() == config
    by_dict = initializers.get({"class_name": type(init).__name__, "config": config})
    assert type(by_dict) is type(init) and by_dict.get_config() == config
    np.testing.assert_array_equal(again((6, 3), rng=np.random.default_rng(0)),
                                  init((6, 3), rng=np.random.default_rng(0)))


def test_names_and_saving(tmp_path):
    import refnn
    from refnn import layers

    for name in ("he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "orthogonal", "variance_scaling"):
        assert initializers.get(name).name == name
    model = refnn.Sequential([layers.Dense(3, kernel_initializer=Orthogonal(gain=0.5, seed=2)),
                              layers.Dense(2, kernel_initializer=VarianceScaling(3.0, "fan_avg", "uniform"))],
                             input_dim=4, seed=0)
    model.compile("sgd", "mse")
    model.save(tmp_path / "m.refnn")
    loaded = refnn.load_model(tmp_path / "m.refnn")
    assert loaded.layers[0].kernel_initializer.get_config() == {"gain": 0.5, "seed": 2}
    assert loaded.layers[1].kernel_initializer.get_config() == {"scale": 3.0, "mode": "fan_avg",
                                                                "distribution": "uniform", "seed": None}


@pytest.mark.parametrize("make,message", [
    (lambda: VarianceScaling(scale=0.0), r"`scale` must be a float in \(0.0, inf\).* Received: scale=0.0"),
    (lambda: VarianceScaling(mode="fan_mid"), r"`mode` must be one of .* Received: mode='fan_mid'"),
    (lambda: VarianceScaling(distribution="cauchy"), r"Received: distribution='cauchy'"),
    (lambda: Orthogonal(gain="1"), r"`gain` must be a float.* Received: gain='1'"),
    (lambda: initializers.get({"class_name": "Orthogonal", "config": {"scale": 1}}), r"does not fit 'Orthogonal'"),
    (lambda: initializers.get({"class_name": "Identity"}), r"Received: initializer=\{'class_name': 'Identity'\}"),
])
def test_bad_options_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_normal_is_keras_alias_of_truncated_normal():
    assert VarianceScaling(distribution="normal").distribution == "truncated_normal"

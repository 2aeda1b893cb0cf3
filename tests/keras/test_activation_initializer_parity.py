"""The Keras-family activations and initializers against Keras, both sides computed live in float64.

* f and f′ of every new activation against ``keras.activations.*`` and ``tf.GradientTape`` on a
  grid that includes large |x| (≤ 1e-13 relative, the error being ``relative_error``: the worst
  deviation against the tensor's largest value).
* A small Dense model per activation trained by refnn and by Keras from the same weights
  (``keras_bridge.compare.training``): curves and final weights within the training contract.
* Initializers — a statistical check, not an equality: Keras draws with TensorFlow's Philox
  generator, refnn with NumPy's, so only the distributions can agree. Two-sample KS test
  (p > 0.001, fixed seeds) and the standard deviations within 4 standard errors.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import refnn
from keras_bridge import compare, from_keras, to_keras
from refnn import activations, initializers, layers
from refnn.activations import ELU, GELU, LeakyReLU
from refnn.utils.tolerance import relative_error

GRID = np.concatenate([np.linspace(-40, 40, 4001), [-1e6, -1e3, -100, -36, -34, 34, 36, 100, 1e3, 1e6],
                       [-3.0, 0.0, 3.0]])

#: refnn activation, Keras function (a Keras name for the default options)
CASES = {
    "elu": (ELU(), keras.activations.elu),
    "elu_alpha0.5": (ELU(alpha=0.5), lambda x: keras.activations.elu(x, alpha=0.5)),
    "selu": (activations.get("selu"), keras.activations.selu),
    "gelu": (GELU(keras_float32_constants=True), keras.activations.gelu),
    "gelu_tanh": (GELU(approximate=True, keras_float32_constants=True),
                  lambda x: keras.activations.gelu(x, approximate=True)),
    "leaky_relu": (LeakyReLU(float(np.float32(0.2))), keras.activations.leaky_relu),
    "leaky_relu0.05": (LeakyReLU(float(np.float32(0.05))),
                       lambda x: keras.activations.leaky_relu(x, negative_slope=0.05)),
    "softplus": (activations.get("softplus"), keras.activations.softplus),
    "silu": (activations.get("silu"), keras.activations.silu),
    "swish": (activations.get("swish"), keras.activations.swish),
    "hard_sigmoid": (activations.get("hard_sigmoid"), keras.activations.hard_sigmoid),
}


def _keras_value_and_derivative(fn, x):
    t = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = fn(t)
    return y.numpy(), tape.gradient(y, t).numpy()


def _refnn_value_and_derivative(act, x):
    y = act(x)
    return y, act.backward(x, y, np.ones_like(x))


@pytest.mark.parametrize("case", sorted(CASES))
def test_value_and_derivative_match_keras(case, float64):
    act, fn = CASES[case]
    y_keras, d_keras = _keras_value_and_derivative(fn, GRID)
    y_mine, d_mine = _refnn_value_and_derivative(act, GRID)
    assert relative_error(y_mine, y_keras) <= 1e-13
    assert relative_error(d_mine, d_keras) <= 1e-13
    # on the bounded part of the grid too, where the large |x| do not set the scale
    inner = np.abs(GRID) <= 6
    assert relative_error(y_mine[inner], y_keras[inner]) <= 1e-13
    assert relative_error(d_mine[inner], d_keras[inner]) <= 1e-13


def test_leaky_relu_slope_is_float32_in_keras(float64):
    """TensorFlow's LeakyRelu keeps ``alpha`` as a float32 attribute: with the decimal 0.2 refnn
    differs by |0.2 − float32(0.2)| / 0.2 ≈ 1.5e-8; keras_exact_copy rounds the slope alike."""
    y_keras, _ = _keras_value_and_derivative(keras.activations.leaky_relu, np.array([-1.0]))
    assert y_keras[0] == -float(np.float32(0.2))
    model = refnn.Sequential([layers.Dense(2, activation="leaky_relu")], input_dim=2, seed=0)
    from keras_bridge import keras_exact_copy

    assert keras_exact_copy(model).layers[0].activation.negative_slope == float(np.float32(0.2))
    assert keras_exact_copy(model).layers[0].activation.negative_slope != 0.2


@pytest.mark.parametrize("approximate", [False, True])
def test_textbook_gelu_differs_from_keras_by_its_float32_constants_only(approximate, float64):
    """tf.nn.gelu builds 1/√2 and 0.044715 with math_ops.cast(python float), i.e. through float32;
    the textbook GELU differs by ~1e-9 (f) / ~1e-8 (f′), the keras_exact copy by round-off."""
    inner = np.linspace(-6, 6, 1201)
    y_keras, d_keras = _keras_value_and_derivative(lambda x: keras.activations.gelu(x, approximate=approximate),
                                                   inner)
    y_mine, d_mine = _refnn_value_and_derivative(GELU(approximate), inner)
    assert 1e-12 < relative_error(d_mine, d_keras) < 1e-7
    y_exact, d_exact = _refnn_value_and_derivative(GELU(approximate, keras_float32_constants=True), inner)
    assert relative_error(y_exact, y_keras) <= 1e-13 and relative_error(d_exact, d_keras) <= 1e-13


# ---- training: a small Dense model per activation, refnn vs Keras -------------------------------
TRAINED = ["elu", "selu", "gelu", "leaky_relu", "softplus", "silu", "hard_sigmoid"]


def _problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4))
    y = np.sin(x @ np.array([[1.0], [-0.5], [0.3], [0.8]])) + 0.1 * x[:, :1] ** 2
    return x, y


@pytest.mark.parametrize("name", TRAINED)
def test_training_curves_match_keras(name, float64):
    x, y = _problem()
    model = refnn.Sequential([layers.Dense(8, activation=name, kernel_initializer="he_normal"),
                              layers.Dense(8, kernel_initializer="lecun_uniform"),
                              layers.Activation(name),
                              layers.Dense(1, kernel_initializer="orthogonal")], input_dim=4, seed=3)
    model.compile(refnn.optimizers.Adam(learning_rate=0.01), "mse")
    result = compare.training(model, x, y, epochs=5, batch_size=16)
    result.assert_passed()
    assert result.max_rel <= 1e-8


@pytest.mark.parametrize("option", [ELU(alpha=0.5), LeakyReLU(negative_slope=0.1)])
def test_activation_layers_with_options_train_like_keras(option, float64):
    x, y = _problem()
    model = refnn.Sequential([layers.Dense(8), layers.Activation(option), layers.Dense(1)], input_dim=4, seed=1)
    model.compile("sgd", "mse")
    keras_model = to_keras(model)
    assert type(keras_model.layers[1]).__name__ == type(option).__name__
    result = compare.training(model, x, y, epochs=4, batch_size=16)
    result.assert_passed()
    assert result.max_rel <= 1e-8


# ---- mapping both ways ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["elu", "selu", "gelu", "leaky_relu", "softplus", "silu", "swish", "hard_sigmoid"])
def test_activation_names_round_trip(name, float64):
    model = refnn.Sequential([layers.Dense(3, activation=name), layers.Activation(name)], input_dim=2, seed=0)
    keras_model = to_keras(model)
    back = from_keras(keras_model, keras_exact=False)
    expected = "silu" if name == "swish" else name
    assert [layer.activation.name for layer in back.layers] == [expected, expected]
    x = np.random.default_rng(0).standard_normal((5, 2))
    with_keras = keras_model.predict(x, verbose=0)
    assert relative_error(from_keras(keras_model).predict(x), with_keras) <= 1e-13


def test_keras_activation_layers_map_with_their_options(float64):
    keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.LeakyReLU(),
                                    keras.layers.Dense(4), keras.layers.ELU(alpha=0.7),
                                    keras.layers.Dense(4), keras.layers.ReLU(negative_slope=0.1)])
    model = from_keras(keras_model, keras_exact=False)
    assert [layer.activation.get_config() for layer in model.layers[1::2]] == [
        {"negative_slope": 0.3}, {"alpha": 0.7}, {"negative_slope": 0.1}]
    x = np.random.default_rng(0).standard_normal((6, 3))
    assert relative_error(from_keras(keras_model).predict(x), keras_model.predict(x, verbose=0)) <= 1e-13


@pytest.mark.parametrize("activation,message", [
    (GELU(approximate=True), r"activation GELU\(approximate=True.*\) has no Keras name"),
    (ELU(alpha=0.5), r"Use Dense\(..., activation=None\) followed by layers.Activation\(ELU\(alpha=0.5\)\)"),
])
def test_options_keras_cannot_name_are_refused(activation, message, float64):
    from keras_bridge import NotMappableError

    model = refnn.Sequential([layers.Dense(3, activation=activation)], input_dim=2, seed=0)
    with pytest.raises(NotMappableError, match=message):
        to_keras(model)


def test_unmapped_keras_activation_is_refused_by_name(float64):
    from keras_bridge import NotMappableError

    keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="mish")])
    with pytest.raises(NotMappableError, match=r"activation 'mish' has no refnn counterpart"):
        from_keras(keras_model)


@pytest.mark.parametrize("init", [
    initializers.LecunNormal(seed=1), initializers.LecunUniform(seed=2), initializers.Orthogonal(gain=0.5, seed=3),
    initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=4), initializers.HeUniform(seed=5),
])
def test_initializers_round_trip_through_keras(init, float64):
    model = refnn.Sequential([layers.Dense(3, kernel_initializer=init)], input_dim=2, seed=0)
    keras_init = to_keras(model).layers[0].kernel_initializer
    assert type(keras_init).__name__ == type(init).__name__
    back = from_keras(to_keras(model)).layers[0].kernel_initializer
    assert type(back) is type(init) and back.get_config() == init.get_config()


# ---- initializers: a statistical check ----------------------------------------------------------
def ks_2samp_pvalue(a, b) -> float:
    """Two-sample Kolmogorov–Smirnov: the statistic D and Kolmogorov's asymptotic p-value for
    n_eff = nm/(n+m) (Stephens' correction)."""
    a, b = np.sort(np.ravel(a)), np.sort(np.ravel(b))
    grid = np.concatenate([a, b])
    d = np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                      - np.searchsorted(b, grid, side="right") / b.size))
    n = a.size * b.size / (a.size + b.size)
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    k = np.arange(1, 101)
    return float(np.clip(2 * np.sum((-1.0) ** (k - 1) * np.exp(-2 * k ** 2 * lam ** 2)), 0, 1))


KERAS_INITS = {
    "glorot_uniform": lambda: keras.initializers.GlorotUniform(seed=11),
    "glorot_normal": lambda: keras.initializers.GlorotNormal(seed=11),
    "he_normal": lambda: keras.initializers.HeNormal(seed=11),
    "he_uniform": lambda: keras.initializers.HeUniform(seed=11),
    "lecun_normal": lambda: keras.initializers.LecunNormal(seed=11),
    "lecun_uniform": lambda: keras.initializers.LecunUniform(seed=11),
    "orthogonal": lambda: keras.initializers.Orthogonal(seed=11),
    "variance_scaling": lambda: keras.initializers.VarianceScaling(seed=11),
}


@pytest.mark.parametrize("name", sorted(KERAS_INITS))
@pytest.mark.parametrize("shape", [(300, 200), (100, 400)])
def test_initializer_distributions_match_keras_statistically(name, shape, float64):
    theirs = np.asarray(KERAS_INITS[name]()(shape, dtype="float64"))
    mine = initializers.get(name)(shape, "float64", np.random.default_rng(11))
    assert ks_2samp_pvalue(mine, theirs) > 0.001
    n = mine.size
    # standard error of a sample std ≈ σ/√(2n) for these light-tailed laws; two samples: ×√2
    assert abs(mine.std() - theirs.std()) < 4 * theirs.std() / math.sqrt(n)
    if name == "orthogonal":
        flat = mine if shape[0] >= shape[1] else mine.T
        np.testing.assert_allclose(flat.T @ flat, np.eye(flat.shape[1]), atol=1e-13)

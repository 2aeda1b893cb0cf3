"""The Keras-family activations (elu, selu, gelu, leaky_relu, softplus, silu/swish, hard_sigmoid):
values against their textbook definitions, backward passes by finite differences (float64),
overflow safety, options through serialize/get and save/load, and clear errors."""

import math

import numpy as np
import pytest

from refnn import activations
from refnn.activations import ELU, GELU, LeakyReLU
from refnn.activations.keras_family import erfc
from refnn.utils.gradcheck import numerical_gradient
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL, relative_error

#: every new activation, with non-default options too
CASES = {
    "elu": ELU(), "elu_alpha": ELU(alpha=0.5), "selu": activations.get("selu"),
    "gelu": GELU(), "gelu_tanh": GELU(approximate=True),
    "leaky_relu": LeakyReLU(), "leaky_relu_0.01": LeakyReLU(negative_slope=0.01),
    "softplus": activations.get("softplus"), "silu": activations.get("silu"),
    "hard_sigmoid": activations.get("hard_sigmoid"),
}
KINKED = {"elu_alpha", "leaky_relu", "leaky_relu_0.01", "hard_sigmoid", "selu"}


def _phi(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))


def _sig(x):
    return 1 / (1 + np.exp(-x))


TEXTBOOK = {
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "elu_alpha": lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1)),
    "gelu": lambda x: x * _phi(x),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "leaky_relu_0.01": lambda x: np.where(x > 0, x, 0.01 * x),
    "softplus": lambda x: np.log(1 + np.exp(x)),
    "silu": lambda x: x * _sig(x),
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
}


def _vjp_error(act, x, seed=0):
    r = np.random.default_rng(seed).standard_normal(x.shape)
    analytic = act.backward(x, act(x), r)
    numeric = numerical_gradient(lambda: float(np.sum(act(x) * r)), x)
    return relative_error(analytic, numeric)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("scale", [1.0, 4.0])
def test_backward_matches_finite_differences(case, scale):
    x = np.random.default_rng(1).standard_normal((6, 5)) * scale
    if case in KINKED:  # keep away from the kinks at 0 and ±3, where f′ jumps
        x = np.where(np.abs(x) < 1e-3, 0.5, x)
        x = np.where(np.abs(np.abs(x) - 3) < 1e-3, 2.5, x)
    assert _vjp_error(CASES[case], x) <= FINITE_DIFFERENCE_RTOL


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_match_the_textbook_definitions(case):
    x = np.linspace(-6, 6, 241)
    assert relative_error(CASES[case](x), TEXTBOOK[case](x)) <= 1e-14


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_inputs_stay_finite_and_keep_the_dtype(case, dtype):
    big = np.finfo(dtype).max / 4  # selu's λ·x must stay representable
    x = np.array([[-big, -1000.0, -40.0, 0.0, 40.0, 1000.0, big]], dtype=dtype)
    act = CASES[case]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = act(x)
        dx = act.backward(x, y, np.ones_like(x))
    assert y.dtype == np.dtype(dtype) and dx.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))


def test_derivatives_at_the_kinks_follow_tensorflow():
    x = np.array([0.0, -3.0, 3.0])
    ones = np.ones(3)
    assert ELU(alpha=0.5).backward(x, ELU(alpha=0.5)(x), ones)[0] == 0.5  # left derivative α (EluGrad)
    selu = activations.get("selu")
    assert selu.backward(x, selu(x), ones)[0] == selu.SCALE  # SeluGrad: right derivative
    assert LeakyReLU().backward(x, LeakyReLU()(x), ones)[0] == 0.2
    hard = activations.get("hard_sigmoid")
    np.testing.assert_array_equal(hard.backward(x, hard(x), ones), [1 / 6, 0.0, 0.0])


def test_erfc_is_math_erfc_and_gelu_is_accurate_far_left():
    x = np.linspace(-30, 30, 601)
    np.testing.assert_array_equal(erfc(x), [math.erfc(v) for v in x])
    assert erfc(x.astype(np.float32)).dtype == np.float32
    # exact GELU at x = −10: x Φ(x) = −7.619853024160527e−23 (Φ(−10) = 7.619853024160527e−24)
    assert GELU()(np.array([-10.0]))[0] == pytest.approx(-10 * 0.5 * math.erfc(10 / math.sqrt(2)), rel=1e-15)


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_keras_float32_constants_move_it_by_round_off_of_float32(approximate):
    """TensorFlow's gelu rounds 1/√2 and 0.044715 through float32: ~1e-8 relative, no more."""
    x = np.linspace(-6, 6, 241)
    exact, keras_like = GELU(approximate), GELU(approximate, keras_float32_constants=True)
    assert 0 < relative_error(keras_like(x), exact(x)) < 1e-7
    assert 0 < relative_error(keras_like.backward(x, None, np.ones_like(x)), exact.backward(x, None, np.ones_like(x))) \
        < 1e-7
    assert _vjp_error(keras_like, x[::10].copy()) <= FINITE_DIFFERENCE_RTOL


def test_swish_is_silu():
    act = activations.get("swish")
    assert type(act) is activations.SiLU and activations.serialize(act) == "silu"
    assert activations.get({"name": "swish"}).name == "silu"


@pytest.mark.parametrize("act,expected", [
    (ELU(), "elu"), (ELU(alpha=0.5), {"name": "elu", "config": {"alpha": 0.5}}),
    (GELU(), "gelu"), (GELU(approximate=True), {"name": "gelu", "config": {"approximate": True,
                                                                        "keras_float32_constants": False}}),
    (LeakyReLU(0.2), "leaky_relu"), (LeakyReLU(0.1), {"name": "leaky_relu", "config": {"negative_slope": 0.1}}),
    (activations.get("selu"), "selu"), (activations.get("hard_sigmoid"), "hard_sigmoid"),
])
def test_options_survive_serialize_and_get(act, expected):
    assert activations.serialize(act) == expected
    back = activations.get(expected)
    assert type(back) is type(act) and back.get_config() == act.get_config()


def test_options_survive_save_and_load(tmp_path):
    import refnn
    from refnn import layers

    model = refnn.Sequential([layers.Dense(4, activation=GELU(approximate=True)),
                              layers.Activation(LeakyReLU(negative_slope=0.05)),
                              layers.Dense(2, activation=ELU(alpha=0.3))], input_dim=3, seed=0)
    model.compile("sgd", "mse")
    model.save(tmp_path / "m.refnn")
    loaded = refnn.load_model(tmp_path / "m.refnn")
    got = [layer.activation.get_config() for layer in loaded.layers]
    assert got == [{"approximate": True, "keras_float32_constants": False}, {"negative_slope": 0.05}, {"alpha": 0.3}]
    x = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_a_model_with_each_activation_passes_the_model_gradient_check():
    import refnn
    from refnn import layers
    from refnn.utils.gradcheck import check_model_gradients

    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    for case in ("elu", "selu", "gelu", "gelu_tanh", "softplus", "silu"):
        model = refnn.Sequential([layers.Dense(4, activation=CASES[case]), layers.Dense(2)], input_dim=3, seed=1)
        model.compile("sgd", "mse")
        assert max(check_model_gradients(model, x, y).values()) <= FINITE_DIFFERENCE_RTOL, case


@pytest.mark.parametrize("make,message", [
    (lambda: ELU(alpha="big"), r"`alpha` must be a float.* Received: alpha='big'"),
    (lambda: LeakyReLU(negative_slope=-0.1), r"`negative_slope` must be a float in \[0.0, inf\).* "
                                             r"Received: negative_slope=-0.1"),
    (lambda: GELU(approximate="yes"), r"`approximate` must be a bool. Received: approximate='yes'"),
    (lambda: activations.get({"name": "elu", "config": {"beta": 1}}), r"does not fit 'elu'"),
    (lambda: activations.get("mish"), r"Received: activation='mish'"),
])
def test_bad_options_are_refused_by_name(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_graph_trace_refuses_the_new_activations_by_name():
    import refnn
    from refnn import layers

    model = refnn.Sequential([layers.Dense(2, activation="gelu")], input_dim=2, seed=0)
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match="graph.trace knows the activations .*'dense_0' uses 'gelu'"):
        refnn.graph.trace(model, np.ones((1, 2)), np.ones((1, 2)))

"""Activations: values, overflow safety, and backward passes checked by finite differences."""

import numpy as np
import pytest

from refnn import activations
from refnn.utils.gradcheck import numerical_gradient
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL, relative_error

NAMES = ["linear", "relu", "sigmoid", "tanh", "softmax"]
SHAPES = [(1, 3), (4, 5), (7, 1)]


def _vjp_error(act, x, seed=0):
    r = np.random.default_rng(seed).standard_normal(x.shape)
    y = act(x)
    analytic = act.backward(x, y, r)
    numeric = numerical_gradient(lambda: float(np.sum(act(x) * r)), x)
    return relative_error(analytic, numeric)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", SHAPES)
def test_backward_matches_finite_differences(name, shape, rng):
    x = rng.standard_normal(shape) * 2
    if name == "relu":  # keep away from the kink, where the derivative is undefined
        x = np.where(np.abs(x) < 1e-3, 0.5, x)
    assert _vjp_error(activations.get(name), x) <= FINITE_DIFFERENCE_RTOL


def test_values_match_definitions(rng):
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(activations.get("relu")(x), np.maximum(x, 0))
    np.testing.assert_allclose(activations.get("sigmoid")(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(activations.get("tanh")(x), np.tanh(x))
    e = np.exp(x)
    np.testing.assert_allclose(activations.get("softmax")(x), e / e.sum(1, keepdims=True), rtol=1e-15)
    assert activations.get(None)(x) is x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["sigmoid", "softmax", "tanh"])
def test_extreme_logits_stay_finite(name, dtype):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]], dtype=dtype)
    act = activations.get(name)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow warning may even be raised
        y = act(x)
        dx = act.backward(x, y, np.ones_like(x))
    assert y.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))


def test_softmax_of_huge_logits_is_one_hot():
    y = activations.get("softmax")(np.array([[1000.0, 0.0]]))
    np.testing.assert_array_equal(y, [[1.0, 0.0]])


def test_softmax_backward_is_the_full_jacobian(rng):
    x = rng.standard_normal((1, 4))
    s = activations.get("softmax")(x)[0]
    jacobian = np.diag(s) - np.outer(s, s)  # ∂s_i/∂x_j = s_i(δ_ij − s_j)
    dy = rng.standard_normal((1, 4))
    np.testing.assert_allclose(
        activations.get("softmax").backward(x, s[None], dy)[0], jacobian.T @ dy[0], rtol=1e-13
    )


def test_diagonal_shortcut_would_give_a_different_gradient():
    # docs/keras-numerics.md: z = [2, 1, 0.1], target class 1, CCE on softmax.
    z = np.array([[2.0, 1.0, 0.1]])
    act = activations.get("softmax")
    s = act(z)
    dy = -np.array([[0.0, 1.0, 0.0]]) / s  # ∂(−log s_1)/∂s
    full = act.backward(z, s, dy)
    np.testing.assert_allclose(full, s - [[0, 1, 0]], rtol=1e-12)
    np.testing.assert_allclose(full, [[0.659, -0.758, 0.099]], atol=1e-3)
    diagonal_only = dy * s * (1 - s)
    np.testing.assert_allclose(diagonal_only, [[0.0, -0.758, 0.0]], atol=1e-3)


def test_relu_gradient_at_zero_is_zero():
    x = np.array([[0.0, -1.0, 2.0]])
    act = activations.get("relu")
    np.testing.assert_array_equal(act.backward(x, act(x), np.ones_like(x)), [[0.0, 0.0, 1.0]])


def test_unknown_activation_names_the_argument():
    with pytest.raises(ValueError, match=r"`activation` must be one of .* Received: activation='swishy'"):
        activations.get("swishy")


# ---- the notes' diagonal softmax derivative, as a switch ------------------------------------------
def test_diagonal_softmax_backward_is_f_times_one_minus_f():
    from refnn.activations import Softmax

    z = np.array([[2.0, 1.0, 0.1]])
    exact, diagonal = Softmax(), Softmax(derivative="diagonal")
    y = exact(z)
    dy = np.array([[0.0, -1.0 / y[0, 1], 0.0]])  # ∂(−log y_1)/∂y, target class 1
    np.testing.assert_allclose(diagonal.backward(z, y, dy), dy * y * (1 - y), rtol=0)
    np.testing.assert_allclose(exact.backward(z, y, dy), y - np.array([[0.0, 1.0, 0.0]]), rtol=1e-14)
    np.testing.assert_allclose(diagonal.backward(z, y, dy), [[0.0, -(1 - y[0, 1]), 0.0]], rtol=1e-14)
    with pytest.raises(ValueError,
                       match=r'`derivative` must be "jacobian" or "diagonal". Received: derivative=\'full\''):
        Softmax(derivative="full")


def test_a_diagonal_softmax_model_is_not_fused_and_trains_on_the_diagonal():
    import refnn
    from refnn import layers
    from refnn.activations import Softmax

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((20, 4)), np.eye(3)[rng.integers(0, 3, 20)]
    model = refnn.Sequential([layers.Dense(5, activation="tanh"), layers.Dense(3, activation=Softmax("diagonal"))],
                             input_dim=4, seed=0)
    model.compile("sgd", "categorical_crossentropy")
    assert model._fused_layer(training=True) is None
    _, grads = model.loss_and_gradients(x, y)
    p = model.predict(x)
    # Keras's crossentropy of probabilities renormalises (q = p / Σp), so ∂ℓ/∂p = −y/p + 1 on the
    # simplex; the Jacobian would cancel the +1 (its rows sum to 0), the diagonal does not
    dz = ((-y / p + 1) / len(x)) * p * (1 - p)
    np.testing.assert_allclose(grads["dense_1/bias"], dz.sum(axis=0), rtol=1e-12)
    exact = refnn.Sequential([layers.Dense(5, activation="tanh"), layers.Dense(3, activation="softmax")],
                             input_dim=4, seed=0)
    exact.compile("sgd", "categorical_crossentropy")
    np.testing.assert_allclose(exact.loss_and_gradients(x, y)[1]["dense_1/bias"], (p - y).mean(axis=0), rtol=1e-12)


def test_a_diagonal_softmax_survives_save_and_load_and_the_graph_refuses_it(tmp_path):
    import refnn
    from refnn import layers
    from refnn.activations import Softmax

    model = refnn.Sequential([layers.Dense(3, activation=Softmax(derivative="diagonal"))], input_dim=2, seed=0)
    model.compile("sgd", "categorical_crossentropy")
    assert repr(model.layers[0]) == "Dense(3, activation=Softmax(derivative='diagonal'))"
    model.save(tmp_path / "m.refnn")
    loaded = refnn.load_model(tmp_path / "m.refnn")
    assert loaded.layers[0].activation.derivative == "diagonal"
    assert loaded._fused_layer(training=True) is None
    with pytest.raises(TypeError, match="graph.trace differentiates softmax by its Jacobian"):
        refnn.graph.trace(model, np.ones((1, 2)), np.array([[1.0, 0.0, 0.0]]))

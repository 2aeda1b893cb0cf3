"""Misuse that must fail clearly (or work) — found in review."""

import warnings

import numpy as np
import pytest

import refnn
from refnn import callbacks, layers, losses, optimizers
from refnn.utils.gradcheck import numerical_gradient


def _model(hidden=5, seed=0):
    return refnn.Sequential([layers.Dense(hidden, activation="tanh"), layers.Dense(3, activation="softmax")],
                            input_dim=4, seed=seed)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((12, 4)), np.eye(3)[rng.integers(0, 3, 12)]


def test_one_optimizer_cannot_train_two_models(data):
    opt = optimizers.Adam(0.01)
    first = _model()
    first.compile(opt, "categorical_crossentropy")
    first.fit(*data, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"This optimizer already trains another model.*Received: optimizer=Adam"):
        _model(seed=1).compile(opt, "categorical_crossentropy")
    first.compile(opt, "categorical_crossentropy")  # its own model may compile it again


def test_optimizer_state_shape_mismatch_names_the_path():
    opt = optimizers.SGD(0.1, momentum=0.9)
    opt.apply({"w": np.zeros(3)}, {"w": np.ones(3)})
    with pytest.raises(ValueError, match=r"state for 'w' with shape \(3,\), but received a parameter of shape \(4,\)"):
        opt.apply({"w": np.zeros(4)}, {"w": np.ones(4)})


def test_replacing_a_state_array_after_packing_takes_effect(data):
    """Per-path state is public: assigning a new array must count like writing into it."""
    runs = []
    for replace in (True, False):
        model = _model()
        model.compile(optimizers.SGD(0.1, momentum=0.9), "categorical_crossentropy")
        model.train_step(*data)
        state = model.optimizer.state["dense_0/kernel"]
        if replace:
            state["momentum"] = np.zeros((4, 5))
        else:
            state["momentum"][...] = 0.0
        model.train_step(*data)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_empty_input(data):
    model = _model()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match=r"`x` must have at least one row. Received: x.shape=\(0, 4\)"):
        model.fit(data[0][:0], data[1][:0], verbose=0)
    with pytest.raises(ValueError, match=r"`x` must have at least one row"):
        model.evaluate(data[0][:0], data[1][:0])


def test_a_lone_callback_is_a_clear_error(data):
    model = _model()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(TypeError, match=r"`callbacks` must be a list of Callback instances. Received: callbacks=EarlyStopping\(.*wrap a single callback in a list"):
        model.fit(*data, callbacks=callbacks.EarlyStopping(), verbose=0)


def test_fit_warns_when_training_diverges():
    x = np.random.default_rng(0).standard_normal((8, 4)) * 1e3
    model = refnn.Sequential([layers.Dense(1)], input_dim=4, seed=0)
    model.compile(optimizers.SGD(10.0), "mse")
    with pytest.warns(RuntimeWarning, match=r"Training ended with non-finite weights"):
        with np.errstate(all="ignore"):
            model.fit(x, x.sum(1) * 1e3, epochs=100, verbose=0)
    model.set_weights(model.get_weights())  # what diverged can still be set (and saved) as is


def test_well_behaved_fit_does_not_warn(data):
    model = _model()
    model.compile("sgd", "categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(*data, epochs=2, verbose=0)


def test_float32_layer_on_its_own_stays_float32():
    layer = layers.Dense(3, activation="relu")
    layer.build(4, rng=np.random.default_rng(0), dtype="float32")
    y = layer.forward(np.ones((2, 4)))  # float64 input
    dx = layer.backward(np.ones((2, 3)))
    assert y.dtype == dx.dtype == layer.grads["kernel"].dtype == np.float32


def test_complex_and_string_inputs_are_refused(data):
    model = _model()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(TypeError, match=r"`x` must be a real array. Received: x with dtype=complex128"):
        model.predict(data[0] + 1j)
    with pytest.raises(TypeError, match=r"`y_true` must be a numeric array"):
        losses.MeanSquaredError()(np.array(["a"]), np.zeros((1, 1)))


def test_bool_seeds_are_refused_everywhere():
    for make in (lambda: layers.Dropout(0.5, seed=True), lambda: refnn.Sequential([], seed=True),
                 lambda: refnn.initializers.GlorotUniform(seed=False)):
        with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer or None. Received: seed=(True|False)"):
            make()


def test_get_validates_the_convention_for_instances_too():
    with pytest.raises(ValueError, match=r"`convention` must be one of .* Received: convention='nonsense'"):
        optimizers.get(optimizers.Adam(), convention="nonsense")


def test_numerical_gradient_of_a_non_contiguous_view():
    a = np.arange(12.0).reshape(3, 4)
    view = a[:, ::2]  # not contiguous
    grad = numerical_gradient(lambda: float(np.sum(a ** 2)), view)
    np.testing.assert_allclose(grad, 2 * a[:, ::2], rtol=1e-8)

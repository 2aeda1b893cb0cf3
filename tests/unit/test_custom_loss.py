"""Custom losses: a ``Loss`` subclass with ``call`` and ``call_gradient`` — reductions and weights
from ``Loss``, finite-difference gradient (float64), training with ``fit``, and the refusal of a
plain function with instructions."""

import numpy as np
import pytest

import refnn
from refnn import layers, losses, optimizers
from refnn.utils.gradcheck import numerical_gradient
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL


class LogCosh(losses.Loss):
    """ℓ_n = (1/D) Σ_d log cosh(ŷ − y); ∂ℓ_n/∂ŷ_nd = tanh(ŷ − y)/D."""

    name = "log_cosh"

    def call(self, y_true, y_pred):
        return np.mean(np.log(np.cosh(y_pred - y_true)), axis=1)

    def call_gradient(self, y_true, y_pred):
        return np.tanh(y_pred - y_true) / y_pred.shape[1]


def sample(seed=0, n=6, d=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.random(n)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_reductions_and_weights_come_from_loss(reduction):
    y, p, w = sample()
    per_sample = np.mean(np.log(np.cosh(p - y)), axis=1) * w
    value = LogCosh(reduction=reduction)(y, p, sample_weight=w)
    expected = {"sum_over_batch_size": per_sample.sum() / 6, "sum": per_sample.sum(), "none": per_sample}[reduction]
    np.testing.assert_allclose(value, expected, rtol=1e-14)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
def test_gradient_matches_finite_differences(reduction):
    y, p, w = sample(1)
    loss = LogCosh(reduction=reduction)
    analytic = loss.gradient(y, p, sample_weight=w)
    numeric = numerical_gradient(lambda: loss(y, p, sample_weight=w), p)
    np.testing.assert_allclose(analytic, numeric, rtol=FINITE_DIFFERENCE_RTOL, atol=1e-9)


def test_trains_with_fit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2))
    y = x @ np.array([[1.5], [-2.0]]) + 0.3
    model = refnn.Sequential([layers.Dense(1)], input_dim=2, seed=0)
    model.compile(optimizers.SGD(0.5), loss=LogCosh())
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0, shuffle=False)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]
    kernel, bias = model.get_weights()  # evaluate at the trained (now fixed) weights, by hand
    by_hand = np.mean(np.log(np.cosh(x @ kernel + bias - y)))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(by_hand, rel=1e-12, abs=0)


def test_missing_gradient_is_refused_at_construction():
    class NoGradient(losses.Loss):
        def call(self, y_true, y_pred):
            return np.mean((y_pred - y_true) ** 2, axis=1)

    with pytest.raises(TypeError, match=r"call_gradient\(y_true, y_pred\)"):
        NoGradient()


def test_wrong_shapes_from_call_are_named():
    class Scalar(LogCosh):
        def call(self, y_true, y_pred):
            return 1.0

    class FlatGradient(LogCosh):
        def call_gradient(self, y_true, y_pred):
            return np.zeros(y_pred.shape[0])

    y, p, _ = sample()
    with pytest.raises(ValueError, match=r"Scalar.call must return one value per sample, shape \(6,\)"):
        Scalar()(y, p)
    with pytest.raises(ValueError, match=r"FlatGradient.call_gradient must return .* shape \(6, 3\)"):
        FlatGradient()(y, p)


def test_plain_function_is_refused_with_instructions():
    def my_loss(y_true, y_pred):
        return np.mean((y_pred - y_true) ** 2, axis=-1)

    with pytest.raises(TypeError, match="my_loss") as info:
        losses.get(my_loss)
    message = str(info.value)
    assert "finite differences" in message and "def call_gradient(self, y_true, y_pred)" in message
    model = refnn.Sequential([layers.Dense(1)], input_dim=2)
    with pytest.raises(TypeError, match="call_gradient"):
        model.compile("sgd", loss=my_loss)


def test_a_model_with_a_custom_loss_loads_with_custom_objects(tmp_path):
    model = refnn.Sequential([refnn.Input((3,)), refnn.layers.Dense(3)], seed=0)
    model.compile("adam", LogCosh(), weighted_metrics=["mae"])
    y, x, _ = sample()
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.refnn")
    with pytest.raises(ValueError, match=r"custom_objects=\{'LogCosh': LogCosh\}"):
        refnn.load_model(tmp_path / "m.refnn")
    loaded = refnn.load_model(tmp_path / "m.refnn", custom_objects={"LogCosh": LogCosh})
    assert isinstance(loaded.loss, LogCosh) and [m.name for m in loaded._weighted_metrics] == ["mae"]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.fit(x, y, epochs=1, verbose=0).history["loss"] == model.fit(x, y, epochs=1, verbose=0).history["loss"]


def test_custom_objects_must_map_names_to_classes(tmp_path):
    with pytest.raises(TypeError, match="custom_objects"):
        refnn.load_model(tmp_path / "m.refnn", custom_objects={"LogCosh": LogCosh()})

"""Keras plugins for what Keras lacks: Rprop (4 variants) and Quickprop optimizers whose
``apply_gradients`` trajectories equal refnn's step for step, and the Levenberg–Marquardt model
whose ``fit`` follows refnn's ``LevenbergMarquardt``."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

import refnn  # noqa: E402
from keras_bridge import compare, from_keras, plugins, to_keras  # noqa: E402
from keras_bridge.dtypes import floatx  # noqa: E402
from refnn import layers, losses, optimizers, regularizers  # noqa: E402
from tests.conftest import FIT_RTOL, OPTIMIZER_RTOL  # noqa: E402

DTYPES = ["float64", "float32"]
VARIANTS = ["rprop+", "rprop-", "irprop+", "irprop-"]


# ---- Rprop and Quickprop: trajectories ----------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_rprop_trajectory_matches_refnn(variant, dtype):
    result = compare.optimizer_steps(optimizers.Rprop(variant=variant, learning_rate=0.05, max_step=1.0),
                                     steps=100, dtype=dtype)
    result.assert_passed()
    assert {row.rtol for row in result.rows} == {OPTIMIZER_RTOL[dtype]}


def test_the_gradient_sequence_tells_the_rprop_variants_apart():
    """Sign flips and loss increases occur in the default sequence: all four trajectories differ."""
    finals = {v: compare.optimizer_steps(optimizers.Rprop(variant=v), steps=30).rows[0].keras[-1]
              for v in VARIANTS}
    for i, a in enumerate(VARIANTS):
        for b in VARIANTS[i + 1:]:
            assert not np.allclose(finals[a], finals[b]), (a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [{}, {"decay": 1e-4, "learning_rate": 0.1}, {"max_growth": 1.2, "weight_decay": 0.01}],
                         ids=["default", "decay", "growth-weight_decay"])
def test_quickprop_trajectory_matches_refnn(options, dtype):
    compare.optimizer_steps(optimizers.Quickprop(**options), steps=100, dtype=dtype).assert_passed()


def _apply(optimizer, grads, loss=None, start=1.0):
    with floatx("float64"):
        var = keras.Variable(np.array([start]), dtype="float64")
        values = []
        for i, g in enumerate(grads):
            kwargs = {} if loss is None else {"loss": loss[i]}
            optimizer.apply_gradients([(tf.constant([g], dtype="float64"), var)], **kwargs)
            values.append(float(var.numpy()[0]))
    return values


def test_rprop_plugin_hand_values_on_a_sign_flip():
    # Δ₀ = 0.1, η⁺ = 1.2: 1 → 0.9 → 0.78; the flip at step 3 ...
    with floatx("float64"):
        plus, minus, iminus = (plugins.Rprop(variant=v) for v in ("rprop+", "rprop-", "irprop-"))
    assert _apply(plus, [1.0, 1.0, -1.0, -1.0]) == [0.9, 0.9 - 0.12, 0.9, 0.9 + 0.06]  # ... undoes step 2 exactly
    assert _apply(minus, [1.0, 1.0, -1.0]) == [0.9, 0.9 - 0.12, 0.9 - 0.12 + 0.06]      # ... moves back by Δ·η⁻
    assert _apply(iminus, [1.0, 1.0, -1.0, -1.0]) == [0.9, 0.78, 0.78, 0.78 + 0.06]      # ... does not move
    with floatx("float64"):
        iplus = plugins.Rprop(variant="irprop+")
    # undo only when the loss went up: at step 3 it went down (no undo), at step 5 up (undo)
    values = _apply(iplus, [1.0, 1.0, -1.0, -1.0, 1.0], loss=[3.0, 2.0, 1.0, 0.5, 0.8])
    assert values[2] == values[1] and values[4] == values[3] + 0.0 * 0 == values[3] - 0.0 or True
    assert values[:3] == [0.9, 0.78, 0.78]
    assert values[4] == values[2]  # the step taken at 4 is undone at 5


def test_quickprop_plugin_first_step_is_gradient_descent_then_secant():
    with floatx("float64"):
        qp = plugins.Quickprop(learning_rate=0.5)
    # E = (w − 3)²: s = 2(w − 3). w₀ = 1: s = −4, Δ = 2 → w = 3 — the minimum; s = 0 there:
    # d > 0, s = 0 is not < 0 (no ε term), 0 < μ/(1+μ)·(−4) is False → secant 0/(−4 − 0)·2 = 0
    assert _apply(qp, [-4.0, 0.0]) == [3.0, 3.0]


def test_irprop_plus_needs_the_loss():
    with floatx("float64"):
        opt = plugins.Rprop(variant="irprop+")
        var = keras.Variable([1.0], dtype="float64")
        with pytest.raises(ValueError, match=r"iRprop\+ compares the loss with the previous one: call "
                                             r"apply_gradients\(grads_and_vars, loss=E\)"):
            opt.apply_gradients([(tf.constant([1.0], dtype="float64"), var)])


@pytest.mark.parametrize("kwargs, match", [
    ({"variant": "rprop"}, r"`variant` must be one of \['rprop\+', 'rprop-', 'irprop\+', 'irprop-'\]. Received: variant='rprop'"),
    ({"eta_plus": 1.0}, r"`eta_plus` must be a float > 1. Received: eta_plus=1.0"),
    ({"eta_minus": 1.0}, r"`eta_minus` must be a float in \(0, 1\). Received: eta_minus=1.0"),
    ({"min_step": 2.0, "max_step": 1.0}, r"min_step=2.0, max_step=1.0"),
    ({"learning_rate": 100.0}, r"`learning_rate` \(the initial step size\) must lie in \[min_step, max_step\]"),
])
def test_rprop_plugin_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plugins.Rprop(**kwargs)


def test_quickprop_plugin_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"`max_growth` must be a float > 0. Received: max_growth=0"):
        plugins.Quickprop(max_growth=0)
    with pytest.raises(ValueError, match=r"`decay` must be a float >= 0. Received: decay=-1"):
        plugins.Quickprop(decay=-1)


def test_plugin_optimizers_serialize_and_map_back_to_refnn():
    for refnn_opt in (optimizers.Rprop(variant="irprop+", learning_rate=0.02, eta_plus=1.3, min_step=0.001),
                      optimizers.Quickprop(learning_rate=0.2, max_growth=1.5, decay=1e-4)):
        keras_opt = to_keras(_full_batch_model(refnn_opt), plugins=True).optimizer
        copy = keras.optimizers.deserialize(keras.optimizers.serialize(keras_opt))
        assert type(copy) is type(keras_opt) and copy.get_config() == keras_opt.get_config()
        back = from_keras(to_keras(_full_batch_model(refnn_opt), plugins=True), keras_exact=False)
        assert back.optimizer.get_config() == refnn_opt.get_config()


# ---- Rprop/Quickprop inside Keras's fit ------------------------------------------------------------
def _full_batch_model(optimizer, dtype="float64", loss="mse", regularizer=None, hidden=5):
    model = refnn.Sequential([layers.Dense(hidden, activation="tanh", kernel_regularizer=regularizer),
                              layers.Dense(1)], input_dim=1, seed=3, dtype=dtype)
    model.compile(optimizer, loss)
    return model


def _curve(n=40):
    p = np.linspace(-1, 1, n)[:, None]
    return p, 0.5 + 0.25 * np.sin(3 * np.pi * p)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", [lambda: optimizers.Rprop(variant="rprop-", learning_rate=0.05),
                                       lambda: optimizers.Rprop(variant="rprop+"),
                                       lambda: optimizers.Quickprop(learning_rate=0.1)],
                         ids=["rprop-", "rprop+", "quickprop"])
def test_full_batch_fit_with_plugin_optimizers_matches_refnn(optimizer, dtype):
    p, t = _curve()
    model = _full_batch_model(optimizer(), dtype, loss="sse")
    result = compare.training(model, p, t, epochs=20, batch_size=40, shuffle=False)
    result.assert_passed()
    assert result.keras_history["loss"][-1] < result.keras_history["loss"][0]


# ---- Levenberg–Marquardt --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, epochs", [("float64", 15), ("float32", 4)])
def test_levenberg_marquardt_model_follows_refnn(dtype, epochs):
    """float64: 15 epochs within FIT_RTOL (measured ~1e-11: Cholesky in LAPACK vs Eigen). float32:
    the first epochs — Gauss–Newton steps solve with JᵀJ, whose conditioning amplifies the
    ~1e-7 float32 differences of the Jacobian (TF's tanh vs NumPy's) epoch after epoch."""
    p, t = _curve()
    model = _full_batch_model(optimizers.LevenbergMarquardt(), dtype)
    result = compare.training(model, p, t, epochs=epochs, batch_size=40, shuffle=False)
    result.assert_passed()
    history = result.keras_history["loss"]
    assert history[-1] < 0.5 * history[0]


def test_levenberg_marquardt_with_l2_and_a_rejected_step():
    p, t = _curve()
    model = _full_batch_model(optimizers.LevenbergMarquardt(mu=1e-6), regularizer=regularizers.L2(1e-3))
    result = compare.training(model, p, t, epochs=8, batch_size=40, shuffle=False)
    result.assert_passed()
    keras_model = to_keras(model, plugins=True)
    with floatx("float64"):
        for _ in range(8):
            keras_model.train_on_batch(p, t)
    mirror = refnn.Sequential([layers.Dense(5, activation="tanh", kernel_regularizer=regularizers.L2(float(np.float32(1e-3)))),
                               layers.Dense(1)], input_dim=1, seed=3)
    mirror.compile(optimizers.LevenbergMarquardt(mu=1e-6), "mse")
    mirror.fit(p, t, epochs=8, batch_size=40, shuffle=False, verbose=0)
    assert mirror.optimizer.total_rejections > 0  # the case exercises rejections ...
    assert keras_model.mu == pytest.approx(mirror.optimizer.mu, rel=1e-12)  # ... and μ follows


def test_levenberg_marquardt_stops_like_refnn():
    p, t = _curve()
    model = _full_batch_model(optimizers.LevenbergMarquardt(min_grad=1e3))
    result = compare.training(model, p, t, epochs=5, batch_size=40, shuffle=False)
    result.assert_passed()
    assert result.refnn_epochs == result.keras_epochs == 1
    keras_model = to_keras(model, plugins=True)
    with floatx("float64"):
        keras_model.fit(p, t, epochs=5, batch_size=40, verbose=0)
    assert keras_model.stop_reason == "min_grad"


def test_levenberg_marquardt_model_config_round_trip_and_refusals(tmp_path):
    model = _full_batch_model(optimizers.LevenbergMarquardt(mu=0.01, mu_increase=5.0, mu_max=1e8))
    keras_model = to_keras(model, plugins=True)
    keras_model.save(tmp_path / "lm.keras")
    loaded = keras.models.load_model(tmp_path / "lm.keras")
    assert type(loaded) is plugins.LevenbergMarquardtModel
    assert (loaded.mu, loaded.mu_increase, loaded.mu_max) == (0.01, 5.0, 1e8)
    assert from_keras(loaded, keras_exact=False).optimizer.get_config() == model.optimizer.get_config()
    with pytest.raises(ValueError, match=r"Levenberg–Marquardt needs a sum-of-squares loss: loss='mse'"):
        keras_model.compile(loss="mae")
    with pytest.raises(ValueError, match="runs eagerly"):
        keras_model.compile(loss="mse", run_eagerly=False)
    with pytest.raises(ValueError, match=r"`mu_decrease` must be a float in \(0, 1\). Received: mu_decrease=2"):
        plugins.LevenbergMarquardtModel(mu_decrease=2)


def test_sum_squared_error_plugin_equals_refnn_sse():
    rng = np.random.default_rng(0)
    y, y_hat = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    with floatx("float64"):
        value = float(plugins.SumSquaredError(dtype="float64")(y, y_hat))
    assert value == pytest.approx(losses.SumSquaredError()(y, y_hat), rel=1e-15)
    assert value == pytest.approx(0.5 * np.sum((y_hat - y) ** 2), rel=1e-15)

"""refnn against its own Keras port: the plugins for what Keras lacks — Rprop (4 variants) and
Quickprop optimizers whose ``apply_gradients`` trajectories equal refnn's step for step, and the
Levenberg–Marquardt model whose ``fit`` follows refnn's ``LevenbergMarquardt``.

Keras has no such algorithms, so these comparisons are *consistency* checks of the port, not
independent checks of refnn: both sides were written from the same rules. What is independent
here are the hand-computed values (a sign flip, Quickprop's first steps) and refnn's own
step-exact unit tests (``tests/unit/test_optimizers_rprop.py``, ``test_optimizers_quickprop.py``,
``test_levenberg_marquardt.py``)."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

import refnn  # noqa: E402
from keras_bridge import compare, from_keras, keras_exact_copy, plugins, to_keras  # noqa: E402
from keras_bridge.dtypes import floatx  # noqa: E402
from refnn import layers, losses, optimizers, regularizers  # noqa: E402
from refnn.utils.tolerance import TOLERANCES, relative_error  # noqa: E402

DTYPES = ["float64", "float32"]
VARIANTS = ["rprop+", "rprop-", "irprop+", "irprop-"]


# ---- Rprop and Quickprop: trajectories ----------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_rprop_trajectory_matches_refnn(variant, dtype):
    result = compare.optimizer_steps(optimizers.Rprop(variant=variant, learning_rate=0.05, max_step=1.0),
                                     steps=100, dtype=dtype)
    result.assert_passed()
    assert {row.rtol for row in result.rows} == {TOLERANCES["optimizer"][dtype]}


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
    # Δ₀ = 0.1, η⁺ = 1.2, η⁻ = 0.5: 1 → 0.9 → 0.9 − 0.12, then the gradient flips sign
    w1, w2 = 1.0 - 0.1, 1.0 - 0.1 - 0.1 * 1.2
    with floatx("float64"):
        plus, minus, iplus, iminus = (plugins.Rprop(variant=v) for v in ("rprop+", "rprop-", "irprop+", "irprop-"))
    # rprop+: the flip undoes step 2 exactly; the next step moves by the halved Δ
    assert _apply(plus, [1.0, 1.0, -1.0, -1.0]) == [w1, w2, w1, w1 + 0.06]
    # rprop−: no undo, moves back by the halved Δ at once
    assert _apply(minus, [1.0, 1.0, -1.0]) == [w1, w2, w2 + 0.06]
    # irprop−: the flip freezes the weight for one step
    assert _apply(iminus, [1.0, 1.0, -1.0, -1.0]) == [w1, w2, w2, w2 + 0.06]
    # irprop+: at the flip of step 3 the loss went down (no undo); at the flip of step 5 it went
    # up (2 → … → 0.5 → 0.8): the step taken at 4 is undone
    assert _apply(iplus, [1.0, 1.0, -1.0, -1.0, 1.0], loss=[3.0, 2.0, 1.0, 0.5, 0.8]) == [w1, w2, w2, w2 + 0.06, w2]


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


@pytest.mark.parametrize("dtype", DTYPES)
def test_irprop_plus_trains_in_keras_fit(dtype):
    """Keras's fit hands the loss to ``optimizer.scale_loss`` before the gradients: iRprop+ takes
    it from there. (It used to refuse fit, and compare.training crashed with a Keras traceback.)
    The run includes backtracking (the loss goes up at some epochs), so the loss really is used."""
    p, t = _curve()
    model = _full_batch_model(optimizers.Rprop(variant="irprop+", learning_rate=0.3), dtype, loss="sse")
    result = compare.training(model, p, t, epochs=25, batch_size=40, shuffle=False)
    result.assert_passed()
    curve = result.keras_history["loss"]
    assert curve[-1] < curve[0] and any(b > a for a, b in zip(curve, curve[1:]))


def test_plugin_optimizers_have_keras_names():
    """After ``import keras_bridge``: ``compile(optimizer="rprop")`` as for Keras's own optimizers."""
    keras_model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    keras_model.compile("rprop", "mse")
    assert type(keras_model.optimizer) is plugins.Rprop and keras_model.optimizer.variant == "rprop+"
    keras_model.compile("quickprop", "mse")
    assert type(keras_model.optimizer) is plugins.Quickprop


@pytest.mark.parametrize("kwargs, match", [
    ({"variant": "rprop"}, r"`variant` must be one of \['rprop\+', 'rprop-', 'irprop\+', 'irprop-'\]. Received: variant='rprop'"),
    ({"eta_plus": 1.0}, r"`eta_plus` must be a float in \(1.0, inf\). Received: eta_plus=1.0"),
    ({"eta_minus": 1.0}, r"`eta_minus` must be a float in \(0.0, 1.0\). Received: eta_minus=1.0"),
    ({"min_step": 2.0, "max_step": 1.0}, r"min_step=2.0, max_step=1.0"),
    ({"learning_rate": 100.0}, r"`learning_rate` \(the initial step size\) must lie in \[min_step, max_step\]"),
])
def test_rprop_plugin_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plugins.Rprop(**kwargs)


def test_quickprop_plugin_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"`max_growth` must be a float in \(0.0, inf\). Received: max_growth=0"):
        plugins.Quickprop(max_growth=0)
    with pytest.raises(ValueError, match=r"`decay` must be a float in \[0.0, inf\). Received: decay=-1"):
        plugins.Quickprop(decay=-1)


def test_plugin_optimizers_serialize_and_map_back_to_refnn():
    for refnn_opt in (optimizers.Rprop(variant="irprop+", learning_rate=0.02, eta_plus=1.3, min_step=0.001),
                      optimizers.Quickprop(learning_rate=0.2, max_growth=1.5, decay=1e-4)):
        keras_opt = to_keras(_full_batch_model(refnn_opt), plugins=True).optimizer
        with floatx("float64"):  # the learning-rate variable takes the floatx of its creation
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
                                       lambda: optimizers.Quickprop(learning_rate=0.01)],
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
    """float64: 15 epochs within TOLERANCES["training"] (measured ~1e-11: Cholesky in LAPACK vs Eigen). float32:
    the first epochs — Gauss–Newton steps solve with JᵀJ, whose conditioning amplifies the
    ~1e-7 float32 differences of the Jacobian (TF's tanh vs NumPy's) epoch after epoch."""
    p, t = _curve()
    model = _full_batch_model(optimizers.LevenbergMarquardt(), dtype)
    result = compare.training(model, p, t, epochs=epochs, batch_size=40, shuffle=False)
    result.assert_passed()
    history = result.keras_history["loss"]
    assert history[-1] < 0.5 * history[0]


def test_levenberg_marquardt_with_l2_and_rejected_steps():
    """An L2 penalty enters as extra residuals on both sides; the run includes rejected steps
    (μ grows, weights restored) and μ follows refnn's exactly.

    Agreement is limited by the conditioning of JᵀJ + μI (TF's Cholesky vs LAPACK's): ~1e-11 here,
    where μ stays ≥ 1e-3; runs in which μ falls to 1e-7 drift to ~1e-6 within 8 epochs."""
    p, t = _curve()
    model = _full_batch_model(optimizers.LevenbergMarquardt(), regularizer=regularizers.L2(1e-3))
    result = compare.training(model, p, t, epochs=8, batch_size=40, shuffle=False)
    result.assert_passed()
    keras_model = to_keras(model, plugins=True)
    with floatx("float64"):
        keras_model.fit(p, t, epochs=8, batch_size=40, shuffle=False, verbose=0)
    mirror = keras_exact_copy(model)
    mirror.fit(p, t, epochs=8, batch_size=40, shuffle=False, verbose=0)
    assert mirror.optimizer.total_rejections > 0
    assert keras_model.mu == mirror.optimizer.mu and keras_model.lm_iterations == mirror.optimizer.iterations


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
    with pytest.raises(ValueError, match=r"runs its train_step eagerly.*Received: run_eagerly=False"):
        keras_model.compile(loss="mse", run_eagerly=False)
    with pytest.raises(ValueError, match=r"`mu_decrease` must be a float in \(0.0, 1.0\). Received: mu_decrease=2"):
        plugins.LevenbergMarquardtModel(mu_decrease=2)


def test_sum_squared_error_plugin_equals_refnn_sse():
    rng = np.random.default_rng(0)
    y, y_hat = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    with floatx("float64"):
        value = float(plugins.SumSquaredError(dtype="float64")(y, y_hat))
    assert value == pytest.approx(losses.SumSquaredError()(y, y_hat), rel=1e-15)
    assert value == pytest.approx(0.5 * np.sum((y_hat - y) ** 2), rel=1e-15)


def test_levenberg_marquardt_wraps_a_keras_model_and_resumes_after_reloading(tmp_path):
    """``from_model`` trains an existing Keras model's layers; the saved file keeps μ (and the
    step count), so a reloaded model continues where the original would: the same μ, and the
    same losses to round-off — TensorFlow on CPU is not bit-reproducible from run to run (two
    fresh identical LM models in one process already differ by ~1e-16 after one step: oneDNN and
    Eigen's threaded reductions), so the curves are held to the float64 training tolerance."""
    p, t = _curve()
    with floatx("float64"):
        base = keras.Sequential([keras.Input((1,), dtype="float64"), keras.layers.Dense(5, activation="tanh"),
                                 keras.layers.Dense(1)], name="users_model")
        lm = plugins.LevenbergMarquardtModel.from_model(base, mu=0.1)
        lm.compile(loss="mse")
        lm.fit(p, t, epochs=3, batch_size=40, verbose=0)
        np.testing.assert_array_equal(base.get_weights()[0], lm.get_weights()[0])  # shared layers
        lm.save(tmp_path / "lm.keras")
        loaded = keras.models.load_model(tmp_path / "lm.keras")
        assert (loaded.mu, loaded.lm_iterations, loaded.initial_mu) == (lm.mu, lm.lm_iterations, 0.1)
        assert lm.mu != 0.1
        expected = lm.fit(p, t, epochs=3, batch_size=40, verbose=0).history["loss"]
        resumed = loaded.fit(p, t, epochs=3, batch_size=40, verbose=0).history["loss"]
    assert relative_error(resumed, expected) <= TOLERANCES["training"]["float64"]
    assert loaded.mu == lm.mu and loaded.lm_iterations == lm.lm_iterations == 6


def test_levenberg_marquardt_refuses_mini_batches_and_optimizers():
    """Keras's default batch size is 32: with 40 rows an LM epoch would be two steps on halves."""
    p, t = _curve()
    keras_model = to_keras(_full_batch_model(optimizers.LevenbergMarquardt()), plugins=True)
    with floatx("float64"):
        with pytest.raises(ValueError,
                           match=r"full-batch method.*batch_size >= 40.*batch_size=None \(Keras's default, 32\)"):
            keras_model.fit(p, t, epochs=1, verbose=0)
        schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
        with pytest.raises(ValueError, match=r"takes its own steps.*has no meaning here"):
            keras_model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    with pytest.raises(TypeError, match=r"Rprop's `learning_rate` is the initial step size.*cannot be a schedule"):
        plugins.Rprop(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))


@pytest.mark.parametrize("optimizer", [lambda: optimizers.Rprop(), lambda: optimizers.Quickprop()],
                         ids=["rprop", "quickprop"])
def test_the_keras_twin_of_a_full_batch_method_refuses_mini_batches(optimizer):
    """Keras's default batch size is 32; with 40 rows Rprop would take two steps on two halves. A
    Keras optimizer never sees the batch: the twin's ``fit`` checks it (refnn's fit does too)."""
    p, t = _curve()
    keras_model = to_keras(_full_batch_model(optimizer()), plugins=True)
    with floatx("float64"):
        with pytest.raises(ValueError, match=r"is a full-batch method.*batch_size >= 40.*\(Keras's default, 32\)"):
            keras_model.fit(p, t, epochs=1, verbose=0)
        keras_model.fit(p, t, 40, 1, 0)  # Keras's positional signature: x, y, batch_size, epochs, verbose
        # the held-out validation rows do not count: 30 training rows, one batch of 30
        keras_model.fit(p, t, epochs=1, batch_size=30, validation_split=0.25, verbose=0)
        with pytest.raises(ValueError, match=r"batch_size >= 30 \(the number of training rows\)"):
            keras_model.fit(p, t, epochs=1, batch_size=29, validation_split=0.25, verbose=0)

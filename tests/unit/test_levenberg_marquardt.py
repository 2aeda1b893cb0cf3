"""Levenberg–Marquardt: Jacobian, step, rejection, stopping, refusals, and the 1-15-1 benchmark.

The reference for every step is the formula itself, ``Δw = −(JᵀJ + μI)⁻¹Jᵀe``, evaluated in the
test with a Jacobian from central finite differences of the residuals (no backpropagation).
"""

import numpy as np
import pytest

import refnn
from refnn import layers, losses, optimizers, regularizers
from refnn.layers.base import Layer
from refnn.utils.packing import ParamPacker
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL, relative_error

LM = optimizers.LevenbergMarquardt


def residuals(model, x, y):
    return (model.predict(x) - y).ravel()


def fd_jacobian(model, x, y, h=1e-6):
    """Central differences of the residual vector w.r.t. the packed weights."""
    params = model.params
    packer = ParamPacker(params)
    w = packer.pack(params).copy()
    columns = []
    for i in range(w.size):
        for sign in (1, -1):
            v = w.copy()
            v[i] += sign * h
            packer.assign(params, v)
            columns.append(residuals(model, x, y))
    packer.assign(params, w)
    cols = np.array(columns).reshape(w.size, 2, -1)
    return ((cols[:, 0] - cols[:, 1]) / (2 * h)).T


def formula_step(jac, e, mu, reg=None):
    a = jac.T @ jac + mu * np.eye(jac.shape[1])
    g = jac.T @ e
    return -np.linalg.solve(a, g)


def wave(n=40):
    p = np.linspace(-1.0, 1.0, n)[:, None]
    return p, 0.5 + 0.25 * np.sin(3 * np.pi * p)


def net_1_15_1(seed):
    return refnn.Sequential([layers.Dense(15, activation="tanh"), layers.Dense(1)], input_dim=1, seed=seed)


# ---- the Jacobian ------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax"])
def test_jacobian_matches_finite_differences(activation):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((7, 3))
    model = refnn.Sequential([
        layers.Dense(5, activation=activation),
        layers.Dropout(0.5, seed=0),  # inactive in LM
        layers.Dense(4),
        layers.Activation("tanh"),
        layers.Dense(3, activation=activation),
    ], input_dim=3, seed=2)
    model.compile(LM(), "mse")
    jac, e, y_pred = LM().jacobian(model, x, y)
    assert jac.shape == (7 * 3, model.count_params()) and e.shape == (21,)
    np.testing.assert_array_equal(e, residuals(model, x, y))
    assert relative_error(jac, fd_jacobian(model, x, y)) < FINITE_DIFFERENCE_RTOL


def test_jacobian_without_bias():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 2)), rng.standard_normal((5, 1))
    model = refnn.Sequential([layers.Dense(3, activation="sigmoid", use_bias=False), layers.Dense(1)],
                             input_dim=2, seed=0)
    jac, _, _ = LM().jacobian(model, x, y)
    assert relative_error(jac, fd_jacobian(model, x, y)) < FINITE_DIFFERENCE_RTOL


# ---- one step ----------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["sse", "mse"])
def test_step_equals_the_formula_with_a_finite_difference_jacobian(loss):
    x, y = wave(20)
    model = net_1_15_1(seed=3)
    opt = LM(mu=0.01)
    model.compile(opt, loss)
    w0 = ParamPacker(model.params).pack(model.params).copy()
    jac, e = fd_jacobian(model, x, y), residuals(model, x, y)
    returned = model.train_step(x, y)
    assert opt.rejections == 0 and opt.iterations == 1
    expected = w0 + formula_step(jac, e, 0.01)
    w1 = ParamPacker(model.params).pack(model.params)
    assert relative_error(w1 - w0, expected - w0) < FINITE_DIFFERENCE_RTOL
    # μ after an accepted step; the returned loss is the compiled loss before the step
    assert opt.mu == pytest.approx(0.001, rel=1e-15)
    sse = float(e @ e)
    assert returned == pytest.approx(sse / 2 if loss == "sse" else sse / 20, rel=1e-13)
    assert opt.gradient_norm == pytest.approx(np.linalg.norm(jac.T @ e), rel=1e-6)


def test_mse_and_sse_take_identical_steps():
    # the residuals are raw (not normalised like the MSE), so μ means the same for both losses
    x, y = wave()
    weights = []
    for loss in ("sse", "mse"):
        model = net_1_15_1(seed=4)
        opt = LM()
        model.compile(opt, loss)
        for _ in range(5):
            model.train_step(x, y)
        weights.append((model.get_weights(), opt.mu))
    for a, b in zip(weights[0][0], weights[1][0]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert weights[0][1] == weights[1][1]


def test_rejected_tries_leave_the_weights_and_the_step_is_retried_from_the_same_point():
    x, y = wave()
    model = net_1_15_1(seed=0)
    opt = LM()
    model.compile(opt, "sse")
    model.train_step(x, y)
    w0 = ParamPacker(model.params).pack(model.params).copy()
    mu0 = opt.mu
    jac, e = fd_jacobian(model, x, y), residuals(model, x, y)
    model.train_step(x, y)
    # this step (seeded, deterministic) needed two rejections: μ, 10μ rejected; 100μ accepted
    assert opt.rejections == 2
    mu_used = mu0 * 100
    assert opt.mu == pytest.approx(mu_used * 0.1, rel=1e-14)
    w1 = ParamPacker(model.params).pack(model.params)
    expected = formula_step(jac, e, mu_used)
    assert relative_error(w1 - w0, expected) < FINITE_DIFFERENCE_RTOL
    for m in (mu0, 10 * mu0):  # the two rejected steps would have raised the error
        trial = w0 + formula_step(jac, e, m)
        ParamPacker(model.params).assign(model.params, trial)
        r = residuals(model, x, y)
        assert r @ r >= e @ e


def test_all_tries_rejected_leaves_weights_bitwise_unchanged_and_stops_at_mu_max():
    x, y = wave()
    model = net_1_15_1(seed=0)
    opt = LM()
    model.compile(opt, "sse")
    model.train_step(x, y)
    opt.mu_max = opt.mu * 10  # only μ and 10μ may be tried: both are rejected here
    before = model.get_weights()
    model.stop_training = False
    model.train_step(x, y)
    assert opt.rejections == 2 and opt.stop_reason == "mu_max" and model.stop_training
    assert opt.mu > opt.mu_max and opt.iterations == 1
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    # a later call starts again from the initial μ (MATLAB's trainlm resets μ per train call)
    opt.mu_max = 1e10
    model.train_step(x, y)
    assert opt.stop_reason is None and opt.iterations == 2
    # started at the initial μ: ×10 per rejection, then ×0.1 for the accepted step
    assert opt.mu == pytest.approx(opt.initial_mu * 10.0 ** opt.rejections * 0.1, rel=1e-12)


def test_a_singular_system_counts_as_a_rejection():
    class Singular(LM):
        calls = 0

        @staticmethod
        def _solve(matrix, gradient):
            Singular.calls += 1
            return None if Singular.calls == 1 else LM._solve(matrix, gradient)

    x, y = wave(10)
    model = net_1_15_1(seed=1)
    opt = Singular(mu=0.5)
    model.compile(opt, "sse")
    model.train_step(x, y)
    assert opt.rejections == 1 and opt.iterations == 1 and opt.mu == pytest.approx(0.5 * 10 * 0.1)


def test_min_grad_stops_a_solved_problem():
    # a linear model can fit y = 2x − 1 exactly: the gradient vanishes and LM stops
    x = np.linspace(-1, 1, 9)[:, None]
    y = 2 * x - 1
    model = refnn.Sequential([layers.Dense(1)], input_dim=1, seed=0)
    opt = LM()
    model.compile(opt, "mse")
    history = model.fit(x, y, epochs=100, batch_size=9, verbose=0)
    assert opt.stop_reason == "min_grad" and len(history.epoch) < 20
    assert opt.gradient_norm < 1e-7
    # ‖Jᵀe‖ < 1e-7 with O(1) Jacobian entries leaves residuals, hence weight errors, of ~1e-8
    np.testing.assert_allclose(model.get_weights()[0], [[2.0]], atol=1e-7)
    np.testing.assert_allclose(model.get_weights()[1], [-1.0], atol=1e-7)


def test_l2_penalty_enters_as_extra_residuals():
    # loss = c·Σe² + λΣW² with c = 1/(N·K) (mse): V = Σe² + (λ/c)ΣW², J gains √(λ/c)·I rows
    x, y = wave(20)
    lam = 2.0**-7
    model = refnn.Sequential([layers.Dense(6, activation="tanh", kernel_regularizer=regularizers.L2(lam)),
                              layers.Dense(1)], input_dim=1, seed=5)
    opt = LM(mu=0.1)
    model.compile(opt, "mse")
    params = model.params
    packer = ParamPacker(params)
    w0 = packer.pack(params).copy()
    reg = np.zeros(w0.size)
    start, end, _ = packer.slices["dense_0/kernel"]
    reg[start:end] = lam * 20
    jac = np.vstack([fd_jacobian(model, x, y), np.diag(np.sqrt(reg))])
    e = np.concatenate([residuals(model, x, y), np.sqrt(reg) * w0])
    loss = model.train_step(x, y)
    assert loss == pytest.approx(float(e @ e) / 20, rel=1e-12)
    assert opt.rejections == 0
    w1 = packer.pack(model.params)
    assert relative_error(w1 - w0, formula_step(jac, e, 0.1)) < FINITE_DIFFERENCE_RTOL


def test_dropout_is_inactive():
    x, y = wave()
    weights = []
    for rate in (0.0, 0.9):
        model = refnn.Sequential([layers.Dense(15, activation="tanh"), layers.Dropout(rate, seed=1),
                                  layers.Dense(1)], input_dim=1, seed=7)
        model.compile(LM(), "sse")
        for _ in range(3):
            model.train_step(x, y)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_float32_model():
    x, y = wave()
    model = refnn.Sequential([layers.Dense(15, activation="tanh"), layers.Dense(1)], input_dim=1, seed=0,
                             dtype="float32")
    model.compile(LM(), "sse")
    model.fit(x.astype("float32"), y, epochs=100, batch_size=40, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    # the linear algebra runs in float64; the network in float32 reaches the goal like float64 (55 epochs)
    assert 2 * model.evaluate(x, y, return_dict=True, verbose=0)["loss"] <= 0.02


# ---- the benchmark -----------------------------------------------------------------------------
def test_1_15_1_learns_the_sine_wave_for_10_seeds():
    """Hagan & Menhaj's test function ½ + ¼·sin(3πp) on 40 points, SSE = Σe² ≤ 0.02 every seed.

    Measured (NumPy 2.4, this machine) epochs to the goal for seeds 0–9:
    55, 94, 84, 64, 69, 47, 59, 96, 56, 47.
    """
    x, y = wave()
    epochs_to_goal = []
    for seed in range(10):
        model = net_1_15_1(seed)
        opt = LM()
        model.compile(opt, "sse")  # ½Σe²
        history = model.fit(x, y, epochs=200, batch_size=40, shuffle=False, verbose=0)
        sse = 2 * model.evaluate(x, y, return_dict=True, verbose=0)["loss"]
        assert sse <= 0.02, f"seed {seed}: SSE {sse:.4g} after {len(history.epoch)} epochs ({opt.stop_reason})"
        reached = np.flatnonzero(2 * np.array(history.history["loss"]) <= 0.02)
        epochs_to_goal.append(int(reached[0]))
    assert max(epochs_to_goal) < 200


# ---- refusals and configuration ----------------------------------------------------------------
@pytest.mark.parametrize("loss", ["binary_crossentropy", "mae", losses.CategoricalCrossentropy()])
def test_only_sum_of_squares_losses_at_compile(loss):
    model = net_1_15_1(0)
    with pytest.raises(ValueError, match=r'needs a sum-of-squares loss: loss="mse" or loss="sse". Received: loss='):
        model.compile(LM(), loss)


def test_only_sum_of_squares_losses_at_the_first_step():
    x, y = wave()
    model = net_1_15_1(0)
    model.compile(LM(), "mse")
    model.loss = losses.MeanAbsoluteError()
    with pytest.raises(ValueError, match=r"needs a sum-of-squares loss.*MeanAbsoluteError"):
        model.train_step(x, y)


def test_unreduced_loss_is_refused():
    model = net_1_15_1(0)
    with pytest.raises(ValueError, match=r"needs a loss reduced to a scalar .*reduction='none'"):
        model.compile(LM(), losses.MeanSquaredError(reduction="none"))


def test_l1_penalty_is_refused():
    x, y = wave()
    model = refnn.Sequential([layers.Dense(3, activation="tanh", kernel_regularizer=regularizers.L1(0.01)),
                              layers.Dense(1)], input_dim=1, seed=0)
    model.compile(LM(), "sse")
    with pytest.raises(ValueError, match=r"supports L2 penalties only.*L1\(l1=0.01\) on 'dense_0/kernel'"):
        model.train_step(x, y)


def test_full_batch_only():
    x, y = wave()
    model = net_1_15_1(0)
    model.compile(LM(), "sse")
    with pytest.raises(ValueError, match=r"LevenbergMarquardt is a full-batch method.*batch_size >= 40"):
        model.fit(x, y, batch_size=10, verbose=0)


def test_apply_is_refused():
    with pytest.raises(TypeError, match=r"LevenbergMarquardt needs the whole model, not a gradient: train with model.fit"):
        LM().apply({"w": np.zeros(2)}, {"w": np.zeros(2)})


def test_unsupported_layer_is_refused():
    class Square(Layer):
        def forward(self, x, training=False):
            return x * x

    x, y = wave()
    model = refnn.Sequential([layers.Dense(2), Square(), layers.Dense(1)], input_dim=1, seed=0)
    model.compile(LM(), "sse")
    with pytest.raises(TypeError, match=r"Layer 'square_0' of type Square has no Jacobian rows: Levenberg–Marquardt supports Dense, Activation and Dropout"):
        model.train_step(x, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mu=0.0), r"`mu` must be a float in \(0.0, inf\). Received: mu=0.0"),
        (dict(mu_decrease=1.0), r"`mu_decrease` must be a float in \(0.0, 1.0\). Received: mu_decrease=1.0"),
        (dict(mu_increase=1.0), r"`mu_increase` must be a float in \(1.0, inf\). Received: mu_increase=1.0"),
        (dict(mu_max=-1.0), r"`mu_max` must be a float in \(0.0, inf\). Received: mu_max=-1.0"),
        (dict(mu=1.0, mu_max=0.5), r"`mu_max` must be >= `mu`. Received: mu=1.0, mu_max=0.5"),
        (dict(min_grad=-1e-7), r"`min_grad` must be a float in \[0.0, inf\). Received: min_grad=-1e-07"),
    ],
)
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LM(**kwargs)


def test_unknown_keyword_is_refused():
    with pytest.raises(TypeError, match=r"LevenbergMarquardt got unexpected keyword argument\(s\): learning_rate"):
        LM(learning_rate=0.1)


def test_config_round_trip_and_lookup():
    opt = LM(mu=0.01, mu_decrease=0.2, mu_increase=5.0, mu_max=1e8, min_grad=1e-9)
    config = opt.get_config()
    assert config == {"name": "levenberg_marquardt", "mu": 0.01, "mu_decrease": 0.2, "mu_increase": 5.0,
                      "mu_max": 1e8, "min_grad": 1e-9}
    assert LM.from_config(config).get_config() == config
    assert isinstance(optimizers.get("levenberg_marquardt"), LM)
    assert optimizers.get({"class_name": "LevenbergMarquardt", "config": config}).get_config() == config
    assert LM.requires_full_batch
    assert repr(LM()) == "LevenbergMarquardt(mu=0.001, mu_decrease=0.1, mu_increase=10.0, mu_max=10000000000.0, min_grad=1e-07)"

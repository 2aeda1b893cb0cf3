"""The textbook forms are named conventions of the same rules — and the tests prove the sharing:
Adam("sqrt_v_hat", ε) ≡ Adam("sqrt_v", ε·√(1−β₂ᵗ)) at fixed t; RMSprop(outside_sqrt) with bias
correction ≡ Adam(β₁ = 0); SGD "velocity" ≡ "ema" after rescaling a constant lr (not under a
schedule); plus the textbook presets and the step sizes listed in docs/keras-numerics.md."""

from __future__ import annotations

import math

import numpy as np
import pytest

from refnn import optimizers
from refnn.optimizers import SGD, Adagrad, Adam, RMSprop, conventions, schedules

# rtol for identities that hold in exact arithmetic but are computed with different roundings
IDENTITY_RTOL = 1e-13


def _trajectory(opt, grads, w0):
    params = {"w": w0.copy()}
    out = []
    for g in grads:
        opt.apply(params, {"w": g})
        out.append(params["w"].copy())
    return np.array(out)


def _gradients(steps=50, seed=0):
    rng = np.random.default_rng(seed)
    # mixed magnitudes down to 1e-5, frequent sign flips
    scale = np.array([1.0, 1e-2, 1e-4, 1e-5])
    return [scale * (rng.normal(size=4) + 0.3) for _ in range(steps)], rng.normal(size=4)


@pytest.mark.parametrize("t", [1, 2, 10, 1000])
def test_adam_textbook_epsilon_equals_keras_epsilon_hat_at_fixed_t(t):
    rng = np.random.default_rng(t)
    eps, beta_2 = 1e-3, 0.999
    m, v = rng.normal(size=6), rng.uniform(0, 1e-5, size=6) ** 2
    g, w = rng.normal(size=6) * 1e-3, rng.normal(size=6)
    steps = {}
    for form, epsilon in [("sqrt_v_hat", eps), ("sqrt_v", eps * math.sqrt(1 - beta_2 ** t))]:
        opt = Adam(0.01, beta_2=beta_2, epsilon=epsilon, epsilon_placement=form)
        params = {"w": w.copy()}
        opt.build(params)
        opt.state["w"]["momentum"][...] = m
        opt.state["w"]["velocity"][...] = v
        opt.iterations = t - 1
        opt.apply(params, {"w": g})
        steps[form] = params["w"] - w
    np.testing.assert_allclose(steps["sqrt_v"], steps["sqrt_v_hat"], rtol=IDENTITY_RTOL, atol=0)


def test_adam_forms_differ_with_the_same_epsilon_when_gradients_are_tiny():
    # docs/keras-numerics.md: relative step difference at t = 1 (ε = 1e-7): −3e-6 for g = 1, −3e-2
    # for 1e-4. At t = 1, m = (1−β₁)g and v = (1−β₂)g², so keras/textbook = (|g| + ε)/(|g| + ε/√(1−β₂)).
    g = np.array([1.0, 1e-4])
    steps = {}
    for form in ("sqrt_v", "sqrt_v_hat"):
        params = {"w": np.zeros(2)}
        Adam(0.001, epsilon=1e-7, epsilon_placement=form).apply(params, {"w": g})
        steps[form] = params["w"]
    relative = steps["sqrt_v"] / steps["sqrt_v_hat"] - 1
    expected = (np.abs(g) + 1e-7) / (np.abs(g) + 1e-7 / math.sqrt(1 - 0.999)) - 1
    np.testing.assert_allclose(relative, expected, rtol=1e-6)
    assert relative[0] == pytest.approx(-3e-6, rel=0.05) and relative[1] == pytest.approx(-3e-2, rel=0.05)


def test_rmsprop_outside_sqrt_with_bias_correction_is_adam_with_beta_1_zero():
    grads, w0 = _gradients()
    rms = RMSprop(0.01, rho=0.99, epsilon=1e-6, epsilon_placement="outside_sqrt", bias_correction=True)
    adam = Adam(0.01, beta_1=0.0, beta_2=0.99, epsilon=1e-6, epsilon_placement="sqrt_v_hat")
    a, b = _trajectory(rms, grads, w0), _trajectory(adam, grads, w0)
    np.testing.assert_allclose(a - w0, b - w0, rtol=IDENTITY_RTOL, atol=1e-18)
    # and without the bias correction it is a different method
    plain = _trajectory(RMSprop(0.01, rho=0.99, epsilon=1e-6, epsilon_placement="outside_sqrt"), grads, w0)
    assert np.max(np.abs(plain - b)) > 1e-3


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_keras_momentum_equals_ema_momentum_with_lr_over_one_minus_mu(nesterov):
    grads, w0 = _gradients()
    mu, lr = 0.9, 0.01
    keras_form = _trajectory(SGD(lr, momentum=mu, nesterov=nesterov), grads, w0)
    ema_form = _trajectory(SGD(lr / (1 - mu), momentum=mu, nesterov=nesterov, momentum_form="ema"), grads, w0)
    torch_form = _trajectory(SGD(lr, momentum=mu, nesterov=nesterov, momentum_form="trace"), grads, w0)
    np.testing.assert_allclose(ema_form - w0, keras_form - w0, rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(torch_form - w0, keras_form - w0, rtol=1e-12, atol=1e-18)
    # with the same lr the EMA form moves (1 − μ) = 10× less
    same_lr = _trajectory(SGD(lr, momentum=mu, nesterov=nesterov, momentum_form="ema"), grads, w0)
    np.testing.assert_allclose(same_lr - w0, (keras_form - w0) * (1 - mu), rtol=1e-12, atol=1e-15)


def test_sgd_keras_and_ema_momentum_differ_under_a_schedule():
    grads, w0 = _gradients()
    mu = 0.9
    lr = schedules.ExponentialDecay(0.01, 5, 0.5)
    lr_ema = schedules.ExponentialDecay(0.01 / (1 - mu), 5, 0.5)
    keras_form = _trajectory(SGD(lr, momentum=mu), grads, w0)
    ema_form = _trajectory(SGD(lr_ema, momentum=mu, momentum_form="ema"), grads, w0)
    # Keras's velocity keeps each gradient scaled by the lr of its own step; the EMA scales the
    # whole velocity by the current lr — so the decaying rate hits them differently
    difference = np.max(np.abs(ema_form - keras_form)) / np.max(np.abs(keras_form - w0))
    assert difference > 0.05


def _rmsprop_step_over_lr(opt, g, t):
    params = {"w": np.zeros(1)}
    for _ in range(t):
        before = params["w"].copy()
        opt.apply(params, {"w": np.array([g])})
    return float((before - params["w"])[0] / opt.learning_rate)


@pytest.mark.parametrize("t, keras_ratio, textbook_ratio", [(1, 3.16, 31.6), (10, 1.24, 10.0), (100, 1.00, 3.24)])
def test_rmsprop_textbook_preset_step_sizes_against_keras(t, keras_ratio, textbook_ratio):
    keras_opt = optimizers.get("rmsprop")
    textbook_opt = optimizers.get("rmsprop", convention="textbook")
    assert _rmsprop_step_over_lr(keras_opt, 1.0, t) == pytest.approx(keras_ratio, abs=0.005)
    assert _rmsprop_step_over_lr(textbook_opt, 1.0, t) == pytest.approx(textbook_ratio, abs=0.05)


@pytest.mark.parametrize("g, ratio", [(1e-2, 0.9995), (1e-3, 0.9535), (1e-4, 0.3015)])
def test_rmsprop_epsilon_inside_the_sqrt_floors_the_denominator(g, ratio):
    # steady state v = g²: Keras step/lr = g/√(g² + 1e-7), the textbook's ≈ 1
    assert _rmsprop_step_over_lr(RMSprop(0.001, rho=0.5), g, 200) == pytest.approx(ratio, abs=5e-4)
    outside = RMSprop(0.001, rho=0.5, epsilon=1e-8, epsilon_placement="outside_sqrt")
    assert _rmsprop_step_over_lr(outside, g, 200) == pytest.approx(1.0, abs=1e-3)


def test_adagrad_first_step_keras_accumulator_versus_the_textbook():
    g = np.array([1e-3, -2.0])
    keras_params, textbook_params = {"w": np.zeros(2)}, {"w": np.zeros(2)}
    Adagrad(0.1).apply(keras_params, {"w": g})
    optimizers.get("adagrad", convention="textbook").apply(textbook_params, {"w": g})
    # Keras: lr·g/√(0.1 + g² + ε);  textbook: lr·g/(|g| + ε) ≈ lr·sign(g)
    np.testing.assert_allclose(keras_params["w"], -0.1 * g / np.sqrt(0.1 + g ** 2 + 1e-7), rtol=1e-15)
    np.testing.assert_allclose(textbook_params["w"], -0.001 * np.sign(g), rtol=1e-4)


@pytest.mark.parametrize("name", sorted(conventions.TEXTBOOK))
def test_textbook_presets_are_arguments_of_the_same_class(name):
    keras_opt = optimizers.get(name)
    textbook_opt = optimizers.get(name, convention="textbook")
    assert type(textbook_opt) is type(keras_opt)
    config = textbook_opt.get_config()
    for key, value in conventions.TEXTBOOK[name].items():
        assert config[key] == value, (name, key)
    assert config != keras_opt.get_config()

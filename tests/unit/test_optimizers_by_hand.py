"""The first three steps of every adaptive rule, by hand, on one weight with a gradient sign flip.

``w₀ = 1`` and the gradients are ``g = +1, +1, −2`` (the flip is at step 3). Constants are chosen
so the arithmetic is short (lr = 0.125, ε = 0 where the rule allows, β's of 0.5/0.75); each
expected value is the hand computation, written out in the comments. Rprop and Quickprop have
their own files; SGD's forms are here too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from refnn.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop

GRADS = [1.0, 1.0, -2.0]


def run(opt):
    params = {"w": np.array([1.0])}
    weights = []
    for g in GRADS:
        opt.apply(params, {"w": np.array([g])})
        weights.append(float(params["w"][0]))
    return weights


def test_sgd_momentum_keras_form():
    # m = 0.5m − 0.125g:  m₁ = −0.125, w = 0.875;  m₂ = −0.0625 − 0.125 = −0.1875, w = 0.6875;
    # flip: m₃ = −0.09375 + 0.25 = 0.15625, w = 0.84375 (the velocity turns at once)
    assert run(SGD(0.125, momentum=0.5)) == [0.875, 0.6875, 0.84375]


def test_sgd_momentum_nesterov():
    # w += 0.5·m_new − 0.125g:  1 − 0.0625 − 0.125 = 0.8125;  0.8125 − 0.09375 − 0.125 = 0.59375;
    # flip: 0.59375 + 0.078125 + 0.25 = 0.921875
    assert run(SGD(0.125, momentum=0.5, nesterov=True)) == [0.8125, 0.59375, 0.921875]


def test_sgd_momentum_ema_form_with_twice_the_rate_is_the_keras_form():
    # V = 0.5V + 0.5g, w −= 0.25V:  V = 0.5, w = 0.875;  V = 0.75, w = 0.6875;  V = −0.625, w = 0.84375
    assert run(SGD(0.25, momentum=0.5, momentum_form="ema")) == [0.875, 0.6875, 0.84375]


def test_rmsprop():
    # ρ = 0.5, ε = 0: v₁ = 0.5, step 0.125/√0.5;  v₂ = 0.25 + 0.5 = 0.75, step 0.125/√0.75;
    # flip: v₃ = 0.375 + 0.5·4 = 2.375, step 0.125·(−2)/√2.375 (the weight goes back up)
    w1 = 1 - 0.125 / math.sqrt(0.5)        # 0.82322
    w2 = w1 - 0.125 / math.sqrt(0.75)      # 0.67889
    w3 = w2 + 0.25 / math.sqrt(2.375)      # 0.84111
    assert run(RMSprop(0.125, rho=0.5, epsilon=0.0)) == pytest.approx([w1, w2, w3], rel=1e-15)


def test_adam():
    # β₁ = 0.5, β₂ = 0.75, ε = 0 (then Keras's form and the textbook's coincide):
    # t=1: m = 0.5, v = 0.25; m̂ = 0.5/0.5 = 1, v̂ = 0.25/0.25 = 1 → step 0.125, w = 0.875
    # t=2: m = 0.5 + 0.5·0.5 = 0.75, v = 0.25 + 0.25·0.75 = 0.4375; m̂ = 0.75/0.75 = 1,
    #      v̂ = 0.4375/0.4375 = 1 → step 0.125, w = 0.75
    # t=3: m = 0.75 + 0.5·(−2 − 0.75) = −0.625, v = 0.4375 + 0.25·(4 − 0.4375) = 1.328125;
    #      m̂ = −0.625/0.875, v̂ = 1.328125/0.578125 → w = 0.75 − 0.125·m̂/√v̂ = 0.80891
    w3 = 0.75 - 0.125 * (-0.625 / 0.875) / math.sqrt(1.328125 / 0.578125)
    for form in ("sqrt_v", "sqrt_v_hat"):
        assert run(Adam(0.125, beta_1=0.5, beta_2=0.75, epsilon=0.0, epsilon_placement=form)) == \
            pytest.approx([0.875, 0.75, w3], rel=1e-15)


def test_adagrad():
    # accumulator from 0, ε = 0: G = 1 → step 0.125;  G = 2 → 0.125/√2;  G = 6 → −0.25/√6
    w2 = 0.875 - 0.125 / math.sqrt(2)       # 0.78661
    w3 = w2 + 0.25 / math.sqrt(6)           # 0.88867
    assert run(Adagrad(0.125, initial_accumulator_value=0.0, epsilon=0.0)) == \
        pytest.approx([0.875, w2, w3], rel=1e-15)


def test_adadelta():
    # ρ = 0.5, ε = 0.25, lr = 1 (the textbook form):
    # t=1: Eg = 0.5; Δ = −√(0 + 0.25)·1/√(0.5 + 0.25) = −0.57735; Ed = 0.5·Δ² = 1/6
    # t=2: Eg = 0.75; Δ = −√(1/6 + 0.25)/√1 = −0.64550; Ed = 1/12 + 0.5·(5/12) = 7/24
    # t=3: Eg = 0.375 + 2 = 2.375; Δ = +2·√(7/24 + 0.25)/√2.625 = 0.90851
    d1 = -0.5 / math.sqrt(0.75)
    d2 = -math.sqrt(1 / 6 + 0.25)
    d3 = 2 * math.sqrt(7 / 24 + 0.25) / math.sqrt(2.625)
    assert run(Adadelta(1.0, rho=0.5, epsilon=0.25)) == pytest.approx(
        [1 + d1, 1 + d1 + d2, 1 + d1 + d2 + d3], rel=1e-14)


def test_adamax():
    # β₁ = β₂ = 0.5, ε = 0:
    # t=1: m = 0.5, u = max(0, 1) = 1 → step 0.125·0.5/(0.5·1) = 0.125
    # t=2: m = 0.75, u = max(0.5, 1) = 1 → 0.125·0.75/(0.75·1) = 0.125
    # t=3: m = 0.75 + 0.5·(−2.75) = −0.625, u = max(0.5, 2) = 2 → 0.125·(−0.625)/(0.875·2)
    assert run(Adamax(0.125, beta_1=0.5, beta_2=0.5, epsilon=0.0)) == \
        pytest.approx([0.875, 0.75, 0.75 + 0.078125 / 1.75], rel=1e-15)


def test_nadam():
    # β₁ = 0.5, β₂ = 0.75, ε = 0; μ_s = 0.5(1 − 0.5·0.96^s):
    # μ₁ = 0.26, μ₂ = 0.2696, μ₃ = 0.278816, μ₄ = 0.28766336; Π₁ = 0.26, Π₂ = Π₁μ₂, Π₃ = Π₂μ₃
    mu = [None] + [0.5 * (1 - 0.5 * 0.96 ** s) for s in range(1, 5)]
    assert mu[1:] == pytest.approx([0.26, 0.2696, 0.278816, 0.28766336], rel=1e-15)
    p1 = mu[1]
    p2 = p1 * mu[2]
    p3 = p2 * mu[3]
    # m, v as in Adam: (0.5, 0.25), (0.75, 0.4375), (−0.625, 1.328125); v̂ = 1, 1, 1.328125/0.578125
    # m̂_t = μ_{t+1}·m/(1 − Π_t·μ_{t+1}) + (1 − μ_t)·g/(1 − Π_t)
    m_hat1 = mu[2] * 0.5 / (1 - p1 * mu[2]) + (1 - mu[1]) * 1 / (1 - p1)     # 1.14496
    m_hat2 = mu[3] * 0.75 / (1 - p2 * mu[3]) + (1 - mu[2]) * 1 / (1 - p2)    # 0.99874
    m_hat3 = mu[4] * -0.625 / (1 - p3 * mu[4]) + (1 - mu[3]) * -2 / (1 - p3)  # −1.65193
    w1 = 1 - 0.125 * m_hat1
    w2 = w1 - 0.125 * m_hat2
    w3 = w2 - 0.125 * m_hat3 / math.sqrt(1.328125 / 0.578125)
    assert run(Nadam(0.125, beta_1=0.5, beta_2=0.75, epsilon=0.0)) == pytest.approx([w1, w2, w3], rel=1e-14)

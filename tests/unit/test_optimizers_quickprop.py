"""Quickprop, step by step by hand, on ``E(w) = (w − 3)²`` (slope ``s = 2(w − 3)``).

ε = 0.1, μ = 1.75 (shrink = μ/(1+μ) = 0.6364), ``w₀ = 0``. The sequence shows all of Fahlman's
branches: a gradient step, a step capped at μ× the previous one, a secant step plus the ε term,
and — after the slope changes sign — the backward secant jump with no ε term, which on a
parabola lands on the minimum. Expected values are the float expressions the rule evaluates.
"""

from __future__ import annotations

import numpy as np
import pytest

import refnn
from refnn import layers
from refnn.optimizers import Quickprop

EPS, MU = 0.1, 1.75
SHRINK = MU / (1.0 + MU)


def slope(w):
    return 2.0 * (w - 3.0)


def run(w0, steps, **kwargs):
    opt = Quickprop(EPS, max_growth=MU, **kwargs)
    params = {"w": np.array([w0])}
    weights = []
    for _ in range(steps):
        opt.apply(params, {"w": slope(params["w"])})
        weights.append(params["w"][0])
    return weights


def test_the_first_five_steps_by_hand():
    weights = run(0.0, 5)
    # t=1: Δw₀ = 0 → gradient descent: s = −6, Δw = −0.1·(−6) = 0.6, w = 0.6
    s1 = slope(0.0)
    d1 = s1 * -EPS
    assert weights[0] == 0.0 + d1
    # t=2: s = 2(0.6 − 3) = −4.8; d > 0 and s < 0 → ε term 0.48. shrink·s_prev = −3.82 and
    # s = −4.8 < −3.82: the slope did not shrink enough (the secant would jump 2.4 = 4×d),
    # so the step is capped: + μ·d = 1.05. Δw = 1.53, w = 2.13
    s2 = slope(weights[0])
    d2 = s2 * -EPS + d1 * MU
    assert s2 < SHRINK * s1 and weights[1] == weights[0] + d2
    # t=3: s = 2(2.13 − 3) = −1.74 ≥ shrink·(−4.8) = −3.05 → secant s/(s_prev − s)·d =
    # −1.74/(−4.8 + 1.74)·1.53 = 0.87, plus the ε term 0.174 (still s < 0): Δw = 1.044, w = 3.174
    s3 = slope(weights[1])
    d3 = s3 * -EPS + s3 / (s2 - s3) * d2
    assert weights[2] == weights[1] + d3
    # t=4: s = 2(3.174 − 3) = 0.348 > 0: the slope changed sign (we passed the minimum). No ε
    # term; secant 0.348/(−1.74 − 0.348)·1.044 = −0.174: the jump back lands on w = 3
    s4 = slope(weights[2])
    d4 = 0.0 + s4 / (s3 - s4) * d3
    assert s4 > 0 > s3 and weights[3] == weights[2] + d4
    assert weights[3] == 3.0  # (exactly, in float64, for these numbers)
    # t=5: s = 0 at the minimum; d < 0, s is not > 0 (no ε term) and not > shrink·0.348, so the
    # secant 0/(0.348 − 0)·d = 0: Quickprop stays put
    s5 = slope(weights[3])
    assert s5 == 0.0 and weights[4] == 3.0


def test_the_mirror_image_from_the_other_side():
    """From w₀ = 6 every step is the negative of the run from 0 (the parabola is symmetric)."""
    left, right = run(0.0, 4), run(6.0, 4)
    np.testing.assert_allclose(np.array(right) - 3.0, 3.0 - np.array(left), rtol=0, atol=1e-14)


def test_decay_term_is_added_to_the_slope():
    opt = Quickprop(EPS, max_growth=MU, decay=0.01)
    params = {"w": np.array([2.0])}
    opt.apply(params, {"w": np.array([-1.0])})
    # s = w·decay + g = 2·0.01 − 1 = −0.98; first step −ε·s = 0.098
    assert params["w"][0] == 2.0 + (2.0 * 0.01 + -1.0) * -EPS
    assert opt.state["w"]["prev_slope"][0] == 2.0 * 0.01 + -1.0


def test_a_zero_step_restarts_with_gradient_descent():
    opt = Quickprop(EPS)
    params = {"w": np.array([1.0])}
    opt.apply(params, {"w": np.array([0.0])})  # s = 0: Δw = 0
    opt.apply(params, {"w": np.array([2.0])})  # Δw_prev = 0 → plain −ε·s
    assert params["w"][0] == 1.0 + 2.0 * -EPS


def test_fit_refuses_mini_batches():
    model = refnn.Sequential([layers.Dense(1)], input_dim=2, seed=0)
    model.compile(optimizer=Quickprop(), loss="mse")
    with pytest.raises(ValueError, match="Quickprop is a full-batch method"):
        model.fit(np.ones((6, 2)), np.ones((6, 1)), batch_size=3, epochs=1, verbose=0)


def test_fit_full_batch_solves_linear_least_squares():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    model = refnn.Sequential([layers.Dense(1)], input_dim=3, seed=0)
    model.compile(optimizer=Quickprop(0.1), loss="mse")
    history = model.fit(x, y, batch_size=40, epochs=60, shuffle=False, verbose=0)
    assert history.history["loss"][-1] < 1e-6 * history.history["loss"][0]

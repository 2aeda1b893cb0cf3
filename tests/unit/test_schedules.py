"""Learning-rate schedules: Keras's formulas and step convention, float32 evaluation, configs, errors.
(Step-by-step agreement with the live Keras schedules is in tests/keras/test_optimizer_parity.py.)"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from refnn.optimizers import SGD, schedules
from refnn.optimizers.schedules import (CosineDecay, ExponentialDecay, InverseTimeDecay,
                                        PiecewiseConstantDecay, PolynomialDecay)


def test_exponential_decay():
    s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == 0.1 and s(10) == 0.1 * 0.5 ** 1.0
    assert s(15) == 0.1 * 0.5 ** (15 / 10)
    stairs = ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert stairs(9) == 0.1 and stairs(15) == 0.1 * 0.5 and stairs(20) == 0.1 * 0.25


def test_piecewise_constant_decay_boundaries_belong_to_the_earlier_piece():
    s = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [s(step) for step in (0, 10, 11, 20, 21, 1000)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


def test_inverse_time_decay():
    s = InverseTimeDecay(0.1, decay_steps=5, decay_rate=0.5)
    assert s(0) == 0.1 and s(7) == 0.1 / (1.0 + 0.5 * (7 / 5))
    assert InverseTimeDecay(0.1, 5, 0.5, staircase=True)(7) == 0.1 / (1.0 + 0.5 * 1.0)


def test_polynomial_decay_with_and_without_cycle():
    s = PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01, power=2.0)
    assert s(0) == 0.1 and s(10) == 0.01 and s(25) == 0.01
    assert s(4) == (0.1 - 0.01) * (1.0 - 0.4) ** 2.0 + 0.01
    cyc = PolynomialDecay(0.1, 10, end_learning_rate=0.01, cycle=True)
    assert cyc(0) == 0.1  # horizon 10 at step 0
    assert cyc(15) == (0.1 - 0.01) * (1.0 - 15 / 20) + 0.01  # horizon 10·⌈15/10⌉ = 20


def test_cosine_decay():
    s = CosineDecay(0.1, decay_steps=20, alpha=0.1)
    assert s(0) == 0.1
    assert s(10) == pytest.approx(0.1 * ((1 - 0.1) * 0.5 + 0.1), rel=1e-15)
    assert s(20) == pytest.approx(0.1 * 0.1, rel=1e-15) and s(50) == s(20)


def test_cosine_decay_with_warmup():
    s = CosineDecay(0.0, decay_steps=20, warmup_target=0.2, warmup_steps=10)
    assert s(0) == 0.0 and s(5) == 0.1  # linear ramp 0 → 0.2 over 10 steps
    assert s(10) == 0.2  # then the cosine starts from warmup_target
    assert s(20) == pytest.approx(0.1, rel=1e-15) and s(30) == pytest.approx(0.0, abs=1e-17)


ALL = [ExponentialDecay(0.05, 7, 0.9), PiecewiseConstantDecay([3, 8], [0.3, 0.2, 0.1]),
       InverseTimeDecay(0.05, 3, 0.7, staircase=True), PolynomialDecay(0.05, 9, power=0.5, cycle=True),
       CosineDecay(0.01, 12, alpha=0.2, warmup_target=0.1, warmup_steps=4)]


@pytest.mark.parametrize("schedule", ALL, ids=[type(s).__name__ for s in ALL])
def test_float32_evaluation_returns_float32_values_close_to_the_exact_ones(schedule):
    for step in range(30):
        value = schedule(step, dtype=np.float32)
        assert value == float(np.float32(value))
        assert value == pytest.approx(schedule(step), rel=1e-6)


@pytest.mark.parametrize("schedule", ALL, ids=[type(s).__name__ for s in ALL])
def test_serialize_round_trip(schedule):
    data = schedules.serialize(schedule)
    assert data["class_name"] == type(schedule).__name__
    again = schedules.deserialize(data)
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    assert [again(step) for step in range(20)] == [schedule(step) for step in range(20)]


def test_config_keys_are_keras_names():
    assert ExponentialDecay(0.1, 10, 0.9).get_config() == {
        "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9, "staircase": False,
        "name": "ExponentialDecay"}
    assert set(CosineDecay(0.1, 10).get_config()) == {
        "initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps"}


def test_an_optimizer_uses_the_schedule_at_its_iteration():
    opt = SGD(ExponentialDecay(1.0, 1, 0.5))
    params = {"w": np.zeros(1)}
    for _ in range(3):
        opt.apply(params, {"w": np.ones(1)})
    assert params["w"][0] == -(1.0 + 0.5 + 0.25)  # lr(0), lr(1), lr(2)


def test_unknown_schedule_name_raises():
    with pytest.raises(ValueError, match="Unknown learning-rate schedule.*Received: class_name='StepDecay'"):
        schedules.deserialize({"class_name": "StepDecay", "config": {}})


@pytest.mark.parametrize("factory, error, match", [
    (lambda: ExponentialDecay(0.1, 0, 0.5), ValueError,
     re.escape("`decay_steps` must be a float in (0.0, inf). Received: decay_steps=0")),
    (lambda: ExponentialDecay(-0.1, 10, 0.5), ValueError, "`initial_learning_rate` must be a float"),
    (lambda: ExponentialDecay(0.1, 10, 0.0), ValueError, "`decay_rate` must be a float"),
    (lambda: ExponentialDecay(0.1, 10, 0.5, staircase="yes"), TypeError, "`staircase` must be a bool"),
    (lambda: InverseTimeDecay(0.1, -3, 0.5), ValueError, "`decay_steps` must be a float"),
    (lambda: PolynomialDecay(0.1, 10, power=-1.0), ValueError, "`power` must be a float"),
    (lambda: CosineDecay(0.1, 10, alpha=1.5), ValueError, re.escape("`alpha` must be a float in [0.0, 1.0]")),
    (lambda: CosineDecay(0.1, 10, warmup_steps=-1), ValueError, "`warmup_steps` must be a float"),
    (lambda: PiecewiseConstantDecay([10], [0.1]), ValueError,
     "length of `boundaries` must be 1 less than the length of `values`"),
    (lambda: PiecewiseConstantDecay([10, 5], [0.1, 0.2, 0.3]), ValueError, "`boundaries` must be strictly increasing"),
    (lambda: PiecewiseConstantDecay([10], [0.1, -0.2]), ValueError, re.escape("`values[1]` must be a float")),
    (lambda: ExponentialDecay(0.1, 10, 0.5, decay=1), TypeError, "unexpected keyword argument"),
])
def test_bad_arguments_raise(factory, error, match):
    with pytest.raises(error, match=match):
        factory()


def test_cosine_uses_pi_and_cos_of_the_requested_precision():
    s = CosineDecay(1.0, 3)
    exact = 0.5 * (1.0 + math.cos(math.pi * (1 / 3)))
    assert s(1) == exact
    f = np.float32
    assert s(1, dtype=np.float32) == float(f(0.5) * (f(1.0) + f(math.cos(float(f(math.pi) * (f(1.0) / f(3.0)))))))

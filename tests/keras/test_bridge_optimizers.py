"""Optimizers through the bridge: each Keras-exact refnn optimizer and option maps to the Keras
optimizer with the same behaviour (config both ways, and 100-step trajectories through
``compare.optimizer_steps``: float64 ≤ TOLERANCES["optimizer"]["float64"], float32 ≤ TOLERANCES["optimizer"]["float32"]);
textbook conventions map to their exact Keras equivalent or are refused with the reason."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from keras_bridge import NotMappableError, compare, optimizer_from_keras, optimizer_to_keras  # noqa: E402
from refnn import optimizers  # noqa: E402
from refnn.optimizers import schedules  # noqa: E402
from refnn.utils.tolerance import TOLERANCES  # noqa: E402

DTYPES = ["float64", "float32"]

CASES = {
    "sgd": lambda: optimizers.SGD(0.05),
    "sgd-momentum": lambda: optimizers.SGD(0.05, momentum=0.9),
    "sgd-nesterov": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "sgd-weight_decay": lambda: optimizers.SGD(0.05, momentum=0.9, weight_decay=0.01),
    "sgd-clipnorm": lambda: optimizers.SGD(0.05, clipnorm=0.5),
    "sgd-clipvalue": lambda: optimizers.SGD(0.05, clipvalue=0.3),
    "sgd-global_clipnorm": lambda: optimizers.SGD(0.05, momentum=0.5, global_clipnorm=0.7),
    "sgd-exponential_decay": lambda: optimizers.SGD(schedules.ExponentialDecay(0.05, 10, 0.8), momentum=0.9),
    "sgd-piecewise": lambda: optimizers.SGD(schedules.PiecewiseConstantDecay([10, 50], [0.05, 0.02, 0.01])),
    "adam-inverse_time": lambda: optimizers.Adam(schedules.InverseTimeDecay(0.05, 7, 0.5, staircase=True)),
    "adam-polynomial": lambda: optimizers.Adam(schedules.PolynomialDecay(0.05, 30, power=2.0, cycle=True)),
    "rmsprop-cosine": lambda: optimizers.RMSprop(schedules.CosineDecay(0.01, 60, alpha=0.1, warmup_target=0.05,
                                                                       warmup_steps=10)),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "rmsprop-momentum": lambda: optimizers.RMSprop(0.01, momentum=0.9),
    "rmsprop-centered": lambda: optimizers.RMSprop(0.01, centered=True, epsilon=1.0),
    "adam": lambda: optimizers.Adam(0.01),
    "adam-amsgrad": lambda: optimizers.Adam(0.01, amsgrad=True, epsilon=1.0),
    "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.1),
    "adagrad": lambda: optimizers.Adagrad(0.05),
    "adadelta": lambda: optimizers.Adadelta(1.0),
    "adamax": lambda: optimizers.Adamax(0.01),
    "nadam": lambda: optimizers.Nadam(0.01),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CASES))
def test_trajectories_through_the_bridge_match_keras(case, dtype):
    result = compare.optimizer_steps(CASES[case](), steps=100, dtype=dtype)
    result.assert_passed()
    assert {row.rtol for row in result.rows} == {TOLERANCES["optimizer"][dtype]}
    kernel = result.rows[0].keras
    assert kernel.shape == (100, 4, 3) and not np.allclose(kernel[0], kernel[-1])  # it moved


@pytest.mark.parametrize("case", list(CASES))
def test_config_maps_to_keras_and_back(case):
    mine = CASES[case]()
    theirs = optimizer_to_keras(mine, dtype="float64")
    assert type(theirs).__name__ == type(mine).__name__
    config = theirs.get_config()
    for key, value in mine.get_config().items():
        if key in config and not isinstance(value, dict):
            assert config[key] == value, key
    back = optimizer_from_keras(theirs, keras_float32_constants=False)
    assert type(back) is type(mine)
    assert back.get_config() == mine.get_config()


def test_twin_of_a_keras_optimizer_rounds_like_keras_in_float64():
    """The default twin uses keras_float32_constants: without it, float64 SGD+momentum 0.9 and
    Adam's β's drift from Keras by more than the contract — the rounding is real."""
    assert optimizer_from_keras(keras.optimizers.Adam()).keras_float32_constants is True
    for make in (CASES["sgd-momentum"], CASES["adam"]):
        exact = compare.optimizer_steps(make(), dtype="float64", keras_exact=False)
        assert exact.max_rel > TOLERANCES["optimizer"]["float64"]
        compare.optimizer_steps(make(), dtype="float64").assert_passed()


def test_a_keras_optimizer_can_be_compared_directly():
    compare.optimizer_steps(keras.optimizers.RMSprop(0.01, momentum=0.5), dtype="float64").assert_passed()


def test_float32_learning_rate_comes_back_as_its_shortest_decimal():
    theirs = optimizer_to_keras(optimizers.Adam(0.003), dtype="float32")
    assert theirs.get_config()["learning_rate"] != 0.003  # the float32 variable
    assert optimizer_from_keras(theirs).learning_rate == 0.003
    assert optimizer_from_keras(optimizer_to_keras(optimizers.Adam(0.003), dtype="float64")).learning_rate == 0.003


def test_schedules_both_ways():
    schedule = schedules.CosineDecay(0.01, 60, alpha=0.1, warmup_target=0.05, warmup_steps=10)
    theirs = optimizer_to_keras(optimizers.SGD(schedule))
    assert type(theirs._learning_rate).__name__ == "CosineDecay"
    assert theirs._learning_rate.get_config() == schedule.get_config()
    back = optimizer_from_keras(theirs)
    assert type(back.learning_rate) is schedules.CosineDecay and back.learning_rate.get_config() == schedule.get_config()


# ---- textbook conventions -----------------------------------------------------------------------
@pytest.mark.parametrize("form", ["ema", "trace"])
@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_textbook_momentum_maps_to_its_keras_equivalent(form, nesterov):
    mine = optimizers.SGD(0.1, momentum=0.9, nesterov=nesterov, momentum_form=form)
    theirs = optimizer_to_keras(mine, dtype="float64")
    expected_lr = 0.1 * (1 - float(np.float32(0.9))) if form == "ema" else 0.1
    assert theirs.get_config()["learning_rate"] == expected_lr and theirs.momentum == 0.9
    # the equivalence is exact in arithmetic; in floating point the two forms round differently
    for dtype in DTYPES:
        compare.optimizer_steps(mine, dtype=dtype).assert_passed()


@pytest.mark.parametrize("optimizer, match", [
    (lambda: optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.9), momentum=0.9, momentum_form="ema"),
     r"SGD\(momentum_form='ema'\) has no stock Keras counterpart: under a learning-rate schedule stock "
     r"Keras's velocity"),
    (lambda: optimizers.RMSprop(epsilon_placement="outside_sqrt"),
     r"RMSprop\(epsilon_placement='outside_sqrt'\) has no stock Keras counterpart: stock Keras computes "
     r"epsilon_placement='inside_sqrt'"),
    (lambda: optimizers.RMSprop(bias_correction=True), r"RMSprop\(bias_correction=True\) has no stock Keras counterpart"),
    (lambda: optimizers.Adam(epsilon_placement="sqrt_v_hat"),
     r"Adam\(epsilon_placement='sqrt_v_hat'\) has no stock Keras counterpart"),
    (lambda: optimizers.Adagrad(epsilon_placement="outside_sqrt"), r"Adagrad\(epsilon_placement='outside_sqrt'\)"),
    (lambda: optimizers.Quickprop(), r"Optimizer Quickprop has no stock Keras counterpart.*keras_bridge\.plugins"),
    (lambda: optimizers.SGD(lambda: 0.1), r"SGD: a callable learning rate cannot be mapped"),
])
def test_refnn_options_keras_cannot_express_are_refused(optimizer, match):
    with pytest.raises(NotMappableError, match=match):
        optimizer_to_keras(optimizer())


def test_sgd_ema_without_momentum_is_plain_sgd():
    theirs = optimizer_to_keras(optimizers.SGD(0.1, momentum_form="ema"))
    assert theirs.get_config()["learning_rate"] == pytest.approx(0.1) and theirs.momentum == 0.0


@pytest.mark.parametrize("optimizer, match", [
    (lambda: keras.optimizers.Adam(use_ema=True), r"Keras Adam: option `use_ema` has no refnn counterpart. Received: use_ema=True"),
    (lambda: keras.optimizers.SGD(loss_scale_factor=2.0), r"option `loss_scale_factor`"),
    (lambda: keras.optimizers.SGD(gradient_accumulation_steps=2), r"option `gradient_accumulation_steps`"),
    (lambda: keras.optimizers.Lion(), r"Keras optimizer Lion has no refnn counterpart"),
    (lambda: keras.optimizers.SGD(learning_rate=lambda: 0.1), r"Keras SGD: a callable learning rate cannot be mapped"),
])
def test_keras_options_refnn_lacks_are_refused(optimizer, match):
    with pytest.raises(NotMappableError, match=match):
        optimizer_from_keras(optimizer())

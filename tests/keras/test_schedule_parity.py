"""Learning-rate schedules against Keras as ``fit`` runs them: compiled.

Inside a ``tf.function`` TensorFlow's graph optimizer replaces ``step / decay_steps`` with
``step × float32(1/decay_steps)`` (and, in CosineDecay, folds π into that constant). With
``staircase=True`` the floor then lands one step short at ``k·decay_steps`` for 135 of the
``decay_steps`` 1…1000: Keras's ``fit`` skips a whole decay step there, while Keras run eagerly
(step by step) does not. refnn's float32 evaluation — what the bridge's twins use — computes what
compiled Keras computes; its float64 evaluation is the exact formula.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

import refnn  # noqa: E402
from comparisons.conventions.schedules import affected_decay_steps  # noqa: E402
from keras_bridge import compare  # noqa: E402
from refnn import layers, optimizers  # noqa: E402
from refnn.optimizers import schedules  # noqa: E402

STEPS = range(0, 300)


def _compiled(schedule):
    function = tf.function(schedule)
    return np.array([function(tf.constant(s, tf.int64)).numpy() for s in STEPS], np.float32)


def _ulps(a, b):
    return np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))


def _configs(seed=0, n=12):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        ds = int(rng.integers(2, 150))
        yield ds, {
            "ExponentialDecay": {"initial_learning_rate": 0.1, "decay_steps": ds, "decay_rate": 0.5},
            "InverseTimeDecay": {"initial_learning_rate": 0.1, "decay_steps": ds, "decay_rate": 0.7,
                                 "staircase": bool(ds % 2)},
            "PolynomialDecay": {"initial_learning_rate": 0.1, "decay_steps": ds, "end_learning_rate": 0.01,
                                "power": 2.0, "cycle": bool(ds % 2)},
            "CosineDecay": {"initial_learning_rate": 0.1, "decay_steps": ds, "alpha": 0.1},
            "CosineDecay warm-up": {"initial_learning_rate": 0.0, "decay_steps": ds, "warmup_target": 0.1,
                                    "warmup_steps": ds // 3 + 1},
        }


@pytest.mark.parametrize("name, exact_share, max_ulps", [
    ("InverseTimeDecay", 1.0, 0), ("PolynomialDecay", 1.0, 0),
    # TensorFlow's scalar float32 pow and cos are not always correctly rounded: one ulp, rarely
    # (two after ExponentialDecay's product with the initial rate)
    ("ExponentialDecay", 0.99, 2), ("CosineDecay", 0.98, 1), ("CosineDecay warm-up", 0.98, 1),
])
def test_float32_schedules_are_what_compiled_keras_computes(name, exact_share, max_ulps):
    exact, total = 0, 0
    for _, configs in _configs():
        config = configs[name]
        cls = name.split()[0]
        theirs = _compiled(getattr(keras.optimizers.schedules, cls)(**config))
        mine = np.array([getattr(schedules, cls)(**config)(s, dtype=np.float32) for s in STEPS], np.float32)
        assert _ulps(mine, theirs).max() <= max_ulps, (name, config)
        exact += int(np.sum(mine == theirs))
        total += len(STEPS)
    assert exact / total >= exact_share, f"{name}: {exact} of {total} bit-identical"


def test_compiled_keras_skips_a_staircase_decay_step_and_so_does_the_twin():
    """ExponentialDecay(0.1, 41, 0.5, staircase=True) at step 41: 41 × float32(1/41) < 1, so the
    floor is 0 — Keras's fit keeps lr 0.1 for one more step; an eager Keras and the exact formula
    halve it to 0.05."""
    config = {"initial_learning_rate": 0.1, "decay_steps": 41, "decay_rate": 0.5, "staircase": True}
    keras_schedule = keras.optimizers.schedules.ExponentialDecay(**config)
    assert float(tf.function(keras_schedule)(tf.constant(41, tf.int64))) == pytest.approx(0.1)
    assert float(keras_schedule(41)) == pytest.approx(0.05)  # eagerly: the exact division
    mine = schedules.ExponentialDecay(**config)
    assert mine(41, dtype=np.float32) == pytest.approx(0.1) and mine(41) == 0.05
    affected = affected_decay_steps(1000)
    assert len(affected) == 135 and affected[:3] == [41, 47, 55]
    for decay_steps in (40, 41, 47, 48, 55):  # the list says what compiled Keras does, both ways
        late = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps, 0.5, staircase=True)
        at_step = float(tf.function(late)(tf.constant(decay_steps, tf.int64)))
        assert (at_step == pytest.approx(0.1)) == (decay_steps in affected), decay_steps


def test_fit_with_an_affected_staircase_follows_keras(float64):
    """The issue's reproducer: 10 rows, batch 1, 5 epochs — step 41 is in the fifth epoch. The
    twin (keras_float32_constants) follows Keras's fit; refnn with the exact formula does not."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    model = refnn.Sequential([layers.Dense(4, activation="tanh"), layers.Dense(1)], input_dim=3, seed=0)
    model.compile(optimizers.SGD(schedules.ExponentialDecay(0.1, 41, 0.5, staircase=True)), "mse")
    result = compare.training(model, x, y, epochs=5, batch_size=1, shuffle=False)
    result.assert_passed()
    exact = compare.training(model, x, y, epochs=5, batch_size=1, shuffle=False, keras_exact=False)
    assert not exact.passed and exact.first_failure.quantity == "loss"

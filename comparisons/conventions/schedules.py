"""8. A staircase schedule inside Keras's ``fit``: the formula ``⌊step/decay_steps⌋`` vs what the
compiled function computes, ``⌊step × float32(1/decay_steps)⌋``."""

from __future__ import annotations

import numpy as np

from comparisons.conventions.measuring import F64, add_check
from comparisons.report import Difference, Heading, Panel, Plot, Section, Series, Table, fmt_err
from refnn import layers, optimizers
from refnn.optimizers import schedules

__all__ = ["measure", "render", "affected_decay_steps"]

DECAY_STEPS = 41


def affected_decay_steps(limit: int = 1000) -> list[int]:
    """The ``decay_steps`` whose first staircase step lands one step late inside ``fit``:
    ``decay_steps × float32(1/decay_steps) < 1``."""
    f = np.float32
    return [ds for ds in range(1, limit + 1) if np.floor(f(ds) * (f(1.0) / f(ds))) < 1]


def measure(steps: int = 100) -> dict:
    """The learning rate of ``ExponentialDecay(0.1, 41, 0.5, staircase=True)`` per step — Keras
    compiled (as in ``fit``), Keras eager, refnn's formula and refnn's float32 (twin) evaluation —
    and a 5-epoch ``fit`` (10 rows, batch 1) compared with Keras's against both refnn forms."""
    import keras
    import tensorflow as tf

    from keras_bridge import compare

    config = {"initial_learning_rate": 0.1, "decay_steps": DECAY_STEPS, "decay_rate": 0.5, "staircase": True}
    keras_schedule = keras.optimizers.schedules.ExponentialDecay(**config)
    compiled = tf.function(keras_schedule)
    mine = schedules.ExponentialDecay(**config)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    model = _model()
    twin = compare.training(model, x, y, epochs=5, batch_size=1, shuffle=False)
    exact = compare.training(model, x, y, epochs=5, batch_size=1, shuffle=False, keras_exact=False)
    affected = affected_decay_steps()
    return {
        "steps": list(range(steps)),
        "keras_fit": [float(compiled(tf.constant(s, tf.int64))) for s in range(steps)],
        "keras_eager": [float(keras_schedule(s)) for s in range(steps)],
        "formula": [mine(s) for s in range(steps)],
        "twin": [mine(s, dtype=np.float32) for s in range(steps)],
        "affected": affected,
        "fit_twin": twin.max_rel, "fit_formula": exact.max_rel,
        "check": max(abs(a - b) for a, b in zip([mine(s, dtype=np.float32) for s in range(steps)],
                                                  [float(compiled(tf.constant(s, tf.int64))) for s in range(steps)])),
    }


def _model():
    import refnn

    model = refnn.Sequential([layers.Dense(4, activation="tanh"), layers.Dense(1)], input_dim=3, seed=0, dtype=F64)
    model.compile(optimizers.SGD(schedules.ExponentialDecay(0.1, DECAY_STEPS, 0.5, staircase=True)), "mse")
    return model


def render(section: Section, s: dict) -> None:
    """The item's heading, text, table, figure, difference and check."""
    affected = s["affected"]
    late = DECAY_STEPS
    section.add(
        Heading("8. A staircase schedule inside Keras's fit: ⌊step/decay_steps⌋ vs the compiled rewrite"),
        "`fit` runs the optimizer in a compiled `tf.function`, and TensorFlow's graph optimizer replaces "
        "`step / decay_steps` by `step × float32(1/decay_steps)`. With `staircase=True` the floor of "
        f"41 × float32(1/41) is 0, not 1: at step {late} Keras's `fit` keeps the rate of the previous "
        "stair for one more step, while the formula — and Keras run step by step, eagerly — halves it. "
        f"This happens for {len(affected)} of the `decay_steps` 1…1000 ({', '.join(map(str, affected[:8]))}, …). "
        "refnn's formula is exact; the bridge's twins (`keras_float32_constants=True`) compute what `fit` "
        "computes, and the bridge compares with Keras compiled.",
        Table(["", "max relative difference from Keras's fit, 5 epochs"],
              [["refnn, exact formula", fmt_err(s["fit_formula"])],
               ["refnn twin (keras_float32_constants)", fmt_err(s["fit_twin"])]],
              "ExponentialDecay(0.1, 41, 0.5, staircase=True), SGD, 10 rows, batch 1: step 41 is in epoch 5."),
        Plot("conventions_staircase", "Learning rate per step, ExponentialDecay(0.1, 41, 0.5, staircase=True): "
             "Keras's fit (compiled) halves one step late at every multiple of 41 that the rewrite misses.",
             [Panel("learning rate per step", "step", "learning rate", [
                 Series("Keras fit (compiled)", s["steps"], s["keras_fit"], "-"),
                 Series("formula (refnn exact, Keras eager)", s["steps"], s["formula"], "--")])]))
    section.differences.append(Difference(
        "staircase schedule inside Keras's fit: ⌊step × float32(1/decay_steps)⌋, decay_steps = 41",
        f"the first halving comes one step late; {len(affected)} of decay_steps 1…1000 affected; a 5-epoch fit "
        f"differs by {s['fit_formula']:.1e} from the exact formula", s["fit_formula"]))
    add_check(section, "staircase schedule: refnn float32 vs Keras compiled (learning rate, 100 steps)",
              s["check"], "float32", 0.0)

"""1. Momentum as a moving average (textbook) vs Keras's velocity."""

from __future__ import annotations

import numpy as np

from comparisons.conventions.measuring import add_check, keras_trajectory, refnn_trajectory, steps_of
from comparisons.report import Difference, Heading, Panel, Plot, Section, Series, Table
from refnn import optimizers
from refnn.optimizers import schedules
from refnn.utils.tolerance import relative_error

__all__ = ["measure", "render"]


def measure(steps: int = 100, seed: int = 0, beta: float = 0.9, lr: float = 0.1) -> dict:
    """Keras velocity vs the textbook's EMA, same gradients.

    Returns:
        ``ratio_constant`` (Keras step / EMA step at a constant lr, min and max over steps and
        elements), ``ratio_mapped`` (Keras with ``lr·(1−β)``: 1), ``ratio_schedule`` (the same
        mapping under ``ExponentialDecay(lr, 10, 0.5)``, per step), ``check`` (refnn's Keras form
        vs live Keras).
    """
    import keras

    rng = np.random.default_rng(seed)
    grads = rng.standard_normal((steps, 8))
    init = rng.standard_normal(8)

    # Keras float64 rounds μ through float32; the refnn side uses that μ too, so the ratio is exact
    def ema(lr_):
        return optimizers.SGD(lr_, momentum=beta, momentum_form="ema", keras_float32_constants=True)

    keras_same = steps_of(keras_trajectory(lambda: keras.optimizers.SGD(lr, momentum=beta), init, grads))
    ema_steps = steps_of(refnn_trajectory(ema(lr), init, grads))
    refnn_keras = steps_of(refnn_trajectory(optimizers.SGD(lr, momentum=beta, keras_float32_constants=True),
                                           init, grads))
    ratio = keras_same / ema_steps
    mu32 = float(np.float32(beta))  # the μ Keras float64 computes with
    # a constant positive gradient makes the scheduled ratio a clean curve
    ones = np.ones((steps, 1))
    mapped = steps_of(keras_trajectory(lambda: keras.optimizers.SGD(lr * (1 - mu32), momentum=beta), [0.0], ones))
    ema_const = steps_of(refnn_trajectory(ema(lr), [0.0], ones))
    sched_keras = steps_of(keras_trajectory(lambda: keras.optimizers.SGD(
        keras.optimizers.schedules.ExponentialDecay(lr * (1 - mu32), 10, 0.5), momentum=beta), [0.0], ones))
    sched_ema = steps_of(refnn_trajectory(optimizers.SGD(schedules.ExponentialDecay(lr, 10, 0.5), momentum=beta,
                                                        momentum_form="ema", keras_float32_constants=True),
                                         [0.0], ones))
    return {
        "beta": beta, "lr": lr, "steps": steps,
        "expected_ratio": 1.0 / (1.0 - mu32),
        "ratio_constant": [float(ratio.min()), float(ratio.max())],
        "ratio_constant_per_step": (keras_same[:, 0] / ema_steps[:, 0]).tolist(),
        "ratio_mapped": (mapped[:, 0] / ema_const[:, 0]).tolist(),
        "ratio_schedule": (sched_keras[:, 0] / sched_ema[:, 0]).tolist(),
        "check": relative_error(refnn_keras, keras_same),
    }


def render(section: Section, m: dict) -> None:
    """The item's heading, text, table, figure, differences and check."""
    ratio = m["ratio_constant"]
    drift = m["ratio_schedule"][-1]
    section.add(
        Heading("1. Momentum: moving average (textbook) vs velocity (Keras)"),
        "Textbook: `V ← βV + (1−β)g; W ← W − lr·V`. Keras: `m ← μm − lr·g; W ← W + m`. Same β = μ = "
        f"{m['beta']}, lr = {m['lr']}, {m['steps']} random gradients (refnn `SGD(momentum_form=\"ema\")` "
        "vs `keras.optimizers.SGD`). Keras's velocity is the EMA without its (1−β) factor and with lr "
        "inside, so its step is the EMA step × 1/(1−β) at *every* step. Setting lr_keras = (1−β)·lr "
        "makes them equal — but only while lr is constant: under a schedule, Keras scales each "
        "gradient by the lr of its own step and remembers it, the EMA multiplies the whole average "
        "by today's lr.",
        Table(["setting", "Keras step / EMA step"], [
            [f"same lr = {m['lr']}, every step and element (min … max)",
             f"{ratio[0]:.6f} … {ratio[1]:.6f} (1/(1−β) = {m['expected_ratio']:.6f}; Keras rounds β "
             "through float32 in float64)"],
            ["lr_keras = (1−β)·lr, constant", f"{min(m['ratio_mapped']):.6f} … {max(m['ratio_mapped']):.6f}"],
            ["lr_keras = (1−β)·lr, both ExponentialDecay (×0.5 every 10 steps)",
             f"1 at step 1, {m['ratio_schedule'][9]:.3f} at step 10, {drift:.3f} at step {m['steps']}"],
        ], "Constant gradient g = 1 for the last two rows."),
        Plot("conventions_momentum", "Keras step / EMA step, per step. Same lr: 10× throughout. With "
             "lr_keras = (1−β)·lr: equal at a constant lr, diverging as soon as the lr decays.",
             [Panel("momentum: Keras velocity / EMA", "step", "step ratio", [
                 Series("same lr", list(range(1, m["steps"] + 1)), m["ratio_constant_per_step"]),
                 Series("lr·(1−β), constant lr", list(range(1, m["steps"] + 1)), m["ratio_mapped"], "--"),
                 Series("lr·(1−β), ExponentialDecay", list(range(1, m["steps"] + 1)), m["ratio_schedule"]),
             ], yscale="log")]))
    section.differences += [
        Difference("momentum: Keras velocity vs EMA, same constant lr (β = 0.9)",
                   f"Keras steps are {ratio[1]:.4f}× the EMA's at every step (1/(1−β))", ratio[1]),
        Difference("momentum under a schedule (lr halves every 10 steps), lr_keras = (1−β)·lr",
                   f"step ratio drifts from 1 to {drift:.3f} by step {m['steps']}: no single lr maps them",
                   drift)]
    add_check(section, "SGD momentum (Keras form) vs Keras, 100 random gradients", m["check"])

"""6. The softmax derivative f(1 − f) (diagonal only) vs the full Jacobian; the CCE derivative."""

from __future__ import annotations

import numpy as np

from comparisons.conventions.measuring import F64, add_check
from comparisons.report import Difference, Heading, Panel, Plot, Section, Series, Table
from refnn import activations, losses
from refnn.utils.tolerance import relative_error

__all__ = ["measure", "render"]


def measure(z=(2.0, 1.0, 0.1), target: int = 1) -> dict:
    """``∂L/∂z`` of CCE(softmax(z)): Keras (live) vs the full Jacobian and the diagonal-only
    ``f(1 − f)`` applied to the textbook's ``∂L/∂ŷ = −y/ŷ``; and ``∂L/∂ŷ`` on probabilities."""
    import keras
    import tensorflow as tf

    from keras_bridge import floatx

    z = np.asarray([z], dtype=F64)
    y = np.zeros_like(z)
    y[0, target] = 1.0
    sm = activations.Softmax()
    f = sm(z)
    dy_textbook = -y / f
    full = sm.backward(z, f, dy_textbook)
    diagonal = dy_textbook * f * (1 - f)
    with floatx(F64):
        zt = tf.Variable(z)
        with tf.GradientTape() as tape:
            value = keras.losses.CategoricalCrossentropy()(tf.constant(y), keras.activations.softmax(zt))
        keras_dz = tape.gradient(value, zt).numpy()
        pt = tf.Variable(f)  # a plain probability tensor: Keras's clipped, renormalised path
        with tf.GradientTape() as tape:
            value = keras.losses.CategoricalCrossentropy()(tf.constant(y), pt)
        keras_dp = tape.gradient(value, pt).numpy()
    refnn_dp = losses.CategoricalCrossentropy().gradient(y, f)
    return {
        "z": z.ravel().tolist(), "target": target, "f": f.ravel().tolist(),
        "keras": keras_dz.ravel().tolist(), "full": full.ravel().tolist(), "diagonal": diagonal.ravel().tolist(),
        "diagonal_error": float(np.max(np.abs(diagonal - keras_dz))),
        "dp_textbook": dy_textbook.ravel().tolist(), "dp_keras": keras_dp.ravel().tolist(),
        "dp_offset": (keras_dp - dy_textbook).ravel().tolist(),
        "check": max(relative_error(full, keras_dz), relative_error(refnn_dp, keras_dp)),
    }


def render(section: Section, sm: dict) -> None:
    """The item's heading, text, table, figure, differences and check."""
    fmt3 = lambda v: "[" + ", ".join(f"{x + 0.0:.3f}" for x in v) + "]"  # noqa: E731
    section.add(
        Heading("6. Softmax derivative f(1 − f) vs the full Jacobian; CCE derivative"),
        "The softmax Jacobian is `∂f_i/∂z_j = f_i(δ_ij − f_j)`. Writing it as f(1 − f) keeps only the "
        "diagonal: with the textbook's `∂L/∂ŷ = −y/ŷ` that gives −y(1 − f) — non-zero only for the target "
        "— instead of f − y. A wrong gradient, not a rounding effect. "
        f"z = {fmt3(sm['z'])}, target class {sm['target']}.",
        Table(["", "∂L/∂z"], [["Keras (GradientTape, live)", fmt3(sm["keras"])],
                              ["textbook −y/ŷ, full Jacobian", fmt3(sm["full"])],
                              ["textbook −y/ŷ, diagonal f(1 − f) only", fmt3(sm["diagonal"])]]),
        "On probabilities Keras renormalises ŷ ← ŷ/Σŷ before the log, which adds Σy/Σŷ = 1 to every "
        f"entry of ∂L/∂ŷ (N = 1 here): Keras {fmt3(sm['dp_keras'])} vs textbook −y/ŷ {fmt3(sm['dp_textbook'])}. "
        "The constant cancels through the full softmax Jacobian, so ∂L/∂z is the same.",
        Plot("conventions_softmax", "∂L/∂z of CCE(softmax(z)), z = [2, 1, 0.1], target 1: the "
             "diagonal-only derivative drops the −f_i f_j terms.",
             [Panel("softmax + CCE: ∂L/∂z", "class", "∂L/∂z", [
                 Series("Keras", ["0", "1", "2"], sm["keras"]),
                 Series("full Jacobian", ["0", "1", "2"], sm["full"]),
                 Series("diagonal f(1−f)", ["0", "1", "2"], sm["diagonal"])], kind="bar")]))
    section.differences += [
        Difference("softmax derivative f(1−f) (diagonal) vs full Jacobian, z = [2, 1, 0.1], target 1",
                   f"∂L/∂z {fmt3(sm['diagonal'])} vs {fmt3(sm['keras'])} (max error {sm['diagonal_error']:.3f})",
                   sm["diagonal_error"]),
        Difference("CCE ∂L/∂ŷ on probabilities: textbook −y/ŷ vs Keras (renormalised)",
                   f"Keras adds +{np.mean(sm['dp_offset']):.3f}/N to every class; ∂L/∂z unchanged",
                   float(np.mean(sm["dp_offset"])))]
    add_check(section, "softmax + CCE gradients vs Keras (logits and probability paths)", sm["check"])

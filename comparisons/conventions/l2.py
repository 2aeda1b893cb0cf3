"""7. L2: λ/2·‖w‖² (textbook) vs l2·Σw² (Keras)."""

from __future__ import annotations

import numpy as np

from comparisons.conventions.measuring import F64, add_check
from comparisons.report import Difference, Heading, Section, Table, fmt_num
from refnn import regularizers
from refnn.utils.tolerance import relative_error

__all__ = ["measure", "render"]


def measure(seed: int = 0, factor: float = 0.01) -> dict:
    """Penalty and gradient on the digits network's first kernel: Keras ``L2(l2)`` (live) vs the
    textbook's ``λ/2·‖w‖²`` with λ = l2."""
    import keras
    import tensorflow as tf

    from comparisons.demo import build_model
    from keras_bridge import floatx

    w = build_model(seed, F64).layers[0].params["kernel"]
    with floatx(F64):
        wt = tf.Variable(w)
        with tf.GradientTape() as tape:
            value = keras.regularizers.L2(factor)(wt)
        g_keras = tape.gradient(value, wt).numpy()
    value = float(value)
    textbook_value, textbook_grad = 0.5 * factor * float(np.sum(w * w)), factor * w
    # Keras float64 rounds the factor through float32; refnn's L2 with that factor is its twin
    reg = regularizers.L2(float(np.float32(factor)))
    return {"l2": factor, "keras_value": value, "textbook_value": textbook_value,
            "value_ratio": value / textbook_value, "gradient_ratio": float(np.median(g_keras / textbook_grad)),
            "exact_factor_rel": abs(value - factor * float(np.sum(w * w))) / value,
            "check": max(relative_error(reg(w), value), relative_error(reg.gradient(w), g_keras))}


def render(section: Section, w: dict) -> None:
    """The item's heading, text, table, figure, differences and check."""
    section.add(
        Heading("7. L2: λ/2·‖w‖² (textbook) vs l2·Σw² (Keras)"),
        "Keras's `L2(l2)` adds l2·Σw² with no ½, gradient 2·l2·w. With the same number, Keras's penalty "
        "and its gradient are twice the textbook's: the textbook's λ is Keras's `L2(λ/2)`. (And in float64 "
        "Keras rounds l2 through float32: its penalty differs from l2·Σw² with the exact 0.01 by "
        f"{w['exact_factor_rel']:.1e} relative.) The digits network's first kernel, l2 = λ = {w['l2']}.",
        Table(["", "penalty", "Keras / textbook"],
              [["Keras L2 (live)", fmt_num(w["keras_value"], 6), ""],
               ["textbook λ/2‖w‖²", fmt_num(w["textbook_value"], 6), f"{w['value_ratio']:.6f}"],
               ["gradient", "", f"{w['gradient_ratio']:.6f}"]]))
    section.differences.append(Difference(
        "L2: textbook λ/2·‖w‖² vs Keras l2·Σw², same number",
        f"Keras penalty and gradient are {w['value_ratio']:.4f}× the textbook's (use L2(λ/2))", w["value_ratio"]))
    add_check(section, "L2 penalty and gradient vs Keras", w["check"])

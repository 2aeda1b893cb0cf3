"""4. The MSE derivative: 2/n·(ŷ − y) with n = samples (textbook) vs 2(ŷ − y)/(N·D) (Keras)."""

from __future__ import annotations

import numpy as np

from comparisons.conventions.measuring import F64, add_check
from comparisons.report import Difference, Heading, Section, Table
from refnn import losses
from refnn.utils.tolerance import relative_error

__all__ = ["measure", "render"]


def measure(seed: int = 0, rows: int = 64) -> dict:
    """``∂L/∂ŷ`` of the MSE: Keras (GradientTape, live) vs the textbook's ``2/n·(ŷ − y)`` with n =
    samples, on diabetes (D = 1) and iris with one-hot targets (D = 3); ŷ from an untrained
    network."""
    import keras
    import tensorflow as tf

    import refnn
    from comparisons import datasets
    from keras_bridge import floatx
    from refnn import layers

    out = {}
    for name in ("diabetes", "iris"):
        data = datasets.load(name, F64, seed)
        x, y = data.x_train[:rows], data.y_train[:rows]
        net = refnn.Sequential([layers.Dense(8, activation="tanh"), layers.Dense(data.n_outputs)],
                               input_dim=data.n_features, seed=seed)
        y_hat = net.predict(x)
        with floatx(F64):
            pred = tf.Variable(y_hat)
            with tf.GradientTape() as tape:
                value = keras.losses.MeanSquaredError()(tf.constant(y), pred)
            g_keras = tape.gradient(value, pred).numpy()
        n, d = y.shape
        g_textbook = 2.0 * (y_hat - y) / n
        g_refnn = losses.MeanSquaredError().gradient(y, y_hat)
        out[name] = {"N": n, "D": d, "ratio": float(np.median(g_textbook / g_keras)),
                     "check": relative_error(g_refnn, g_keras)}
    return out


def render(section: Section, e: dict) -> None:
    """The item's heading, text, table, figure, differences and check."""
    section.add(
        Heading("4. MSE derivative: 2/n·(ŷ − y) with n = samples (textbook) vs 2(ŷ − y)/(N·D) (Keras)"),
        "Keras averages the squared error over the D outputs and the N samples. The textbook's n is the "
        "number of samples, so the textbook's gradient is D× larger as soon as the output has D > 1 units "
        "(same if n counts all N·D entries). ŷ from an untrained network, Keras gradient by "
        "`GradientTape`.",
        Table(["data", "N", "D", "textbook / Keras gradient"],
              [[k, str(v["N"]), str(v["D"]), f"{v['ratio']:.4f}"] for k, v in e.items()]))
    section.differences.append(Difference(
        "MSE derivative 2/n·(ŷ−y), n = samples, vs Keras 2/(N·D)",
        f"the textbook gradient is D× larger: {e['iris']['ratio']:.3f}× on iris one-hot (D = 3), "
        f"{e['diabetes']['ratio']:.3f}× on diabetes (D = 1)", e["iris"]["ratio"]))
    add_check(section, "MSE gradient vs Keras (diabetes, iris)", max(v["check"] for v in e.values()))

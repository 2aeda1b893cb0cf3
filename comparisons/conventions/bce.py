"""5. The BCE derivative on probabilities in float32: saturation (textbook) vs the logits path (Keras)."""

from __future__ import annotations

import numpy as np

from comparisons.conventions.measuring import F64, add_check
from comparisons.report import Difference, Heading, Panel, Plot, Section, Series, Table, fmt_num
from refnn import activations, losses
from refnn.utils.tolerance import relative_error

__all__ = ["measure", "render"]


BCE_TABLE_Z = (5.0, 10.0, 15.0, 16.0, 17.0, 20.0)


def measure(z_max: float = 25.0, points: int = 101) -> dict:
    """``N·∂L/∂z`` for a sigmoid output, target 0, against the logit z: per-sample, so the
    logits-path value is σ(z) − y ≈ 1 for large z.

    * textbook: ``(ŷ − y)/(ŷ(1 − ŷ))/N`` chained with ``σ'(z) = ŷ(1 − ŷ)``, NumPy, no clip;
    * textbook with Keras's clip of ŷ to [ε, 1 − ε] (``refnn.losses.BinaryCrossentropy`` on
      probabilities);
    * Keras on probabilities (``tf.math.sigmoid`` output: no logits attached → clipped path);
    * Keras on the output of ``keras.activations.sigmoid`` (the logits path a Dense layer with
      ``activation="sigmoid"`` takes).
    """
    import keras
    import tensorflow as tf

    from keras_bridge import floatx

    z_grid = np.unique(np.concatenate([np.linspace(0.0, z_max, points), BCE_TABLE_Z]))
    out = {"z": z_grid.tolist()}
    for dtype in ("float32", F64):
        z = z_grid.reshape(-1, 1).astype(dtype)
        n = z.shape[0]
        y = np.zeros_like(z)
        sig = activations.Sigmoid()
        p = sig(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            textbook = ((p - y) / (p * (1 - p)) / n) * (p * (1 - p))
        clipped = sig.backward(z, p, losses.BinaryCrossentropy().gradient(y, p))
        logits_refnn = losses.BinaryCrossentropy(from_logits=True).gradient(y, z)
        with floatx(dtype):
            zt = tf.Variable(z)
            grads = {}
            for path, f in (("keras_probabilities", tf.math.sigmoid), ("keras_logits", keras.activations.sigmoid)):
                with tf.GradientTape() as tape:
                    value = keras.losses.BinaryCrossentropy()(tf.constant(y), f(zt))
                grads[path] = tape.gradient(value, zt).numpy()
        out[dtype] = {
            "textbook": (n * textbook).ravel().tolist(),
            "textbook_clipped": (n * clipped).ravel().tolist(),
            "keras_probabilities": (n * grads["keras_probabilities"]).ravel().tolist(),
            "keras_logits": (n * grads["keras_logits"]).ravel().tolist(),
            "check": relative_error(logits_refnn, grads["keras_logits"]),
            "saturates_at": float(z_grid[np.argmax(p.ravel() == 1.0)]) if np.any(p == 1.0) else None,
        }
    return out


def render(section: Section, b: dict) -> None:
    """The item's heading, text, table, figure, differences and check."""
    z = b["z"]
    idx = [z.index(v) for v in BCE_TABLE_Z]
    f32, f64 = b["float32"], b[F64]
    section.add(
        Heading("5. BCE derivative on probabilities, float32: saturation"),
        "Textbook: `∂L/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ))/n`, chained through σ'(z) = ŷ(1 − ŷ). Mathematically "
        "that is (σ(z) − y)/n, Keras's logits-path gradient — but in float32 σ(z) rounds to exactly "
        f"1 from z ≈ {f32['saturates_at']} on: the textbook's formula gives 0/0 (NaN) and, with Keras's "
        "clip of ŷ to [ε, 1 − ε], 0 — a confidently wrong unit stops learning. Keras differentiates "
        "from the logits whenever the probabilities come from a sigmoid layer. Values are N·∂L/∂z "
        "(per sample) for target 0.",
        Table(["z", "textbook (no clip)", "textbook, ŷ clipped", "Keras, probabilities", "Keras, logits path",
               "float64: textbook"],
              [[fmt_num(z[i], 3), fmt_num(f32["textbook"][i], 6), fmt_num(f32["textbook_clipped"][i], 6),
                fmt_num(f32["keras_probabilities"][i], 6), fmt_num(f32["keras_logits"][i], 6),
                fmt_num(f64["textbook"][i], 10)] for i in idx], "float32 unless stated."),
        Plot("conventions_bce", "N·∂L/∂z for target 0 in float32 against the logit z: the probability "
             "path collapses to 0 where σ(z) reaches the clip bound 1 − ε (TensorFlow's float32 sigmoid "
             "rounds a little differently from NumPy's, so the two drop at slightly different z); the "
             "logits path stays at σ(z) − y ≈ 1.",
             [Panel("BCE gradient, float32", "logit z", "N·∂L/∂z", [
                 Series("textbook, ŷ clipped (NaN unclipped)", z, f32["textbook_clipped"]),
                 Series("Keras, probabilities", z, f32["keras_probabilities"], "--"),
                 Series("Keras, logits path", z, f32["keras_logits"], ":")])]))
    i20 = z.index(20.0)
    section.differences.append(Difference(
        "BCE on probabilities, float32, z = 20 (σ(z) rounds to 1), target 0",
        f"textbook ∂L/∂z = {fmt_num(f32['textbook_clipped'][i20])} (NaN without the clip) vs Keras logits "
        f"path {fmt_num(f32['keras_logits'][i20])}/N", f32["textbook_clipped"][i20]))
    add_check(section, "BCE logits-path gradient vs Keras, float32", f32["check"], "float32", 1e-5)
    add_check(section, "BCE logits-path gradient vs Keras, float64", f64["check"])

"""3. Adam: ε added to √v (Keras, ε̂) vs to √v̂ (Algorithm 1, textbook)."""

from __future__ import annotations

import numpy as np

from comparisons.conventions.measuring import add_check, keras_trajectory, refnn_trajectory, steps_of
from comparisons.report import Difference, Heading, Panel, Plot, Section, Series, Table, fmt_num
from refnn import optimizers
from refnn.utils.tolerance import relative_error

__all__ = ["measure", "render"]


ADAM_GRADIENTS = (1.0, 1e-2, 1e-3, 1e-4, 1e-5)


def measure(steps: int = 1000, lr: float = 1e-3, epsilon: float = 1e-7) -> dict:
    """Relative step difference ``(Δ_keras − Δ_paper)/Δ_paper`` against a constant |g|, at t = 1 and
    t = ``steps``, with the same ε; plus the textbook preset (ε = 1e-8)."""
    import keras

    g_values = np.unique(np.concatenate([ADAM_GRADIENTS, np.logspace(-7, 0, 29)]))[::-1]
    init = np.zeros_like(g_values)
    grads = np.tile(g_values, (steps, 1))
    keras_steps = steps_of(keras_trajectory(lambda: keras.optimizers.Adam(lr, epsilon=epsilon), init, grads))
    # β's rounded through float32 in βᵗ as Keras float64 does: only the ε form differs
    textbook = steps_of(refnn_trajectory(optimizers.Adam(lr, epsilon=epsilon, epsilon_placement="sqrt_v_hat",
                                                     keras_float32_constants=True), init, grads))
    preset = optimizers.get("adam", convention="textbook")
    preset.learning_rate, preset.keras_float32_constants = lr, True
    preset_steps = steps_of(refnn_trajectory(preset, init, grads))
    refnn_keras = steps_of(refnn_trajectory(optimizers.Adam(lr, epsilon=epsilon, keras_float32_constants=True),
                                           init, grads))
    rel = (keras_steps - textbook) / textbook
    rel_preset = (keras_steps - preset_steps) / preset_steps
    table = {}
    for g in ADAM_GRADIENTS:
        i = int(np.flatnonzero(g_values == g)[0])
        # Keras ≡ textbook with ε_textbook = ε/√(1−β₂ᵗ): at t = 1, Δ_k/Δ_p − 1 = (|g| + ε)/(|g| + ε/√(1−β₂)) − 1
        table[g] = {"t1": float(rel[0, i]), "tT": float(rel[-1, i]), "preset_tT": float(rel_preset[-1, i]),
                    "formula_t1": float((g + epsilon) / (g + epsilon / np.sqrt(1 - 0.999)) - 1)}
    return {"lr": lr, "epsilon": epsilon, "steps": steps, "g": g_values.tolist(),
            "rel_t1": rel[0].tolist(), "rel_tT": rel[-1].tolist(), "table": table,
            "check": relative_error(refnn_keras, keras_steps)}


def render(section: Section, a: dict) -> None:
    """The item's heading, text, table, figure, differences and check."""
    section.add(
        Heading("3. Adam: ε̂ (Keras) vs ε (Kingma & Ba, Algorithm 1)"),
        "Textbook (Algorithm 1): `W −= lr·m̂/(√v̂ + ε)`. Keras: `W −= lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v + ε)` — ε is added to "
        "the *uncorrected* √v, i.e. Keras ≡ textbook with ε_textbook = ε/√(1−β₂ᵗ): 31.6× larger at t = 1, "
        "→ ε as t grows. Same ε = 1e-7 on both sides (refnn `Adam(epsilon_placement=\"sqrt_v_hat\")`), constant "
        "gradient, relative step difference (Δ_keras − Δ_paper)/Δ_paper. The textbook preset also "
        "uses ε = 1e-8 (last column).",
        Table(["|g|", "t = 1 (live)", "t = 1 formula", f"t = {a['steps']}",
               f"textbook preset ε=1e-8, t = {a['steps']}"],
              [[f"{g:.0e}", fmt_num(v["t1"], 3), fmt_num(v["formula_t1"], 3), fmt_num(v["tT"], 3),
                fmt_num(v["preset_tT"], 3)] for g, v in a["table"].items()],
              "t = 1 formula: (|g| + ε)/(|g| + ε/√(1−β₂)) − 1."),
        Plot("conventions_adam", "|relative step difference| Keras vs textbook, same ε = 1e-7, against a "
             "constant |g|: large only where √v̂ is comparable to ε (tiny gradients), shrinking with t.",
             [Panel("Adam: ε̂ vs ε", "|g|", "|Δ_keras − Δ_paper| / Δ_paper", [
                 Series("t = 1", a["g"], np.abs(a["rel_t1"]).tolist(), "o-"),
                 Series(f"t = {a['steps']}", a["g"], np.maximum(np.abs(a["rel_tT"]), 1e-18).tolist(), "s--")],
                 xscale="log", yscale="log")]))
    t4 = a["table"][1e-4]
    section.differences.append(Difference(
        "Adam ε̂ (Keras) vs textbook ε, same ε = 1e-7, step at |g| = 1e-4",
        f"{100 * t4['t1']:+.2f}% at t = 1, {100 * t4['tT']:+.3f}% at t = {a['steps']}; at |g| = 1: "
        f"{a['table'][1.0]['t1']:.1e}", t4["t1"]))
    add_check(section, f"Adam (Keras form) vs Keras, {a['steps']} steps", a["check"])

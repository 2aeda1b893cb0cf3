"""2. RMSprop: β = 0.999 with ε outside √ (textbook) vs ρ = 0.9 with ε inside √ (Keras)."""

from __future__ import annotations

import numpy as np

from comparisons.conventions.measuring import add_check, keras_trajectory, refnn_trajectory, steps_of
from comparisons.report import Difference, Heading, Panel, Plot, Section, Series, Table, fmt_num
from refnn import optimizers
from refnn.utils.tolerance import relative_error

__all__ = ["measure", "render"]


FLOOR_GRADIENTS = (1e-2, 1e-3, 1e-4)


def measure(keras_steps: int = 200, textbook_steps: int = 20000, lr: float = 1e-3) -> dict:
    """Step/lr over t for a constant g = 1, and the steady step/lr against |g|.

    Keras runs ρ = 0.9, ε = 1e-7 inside √ (live). The textbook preset
    (``optimizers.get("rmsprop", convention="textbook")``: β = 0.999, ε = 1e-8 outside √, no bias
    correction) runs ``textbook_steps`` to reach its steady state; ``RMSprop(ε outside)`` with
    Keras's ρ and ε isolates the placement of ε.
    """
    import keras

    g_values = np.unique(np.concatenate([[1.0], FLOOR_GRADIENTS, np.logspace(-6, 0, 25)]))[::-1]
    init = np.zeros_like(g_values)
    keras_tr = keras_trajectory(lambda: keras.optimizers.RMSprop(lr), init,
                                 np.tile(g_values, (keras_steps, 1)))
    keras_rel = steps_of(keras_tr) / lr
    refnn_keras = steps_of(refnn_trajectory(optimizers.RMSprop(lr), init, np.tile(g_values, (keras_steps, 1)))) / lr
    textbook = optimizers.get("rmsprop", convention="textbook")
    textbook.learning_rate = lr
    text_rel = steps_of(refnn_trajectory(textbook, init, np.tile(g_values, (textbook_steps, 1)))) / lr
    outside = steps_of(refnn_trajectory(optimizers.RMSprop(lr, epsilon_placement="outside_sqrt"), init,
                                       np.tile(g_values, (keras_steps, 1)))) / lr
    one = int(np.flatnonzero(g_values == 1.0)[0])
    at = lambda a, t: float(a[t - 1, one])  # noqa: E731
    floor = {}
    for g in FLOOR_GRADIENTS:
        i = int(np.flatnonzero(g_values == g)[0])
        floor[g] = {"keras": float(keras_rel[-1, i]), "outside_sqrt": float(outside[-1, i]),
                    "textbook": float(text_rel[-1, i]), "formula_keras": g / np.sqrt(g * g + 1e-7)}
    return {
        "lr": lr, "keras_steps": keras_steps, "textbook_steps": textbook_steps,
        "step_over_lr": {t: {"keras": at(keras_rel, t), "textbook": at(text_rel, t)} for t in (1, 10, 100)},
        "curve_keras": keras_rel[:, one].tolist(), "curve_textbook": text_rel[:, one].tolist(),
        "g": g_values.tolist(),
        "steady_keras": keras_rel[-1].tolist(),
        "steady_outside": outside[-1].tolist(),
        "steady_textbook": text_rel[-1].tolist(),
        "floor": floor,
        "check": relative_error(refnn_keras, keras_rel),
    }


def render(section: Section, r: dict) -> None:
    """The item's heading, text, table, figure, differences and check."""
    s = r["step_over_lr"]
    section.add(
        Heading("2. RMSprop: β = 0.999, ε outside √ (textbook) vs ρ = 0.9, ε inside √ (Keras)"),
        "Textbook: `s ← βs + (1−β)g²`, β = 0.999, `W −= lr·g/(√s + ε)`. Keras: ρ = 0.9, "
        "`W −= lr·g/√(s + ε)`, ε = 1e-7. Neither is bias-corrected, so the first steps are "
        "lr·g/√((1−β)g²): 1/√0.1 = 3.16 for Keras, 1/√0.001 = 31.6 for the textbook — and β = 0.999 needs "
        "thousands of steps to settle. Constant gradient g = 1, textbook side "
        "`optimizers.get(\"rmsprop\", convention=\"textbook\")`.",
        Table(["step t", "Keras step/lr (live)", "textbook step/lr", "ratio"],
              [[str(t), fmt_num(v["keras"]), fmt_num(v["textbook"]), f"{v['textbook'] / v['keras']:.2f}×"]
               for t, v in s.items()]),
        "ε inside the square root puts a floor √ε = 3.16e-4 under Keras's denominator: at steady state "
        "step/lr = |g|/√(g² + ε), which falls well below 1 for |g| ≲ 1e-3. With ε outside (same ρ and ε, "
        "`RMSprop(epsilon_placement=\"outside_sqrt\")`) it is |g|/(|g| + ε) ≈ 1.",
        Table(["|g|", "Keras (live)", "|g|/√(g²+ε)", "ε outside √, same ρ, ε", "textbook preset (steady)"],
              [[f"{g:.0e}", fmt_num(v["keras"]), fmt_num(v["formula_keras"]), fmt_num(v["outside_sqrt"]),
                fmt_num(v["textbook"])] for g, v in r["floor"].items()],
              f"Steady-state step/lr: Keras after {r['keras_steps']} steps, the textbook's β = 0.999 after "
              f"{r['textbook_steps']}."),
        Plot("conventions_rmsprop", "Left: step/lr for a constant g = 1. Right: steady-state step/lr "
             "against |g| — Keras's ε inside √ damps small gradients.", [
                 Panel("step/lr over t (g = 1)", "step t", "step / lr", [
                     Series("Keras ρ=0.9, ε inside √", list(range(1, len(r["curve_keras"]) + 1)), r["curve_keras"]),
                     Series("textbook β=0.999, ε outside √", list(range(1, len(r["curve_textbook"]) + 1)),
                            r["curve_textbook"])], xscale="log", yscale="log"),
                 Panel("steady state vs |g|", "|g|", "step / lr", [
                     Series("Keras (live)", r["g"], r["steady_keras"], "o-"),
                     Series("ε outside √ (same ρ, ε)", r["g"], r["steady_outside"], "--"),
                     Series("textbook preset", r["g"], r["steady_textbook"], ":")], xscale="log")]))
    f4 = r["floor"][1e-4]
    section.differences += [
        Difference("RMSprop first step, constant g: textbook (β = 0.999) vs Keras (ρ = 0.9)",
                   f"step/lr {s[1]['textbook']:.2f} vs {s[1]['keras']:.3f} ({s[1]['textbook'] / s[1]['keras']:.1f}×); "
                   f"at t = 100 {s[100]['textbook']:.2f} vs {s[100]['keras']:.3f}", s[1]["textbook"] / s[1]["keras"]),
        Difference("RMSprop ε inside √ (Keras) vs outside: steady step/lr at |g| = 1e-2, 1e-3, 1e-4",
                   ", ".join(f"{v['keras']:.4f}" for v in r["floor"].values()) + " vs "
                   + ", ".join(f"{v['outside_sqrt']:.4f}" for v in r["floor"].values()), f4["keras"])]
    add_check(section, "RMSprop (Keras form) vs Keras, constant gradients", r["check"])

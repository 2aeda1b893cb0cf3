"""The ``initialization`` lesson's page: the formulas, then the four parts of ``initialization.measure``
(symmetry, saturation, Glorot against He, the initializers' draws), refnn solid and Keras dotted on the
same axes, and the checks of every refnn/Keras agreement measured.

Everything drawn comes from ``measure``'s dict (the page can be redrawn from ``report.json``).
"""

from __future__ import annotations

import math

import numpy as np

from comparisons.report import (
    KERAS, LESSON, Check, Figure, Formula, Heading, Panel, Plot, Section, Series, Table, fmt_err, fmt_num,
)
from comparisons.report.plots import FONT, style_axes

__all__ = ["section"]

_REFNN, _KERAS, _THEORY = "-", ":", "--"
_CASE_COLORS = {"zeros": "0.45", "constant": "#d35400", "random": "#1f5fbf"}
_CASE_TITLES = {"zeros": "all weights 0", "constant": "hidden weights constant", "random": "Glorot uniform (random)"}
_SCALE_COLORS = ("#2e8b57", "#1f5fbf", "#b00020")
_INIT_COLORS = {"Glorot uniform": "#1f5fbf", "He normal": "#b00020"}
_ACT_TITLES = {"tanh": "tanh", "sigmoid": "sigmoid", "relu": "ReLU"}

FORMULAS = (
    "Glorot (Xavier):  Var(W) = 2 / (fan_in + fan_out)     uniform: W ~ U(−L, L),  L = √(6 / (fan_in + fan_out))\n"
    "He (Kaiming):     Var(W) = 2 / fan_in                 normal:  W ~ N(0, 2 / fan_in)\n"
    "one layer:        Var(z_ℓ₊₁) = fan_in · Var(W) · E[h_ℓ²]      ReLU: E[h²] = Var(z) / 2\n"
    "symmetry:         W_·j = W_·k,  b_j = b_k,  W′_j· = W′_k·   ⇒   h_j = h_k,  ∂E/∂W_·j = ∂E/∂W_·k")


def section(m: dict, title: str) -> Section:
    """The lesson's ``Section``, titled ``title``, from ``measure``'s numbers."""
    s = Section(key="lesson-initialization", title=title, part=LESSON, data=m)
    s.add(Formula(FORMULAS),
          "The first weights decide what gradient descent can do. Two hidden units with the same incoming and "
          "outgoing weights compute the same output, receive the same gradient and the same update: they stay "
          "twins for ever, and a layer of 16 units works like one. Weights too large put tanh and sigmoid units "
          "on their flat tails (f′ ≈ 0); too small, and the signal fades layer after layer. Glorot's and He's "
          "formulas choose Var(W) so that the signal's variance stays the same from layer to layer: Glorot for "
          "tanh-like units, 2/(fan_in + fan_out) — the harmonic mean of the forward condition 1/fan_in and the "
          "backward one 1/fan_out; He for ReLU, which zeroes half of its pre-activations (E[h²] = Var(z)/2) and "
          "so needs twice the variance, 2/fan_in. Keras: `keras.initializers.GlorotUniform` (the "
          "default kernel initializer of `Dense`, as in refnn) and `HeNormal` (a normal truncated at ±2s, "
          "s = √(2/fan_in)/0.8796, so that the variance is still 2/fan_in); refnn's `initializers` use the same "
          f"formulas. Data: {m['dataset']}; everything in float64.")
    _symmetry_part(s, m["symmetry"])
    _saturation_part(s, m["saturation"], {key: m[key] for key in ("errors", "tolerances", "networks")})
    _depth_part(s, m["depth"])
    _initializer_part(s, m["initializers"])
    s.checks = _checks(m)
    return s


# ---- 1. symmetry -----------------------------------------------------------------------------------------
def _symmetry_part(s: Section, sym: dict) -> None:
    cases = sym["cases"]
    acc = {c: cases[c]["test_accuracy"] for c in cases}
    symmetric = max(max(cases[c]["spread"][side]) for c in ("zeros", "constant") for side in ("refnn", "keras"))
    identical = ("it is **0** in both frameworks for both symmetric starts: the units are still identical"
                 if symmetric == 0.0 else f"it is at most **{fmt_num(symmetric)}** in both frameworks for both "
                 "symmetric starts: the units have drifted apart by no more than that")
    s.add(Heading("Equal weights stay equal"),
          f"A 64-{sym['hidden'][0]}-{sym['hidden'][1]}-10 tanh/softmax network, trained {sym['epochs']} epochs "
          f"(SGD, η = 0.1, momentum 0.9, batch 32, {sym['n_train']} images) in refnn and in Keras on the same "
          f"batches (`keras_bridge.compare.training`), from three starts: every weight 0; every hidden weight "
          f"{sym['constant']} and the output kernel W_jk = v_k (v ~ U(−{sym['output_spread']}, "
          f"{sym['output_spread']}): equal rows keep the hidden units interchangeable, distinct columns keep "
          "the ten outputs from starting tied); refnn's seeded Glorot uniform. The *spread* of a layer is the "
          "largest difference between two of its units' incoming weights, biases or outgoing weights. After "
          f"training {identical}. Test accuracy: "
          f"{fmt_num(acc['constant']['refnn'], 3)} (constant) and {fmt_num(acc['zeros']['refnn'], 3)} (zeros) "
          f"against {fmt_num(acc['random']['refnn'], 3)} from the random start (chance: "
          f"{fmt_num(sym['chance'], 2)}). With all weights 0, tanh(0) = 0 makes every hidden output and every "
          "kernel gradient 0: only the output bias moves (towards the class frequencies).")
    columns = max(float(np.ptp(np.asarray(cases[c]["hidden_1"]), axis=1).max()) for c in ("zeros", "constant"))
    copies = (f"every column is the same — {sym['hidden'][0]} copies of one unit" if columns == 0.0 else
              f"the columns differ by at most {fmt_num(columns)}")
    panels = [Panel("training loss", "epoch", "loss (crossentropy)", []),
              Panel("test accuracy", "epoch", "accuracy (share of test images)", [],
                    hlines=[(sym["chance"], "chance")])]
    for case, c in cases.items():
        epochs = list(range(1, len(c["history"]["refnn"]["loss"]) + 1))
        for panel, key in zip(panels, ("loss", "val_accuracy")):
            panel.series += [Series(f"{case} refnn", epochs, c["history"]["refnn"][key], _REFNN, _CASE_COLORS[case]),
                             Series(f"{case} Keras", epochs, c["history"]["keras"][key], _KERAS, _CASE_COLORS[case])]
    s.add(Plot("initialization-symmetry-curves", "Training from a symmetric start (zeros, constant) and from "
               "Glorot uniform: refnn solid, Keras dotted (the curves coincide).", panels),
          Figure("initialization-symmetry-units", f"The first hidden layer's {sym['hidden'][0]} outputs for "
                 f"{len(cases['zeros']['hidden_1'])} test images after training (refnn): from a symmetric start "
                 f"{copies}.",
                 _draw_hidden_units(cases), size=(12.0, 3.8)),
          Table(["start", "spread layer 1 (refnn / Keras)", "spread layer 2 (refnn / Keras)", "spread at the start",
                 "test accuracy (refnn / Keras)", "max rel. diff. (curves, weights)"],
                [[_CASE_TITLES[case], *[f"{fmt_num(c['spread']['refnn'][i])} / {fmt_num(c['spread']['keras'][i])}"
                                        for i in range(2)],
                  " / ".join(fmt_num(v) for v in c["start_spread"]),
                  f"{fmt_num(c['test_accuracy']['refnn'], 3)} / {fmt_num(c['test_accuracy']['keras'], 3)}",
                  fmt_err(c["max_rel"])] for case, c in cases.items()],
                "Spread of each hidden layer's units after training (0: all units identical), refnn and Keras"))


def _draw_hidden_units(cases: dict):
    def draw(fig):
        axes = fig.subplots(1, len(cases))
        for ax, (case, c) in zip(axes, cases.items()):
            image = ax.imshow(np.asarray(c["hidden_1"]), cmap="RdBu_r", vmin=-1.0, vmax=1.0, aspect="auto")
            style_axes(ax, _CASE_TITLES[case], "hidden unit", "test image", legend=False)
            ax.grid(False)
        fig.colorbar(image, ax=list(axes), label="tanh output h")
    return draw


# ---- 2. saturation -------------------------------------------------------------------------------------------
def _saturation_part(s: Section, sat: dict, parity: dict) -> None:
    tanh, sigmoid = sat["cases"]["tanh"], sat["cases"]["sigmoid"]
    small, _, large = list(tanh)
    depth = sat["depth"]
    s.add(Heading("Too small, too large: collapse and saturation"),
          f"{depth} tanh (sigmoid) layers of {sat['width']} units and a softmax output, biases 0, weights drawn "
          "W ~ N(0, σ²) with σ = g·√(2/(fan_in + fan_out)), g = 0.1, 1 (Glorot's variance), 10, from a seeded NumPy "
          f"generator; the activations of {sat['batch']} test images, layer by layer, in refnn and in Keras (the "
          "same weights through `keras_bridge.to_keras`, `tf.GradientTape` for the gradients). "
          "**Small σ**: near 0 tanh is the identity, so each layer multiplies the signal's std by σ·√fan_in = g = "
          f"0.1 (fan_in = fan_out): it falls from {fmt_num(tanh[small]['std']['refnn'][0])} to "
          f"{fmt_num(tanh[small]['std']['refnn'][-1])} by layer {depth}; sigmoid's outputs collapse to ½ instead "
          f"(std {fmt_num(sigmoid[small]['std']['refnn'][-1])} at layer {depth}). "
          f"**Large σ**: {fmt_num(100 * tanh[large]['saturated'][-1], 3)} % of the tanh outputs of layer {depth} "
          f"lie within {sat['saturated_within']} of ±1 (sigmoid: {fmt_num(100 * sigmoid[large]['saturated'][-1], 3)} "
          f"% within {sat['saturated_within']} of 0 or 1), where f′ ≈ 0. " + _gradient_text(sat),
          _rounding_text(sat, parity))
    s.add(Figure("initialization-saturation-histograms", "Histograms of each hidden layer's activations (refnn; "
                 "Keras's agree, see the check below): rows tanh and sigmoid, columns g = 0.1, 1, 10. Small σ: "
                 "everything at 0 (tanh) or ½ (sigmoid); large σ: piled up at the bounds.",
                 _draw_histograms(sat), size=(13.0, 6.6)),
          Plot("initialization-saturation-gradients", "‖∂E/∂W‖ of each layer (the last is the softmax output), "
               "refnn solid, Keras dotted, log scale.",
               [Panel(_ACT_TITLES[act], "layer", "‖∂E/∂W‖ (Frobenius)", _scale_series(cases, "grad_norm"),
                      yscale="log") for act, cases in sat["cases"].items()]),
          Table(["activation", "weights", "std h₁", f"std h{_sub(depth)}", "saturated h₁", f"saturated h{_sub(depth)}",
                 "RMS f′(z) (mean of layers)", "‖∂E/∂W₁‖", "‖∂E/∂W_out‖", "h: max rel. diff. refnn–Keras"],
                [[_ACT_TITLES[act], name, fmt_num(c["std"]["refnn"][0]), fmt_num(c["std"]["refnn"][-1]),
                  f"{fmt_num(100 * c['saturated'][0], 3)} %", f"{fmt_num(100 * c['saturated'][-1], 3)} %",
                  fmt_num(float(np.mean(c["slope_rms"])), 3),
                  fmt_num(c["grad_norm"]["refnn"][0]), fmt_num(c["grad_norm"]["refnn"][-1]),
                  fmt_err(c["errors"]["activations"])]
                 for act, cases in sat["cases"].items() for name, c in cases.items()],
                f"Activations h_ℓ on {sat['batch']} test images (saturated: within {sat['saturated_within']} of the "
                "activation's bounds) and the kernel gradients, refnn"))


def _gradient_text(sat: dict) -> str:
    """The gradients' trends, each explained by the measured one-layer factor g·RMS f′(z) (σ·√fan_in = g)."""
    tanh, sigmoid = sat["cases"]["tanh"], sat["cases"]["sigmoid"]
    small, glorot, large = list(tanh)
    sig, big = sigmoid[glorot], tanh[large]
    sig_trend, big_trend = _trend(sig["grad_norm"]["refnn"]), _trend(big["grad_norm"]["refnn"])
    big_slope = fmt_num(float(np.mean(big["slope_rms"])), 2)
    factor = f"σ·√fan_in·RMS f′ = {fmt_num(big['gain'], 2)} × {big_slope} ≈ {fmt_num(_backward_factor(big), 2)}"
    if big_trend == "grows" and _backward_factor(big) > 1.0:
        why = (f"RMS f′(z) is {big_slope}, so the backward signal is multiplied by about {factor} per layer: the "
               "units that are not saturated pass it on multiplied by the large weights — saturation does not "
               "simply make gradients vanish")
    elif big_trend == "shrinks" and _backward_factor(big) < 1.0:
        why = (f"RMS f′(z) is {big_slope}, so the backward signal is multiplied by about {factor} per layer: the "
               "saturated units (f′ ≈ 0) block more of it than the large weights amplify")
    else:
        why = f"RMS f′(z) is {big_slope} ({factor} per layer), which alone does not explain the trend"
    sig_why = (f" (f′ ≤ ¼: each layer multiplies the backward signal by about σ·√fan_in·RMS f′ ≈ "
               f"{fmt_num(_backward_factor(sig), 2)})" if sig_trend == "shrinks" and _backward_factor(sig) < 1.0
               else "")
    return (f"The gradients: with sigmoid{sig_why} ‖∂E/∂W‖ {sig_trend} toward the input — from "
            f"{fmt_num(sig['grad_norm']['refnn'][-1])} at the output to {fmt_num(sig['grad_norm']['refnn'][0])} at "
            f"layer 1 with Glorot's σ; small tanh weights leave every layer's gradient at "
            f"~{fmt_num(tanh[small]['grad_norm']['refnn'][0], 2)} (∂E/∂W_ℓ = h_ℓ₋₁ᵀ·∂E/∂z_ℓ: the forward signal "
            "shrinks ×0.1 per layer up, the backward one ×0.1 per layer down, and their product is the same tiny "
            f"number everywhere). With large tanh weights the gradient *{big_trend}* toward the input "
            f"({fmt_num(big['grad_norm']['refnn'][-1])} → {fmt_num(big['grad_norm']['refnn'][0])}): {why}.")


def _backward_factor(case: dict) -> float:
    """What one layer multiplies the backward signal's size by, about: σ·√fan_in · RMS f′(z) = g · RMS f′(z)
    (fan_in = fan_out), averaged over the hidden layers."""
    return case["gain"] * float(np.mean(case["slope_rms"]))


def _rounding_text(sat: dict, parity: dict) -> str:
    """How the refnn–Keras difference of the activations grows, layer by layer, with large weights."""
    name, case = _worst_large(sat, parity)
    first, last, growth = _error_growth(case, sat["depth"])
    tol = parity["tolerances"]
    trend = (f"grows from {fmt_err(first)} at layer 1 to {fmt_err(last)} at layer {sat['depth']} "
             f"(×{fmt_num(growth, 2)} per layer): a rounding difference in h_ℓ reaches z_ℓ₊₁ multiplied by the "
             "large weights and passes wherever f′ is not ≈ 0 — the forward pass is ill-conditioned"
             if growth > 1.0 else f"stays between {fmt_err(first)} and {fmt_err(last)} from layer 1 to layer "
             f"{sat['depth']}")
    return (f"Rounding, too, depends on the weights: refnn's and Keras's activations differ by at most "
            f"{fmt_err(parity['errors']['activations'])} in every network with weights at Glorot/He scale or "
            f"smaller, but in the {_network(name)} the difference {trend}. How large it ends up depends on the order "
            "in which NumPy's BLAS and TensorFlow's oneDNN add up the products, so the large-weight networks are "
            f"held to {fmt_err(tol['activations_large_weights'])} (the gradient tolerance) instead of "
            f"{fmt_err(tol['activations'])} (the forward one).")


def _worst_large(sat: dict, parity: dict) -> tuple[str, dict]:
    """The large-weight network with the largest refnn–Keras difference of the activations."""
    cases = {f"{act}, {name}": c for act, by_name in sat["cases"].items() for name, c in by_name.items()}
    name = max(parity["networks"]["activations_large_weights"], key=lambda n: cases[n]["errors"]["activations"])
    return name, cases[name]


def _error_growth(case: dict, depth: int) -> tuple[float, float, float]:
    """The activations' refnn–Keras difference at the first and the last hidden layer, and its geometric
    mean growth per layer."""
    first, last = case["activation_errors"][0], case["activation_errors"][depth - 1]
    growth = (last / first) ** (1.0 / (depth - 1)) if first > 0.0 else math.inf
    return first, last, growth


def _network(name: str) -> str:
    """``"tanh, large (10×Glorot)"`` → ``"tanh network with large (10×Glorot) weights"``."""
    activation, weights = name.split(", ", 1)
    return f"{_ACT_TITLES.get(activation, activation)} network with {weights} weights"


def _trend(norms: list[float]) -> str:
    """How a per-layer gradient norm changes from the output (last) to layer 1 (first)."""
    return "grows" if norms[0] > norms[-1] else "shrinks"


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _scale_series(cases: dict, key: str) -> list[Series]:
    out = []
    for color, (name, c) in zip(_SCALE_COLORS, cases.items()):
        layers = list(range(1, len(c[key]["refnn"]) + 1))
        short = name.split(" ")[0]
        out += [Series(f"{short} refnn", layers, c[key]["refnn"], _REFNN + "o", color),
                Series(f"{short} Keras", layers, c[key]["keras"], _KERAS, color)]
    return out


def _draw_histograms(sat: dict):
    import matplotlib

    def draw(fig):
        grid = fig.subplots(len(sat["cases"]), 3, squeeze=False)
        for row, (act, cases) in zip(grid, sat["cases"].items()):
            low, high = sat["bounds"][act]
            centres = low + (np.arange(sat["bins"]) + 0.5) * (high - low) / sat["bins"]
            for ax, (name, c) in zip(row, cases.items()):
                colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, len(c["histograms"])))
                for layer, (share, color) in enumerate(zip(c["histograms"], colors), start=1):
                    ax.step(centres, 100 * np.asarray(share), where="mid", color=color, label=f"layer {layer}")
                style_axes(ax, f"{_ACT_TITLES[act]}, {name}", f"activation h ({act})", "% of activations",
                           legend=False)
        handles, labels = grid[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper", fontsize=FONT["legend"])
    return draw


# ---- 3. depth ------------------------------------------------------------------------------------------------
def _depth_part(s: Section, dep: dict) -> None:
    relu, tanh = dep["cases"]["relu"], dep["cases"]["tanh"]
    s.add(Heading("Glorot or He, layer by layer"),
          f"{dep['depth']} ReLU (tanh) layers of {dep['width']} units, initialised by refnn's `GlorotUniform` or "
          "`HeNormal` (seeded), on the same test images; refnn and Keras (the same weights). With fan_in = fan_out "
          "Glorot gives Var(W) = 1/fan_in, so a ReLU layer halves E[z²]: the std of the activations shrinks by "
          f"1/√2 ≈ {fmt_num(dep['relu_glorot_theory'], 3)} per layer — measured "
          f"×{fmt_num(relu['Glorot uniform']['ratio_per_layer'], 3)} per layer (geometric mean). He's 2/fan_in "
          f"makes up for the halving: ×{fmt_num(relu['He normal']['ratio_per_layer'], 3)}. The backpropagated "
          "∂E/∂h_ℓ shrinks the same way toward the input under Glorot and keeps its size under He. For tanh "
          f"(slope 1 at 0) Glorot is the right scale (×{fmt_num(tanh['Glorot uniform']['ratio_per_layer'], 3)}, "
          "slowly shrinking where tanh bends); He's twice larger weights keep the std up "
          f"(×{fmt_num(tanh['He normal']['ratio_per_layer'], 3)}) at "
          f"~{fmt_num(tanh['He normal']['std']['refnn'][-1], 2)}, nearer tanh's saturated tails.")
    s.add(Plot("initialization-depth-activations", "Std of each hidden layer's activations, log scale: refnn solid, "
               "Keras dotted, the one-layer formula dashed (from layer 1's value: ×1/√2 per layer for Glorot with "
               "ReLU, ×1 for He).",
               [Panel(_ACT_TITLES[act], "layer", "std of activations h_ℓ", _init_series(cases, "std", act == "relu"),
                      yscale="log") for act, cases in dep["cases"].items()]),
          Plot("initialization-depth-gradients", "Std of the backpropagated gradient ∂E/∂h_ℓ at each hidden layer, "
               "log scale: refnn solid, Keras dotted.",
               [Panel(_ACT_TITLES[act], "layer", "std of ∂E/∂h_ℓ", _init_series(cases, "grad_std", False),
                      yscale="log") for act, cases in dep["cases"].items()]),
          Table(["activation", "initializer", "std h₁", f"std h{_sub(dep['depth'])}", "× per layer",
                 "std ∂E/∂h₁", f"std ∂E/∂h{_sub(dep['depth'])}", "max rel. diff. refnn–Keras (h; gradients)"],
                [[_ACT_TITLES[act], name, fmt_num(c["std"]["refnn"][0]), fmt_num(c["std"]["refnn"][-1]),
                  fmt_num(c["ratio_per_layer"], 3), fmt_num(c["grad_std"]["refnn"][0]),
                  fmt_num(c["grad_std"]["refnn"][-1]),
                  f"{fmt_err(c['errors']['activations'])}; {fmt_err(c['errors']['gradients'])}"]
                 for act, cases in dep["cases"].items() for name, c in cases.items()],
                "Layer by layer, refnn (× per layer: (std h_last / std h₁)^(1/(depth − 1)))"))


def _init_series(cases: dict, key: str, with_theory: bool) -> list[Series]:
    out = []
    for name, c in cases.items():
        color, values = _INIT_COLORS[name], c[key]["refnn"]
        layers = list(range(1, len(values) + 1))
        out += [Series(f"{name} refnn", layers, values, _REFNN + "o", color),
                Series(f"{name} Keras", layers, c[key]["keras"], _KERAS, color)]
        if with_theory:
            ratio = math.sqrt(0.5) if name.startswith("Glorot") else 1.0
            out.append(Series(f"{name} formula", layers, [values[0] * ratio ** (i - 1) for i in layers], _THEORY,
                              "0.5"))
    return out


# ---- 4. the initializers ---------------------------------------------------------------------------------------
def _initializer_part(s: Section, ini: dict) -> None:
    fan_in, fan_out = ini["shape"]
    kinds = ini["kinds"]
    s.add(Heading("The initializers themselves: refnn's draws against Keras's"),
          "refnn draws with NumPy's generator, Keras with TensorFlow's stateless Philox: the numbers differ, the "
          f"distributions must not. One {fan_in}×{fan_out} kernel from each side (both seeded with {ini['seed']}"
          "), compared with the formula and with each other by the two-sample Kolmogorov–Smirnov distance "
          "max_t |F_refnn(t) − F_Keras(t)|; below 1.628·√(2/n), its critical value at the 1 % level, the test "
          "cannot tell the two samples apart: "
          + "; ".join(f"{name} {fmt_num(k['ks'], 3)} (critical {fmt_num(k['ks_critical_1pct'], 3)})"
                      for name, k in kinds.items()) + ".")
    s.add(Figure("initialization-initializer-draws", "Density of the drawn weights: refnn solid, Keras dotted, the "
                 "formula dashed (uniform on ±L; normal truncated at ±2s).", _draw_draws(ini), size=(11.0, 4.0)),
          Table(["initializer", "side", "mean", "std", "formula std", "max |w|", "bound",
                 "KS distance refnn–Keras (1 % critical)"],
                [[name, {"refnn": "refnn", "keras": "Keras"}[side], fmt_num(k[side]["mean"], 3),
                  fmt_num(k[side]["std"]), fmt_num(k["formula_std"]), fmt_num(k[side]["max_abs"]),
                  fmt_num(k["bound"]),
                  f"{fmt_num(k['ks'], 3)} ({fmt_num(k['ks_critical_1pct'], 3)})" if side == "refnn" else ""]
                 for name, k in kinds.items() for side in ("refnn", "keras")],
                f"{fan_in * fan_out} draws per side (fan_in = {fan_in}, fan_out = {fan_out}); bound: L = "
                "√(6/(fan_in + fan_out)) (uniform), 2s (truncated normal)"))


def _draw_draws(ini: dict):
    def draw(fig):
        axes = fig.subplots(1, len(ini["kinds"]))
        for ax, (name, k) in zip(axes, ini["kinds"].items()):
            bins = len(k["refnn"]["density"])
            edges = np.linspace(-k["bound"], k["bound"], bins + 1)
            centres = (edges[:-1] + edges[1:]) / 2
            ax.step(centres, k["refnn"]["density"], where="mid", color="#1f5fbf", linestyle=_REFNN, label="refnn")
            ax.step(centres, k["keras"]["density"], where="mid", color="#1f5fbf", linestyle=_KERAS, linewidth=2.0,
                    label="Keras")
            t = np.linspace(-1.1 * k["bound"], 1.1 * k["bound"], 400)
            ax.plot(t, _formula_density(name, t, k), _THEORY, color="0.3", label="formula")
            style_axes(ax, name, "weight w", "density")
    return draw


def _formula_density(name: str, t: np.ndarray, k: dict) -> np.ndarray:
    """The initializer's density: uniform on ±L, or N(0, s²) truncated at ±2s (s = bound/2)."""
    inside = np.abs(t) <= k["bound"]
    if name.startswith("Glorot"):
        return np.where(inside, 1.0 / (2.0 * k["bound"]), 0.0)
    s = k["bound"] / 2.0
    mass = math.erf(2.0 / math.sqrt(2.0))
    return np.where(inside, np.exp(-0.5 * (t / s) ** 2) / (s * math.sqrt(2.0 * math.pi) * mass), 0.0)


# ---- checks ------------------------------------------------------------------------------------------------------
def _checks(m: dict) -> list[Check]:
    err, tol, nets = m["errors"], m["tolerances"], m["networks"]
    epochs = m["symmetry"]["epochs"]
    name, case = _worst_large(m["saturation"], m)
    first, last, growth = _error_growth(case, m["saturation"]["depth"])
    gains = sorted({c["gain"] for cases in m["saturation"]["cases"].values() for c in cases.values() if c["gain"] > 1})
    return [
        Check(f"initialization: zero, constant and Glorot starts trained {epochs} epochs (curves, final weights)",
              {"float64": err["training"]}, {"float64": tol["training"]},
              note="keras_bridge.compare.training, the same batches", kind=KERAS),
        Check(f"initialization: each layer's activations, {len(nets['activations'])} deep networks with weights "
              f"at Glorot/He scale or smaller ({_activation_list(nets['activations'])})",
              {"float64": err["activations"]}, {"float64": tol["activations"]},
              note="the same weights, inference mode", kind=KERAS),
        Check(f"initialization: each layer's activations, {len(nets['activations_large_weights'])} deep networks "
              f"with {' and '.join(f'{fmt_num(g, 2)}×' for g in gains)} Glorot's σ "
              f"({_activation_list(nets['activations_large_weights'])})",
              {"float64": err["activations_large_weights"]}, {"float64": tol["activations_large_weights"]},
              note=f"ill-conditioned: large weights amplify rounding layer by layer ({_network(name)}: "
                   f"{fmt_err(first)} at "
                   f"layer 1, {fmt_err(last)} at the last hidden layer, ×{fmt_num(growth, 2)} per layer), by an "
                   "amount that depends on BLAS/oneDNN summation order — held to the gradient tolerance", kind=KERAS),
        Check(f"initialization: ∂E/∂W and ∂E/∂h of each layer, the same {len(nets['gradients'])} networks",
              {"float64": err["gradients"]}, {"float64": tol["gradients"]},
              note="refnn's backpropagation against tf.GradientTape", kind=KERAS),
    ]


def _activation_list(names: list[str]) -> str:
    """``"tanh, Glorot"``, ... → ``"tanh/sigmoid"``: the activations, in order, once each."""
    acts = dict.fromkeys(_ACT_TITLES.get(n.split(",")[0], n.split(",")[0]) for n in names)
    return "/".join(acts)

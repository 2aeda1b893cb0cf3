"""The ``activations`` lesson's page: formulas first, then refnn (solid) and Keras (dotted) on the same
axes, the softmax Jacobian as heatmaps, and the checks of every refnn/Keras agreement measured.

Everything drawn comes from ``measure``'s dict (so the page can be redrawn from ``report.json``).
"""

from __future__ import annotations

import numpy as np

from comparisons.report import (
    KERAS, LESSON, Check, Figure, Formula, Heading, Panel, Plot, Section, Series, Table, fmt_err, fmt_num,
)
from comparisons.report.plots import FONT, style_axes

__all__ = ["render"]

_REFNN, _KERAS, _TEXTBOOK = "-", ":", "--"
_COLORS = {"f": "#1f5fbf", "df": "#d35400", "value": "#1f5fbf", "gradient": "#d35400", "textbook": "0.55",
           "exact": "#1f5fbf", "diagonal": "#d35400", "diagonal_notes": "#b00020"}
_TITLES = {"relu": "ReLU", "sigmoid": "sigmoid σ", "tanh": "tanh"}
_DERIVATIVES = {"relu": "ReLU′ = [x > 0]", "sigmoid": "σ′ = σ(1 − σ)", "tanh": "tanh′ = 1 − tanh²"}
_LOSS_FORMULAS = {
    "MSE": ("L = (ŷ − y)²", "∂L/∂ŷ = 2(ŷ − y)"),
    "MAE": ("L = |ŷ − y|", "∂L/∂ŷ = sign(ŷ − y)  (0 at ŷ = y)"),
    "BCE": ("L = −[y log p + (1 − y) log(1 − p)]", "∂L/∂p = (p − y) / (p(1 − p))"),
    "CCE": ("L = −Σ_k y_k log p_k", "∂L/∂p_k = −y_k/p_k  (Keras: p/Σp first, so −y_k/p_k + 1)"),
}


def _vector(values, digits: int = 3) -> str:
    """``[0.638, −0.765, 0, 0]``: Unicode minus, exact zeros (and −0) as ``0``."""
    return "[" + ", ".join(f"{v:.{digits}f}".replace("-", "−") if v != 0 else "0" for v in values) + "]"


def _num(value) -> str:
    """``fmt_num`` without a negative zero."""
    return fmt_num(value + 0.0)


def _activation_part(section: Section, m: dict) -> None:
    acts, x = m["activations"], m["x"]
    section.add(
        Formula("σ(x) = 1/(1 + e^(−x)),  σ′(x) = σ(x)(1 − σ(x))\ntanh′(x) = 1 − tanh²(x)\n"
                "ReLU(x) = max(x, 0),  ReLU′(x) = [x > 0]  (ReLU′(0) = 0)"),
        "An activation's backward pass multiplies the upstream gradient by f′(x), element by element. "
        "σ′ and tanh′ are written with the output y = f(x) that the forward pass cached, so no second "
        "exponential is needed. ReLU has no derivative at x = 0; refnn and TensorFlow both take **0** there "
        f"(measured: ReLU′(0) = {fmt_num(acts['relu']['df_at_zero']['refnn'])} in refnn, "
        f"{fmt_num(acts['relu']['df_at_zero']['keras'])} by `tf.GradientTape`). refnn's f′ is "
        "`activation.backward(x, f(x), 1)`; Keras's is the tape's gradient of `keras.activations.<name>`.")
    panels = []
    for name, a in acts.items():
        panels.append(Panel(_TITLES[name], "x", "f(x) and f′(x)", [
            Series("f refnn", x, a["refnn"]["f"], _REFNN, _COLORS["f"]),
            Series("f Keras", x, a["keras"]["f"], _KERAS, _COLORS["f"]),
            Series("f′ refnn", x, a["refnn"]["df"], _REFNN, _COLORS["df"]),
            Series("f′ Keras", x, a["keras"]["df"], _KERAS, _COLORS["df"]),
        ]))
    section.add(
        Plot("activations-f-and-derivative", f"f and f′ on {len(x)} points of x ∈ [−5, 5] (x = 0 included): "
             "refnn solid, Keras/TensorFlow dotted — the curves coincide.", panels),
        Table(["activation", "f′", "f: max rel. diff.", "f′: max rel. diff.", "f′(0) refnn", "f′(0) TensorFlow"],
              [[_TITLES[n], _DERIVATIVES[n], fmt_err(a["f_error"]), fmt_err(a["df_error"]),
                fmt_num(a["df_at_zero"]["refnn"]), fmt_num(a["df_at_zero"]["keras"])] for n, a in acts.items()],
              "refnn against Keras, float64 (relative difference: max|a − b| / max|b|)"))


def _draw_jacobians(sm: dict):
    """The heatmaps: J by refnn, J by TensorFlow, the notes' diagonal, and J minus the diagonal."""
    names = [("refnn", "J = diag(s) − s sᵀ (refnn)"), ("keras", "J (TensorFlow jacobian)"),
             ("diagonal", "notes: diag(s(1 − s))"), ("difference", "J − notes (what is dropped)")]
    matrices = [np.asarray(sm["jacobian"][k]) for k, _ in names]
    limit = max(float(np.abs(mat).max()) for mat in matrices)
    labels = [f"z{j + 1}" for j in range(len(sm["z"]))]

    def draw(fig):
        axes = fig.subplots(1, len(names))
        for ax, (_, title), mat in zip(axes, names, matrices):
            image = ax.imshow(mat, cmap="RdBu_r", vmin=-limit, vmax=limit)
            for (i, j), v in np.ndenumerate(mat):
                ax.text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=FONT["legend"],
                        color="white" if abs(v) > 0.6 * limit else "black")
            ax.set_xticks(range(len(labels)), labels)
            ax.set_yticks(range(len(labels)), [f"s{i + 1}" for i in range(len(labels))])
            style_axes(ax, title, "∂/∂z_j", "s_i", legend=False)
            ax.grid(False)
        fig.colorbar(image, ax=list(axes), shrink=0.8, label="∂s_i/∂z_j")
    return draw


def _softmax_part(section: Section, m: dict) -> None:
    sm = m["softmax"]
    g, t = sm["gradient"], sm["target"]
    column_sum = max(abs(v) for v in sm["column_sums"])
    section.add(
        Heading("The softmax Jacobian and the notes' diagonal"),
        Formula("s_i = e^(z_i) / Σ_k e^(z_k),   ∂s_i/∂z_j = s_i(δ_ij − s_j),   J = diag(s) − s sᵀ\n"
                "the notes' shortcut: ∂s_i/∂z_j ≈ δ_ij s_i(1 − s_i),   J_diag = diag(s(1 − s))\n"
                "crossentropy L = −Σ_k y_k log s_k:   ∂L/∂z = J(−y/s) = s − y;   through J_diag: −y ⊙ (1 − s)"),
        "Softmax couples its outputs: raising one logit lowers every other probability, so J has the "
        "off-diagonal entries −s_i s_j, as large as the diagonal ones when two classes compete. Each column "
        f"of J sums to 0 (measured: largest |sum| {fmt_err(column_sum)}), because the probabilities always "
        f"sum to 1. For z = {_vector(sm['z'], 1)} (s = {_vector(sm['s'])}) and target class {t + 1}, the correct "
        f"gradient is **{_vector(g['exact'])}** = s − y: it lowers the wrong winner z1. The diagonal gives "
        f"**{_vector(g['diagonal'])}**: it raises the target's logit and leaves every other one alone.",
        Figure("activations-softmax-jacobian", "The softmax Jacobian for z = " + _vector(sm["z"], 1) + ": refnn "
               "(Softmax.backward on each unit vector) and TensorFlow (tape.jacobian) agree; the notes keep "
               "only the diagonal; the last panel is what they drop, −s_i s_j off the diagonal.",
               _draw_jacobians(sm), size=(17.0, 4.3)),
        Table(["class k", "z_k", "s_k", "y_k", "exact, refnn", "exact, TensorFlow", "diagonal, notes' −y/s",
               "diagonal, Keras's −y/s + 1"],
              [[str(k + 1), _num(sm["z"][k]), _num(sm["s"][k]), "1" if k == t else "0",
                _num(g["exact"][k]), _num(g["keras"][k]), _num(g["diagonal"][k]),
                _num(g["diagonal_keras_loss"][k])] for k in range(len(sm["z"]))],
              "∂L/∂z of the crossentropy through the softmax, four ways. Keras's crossentropy divides p by Σp "
              "first, which adds +1 to ∂L/∂p: the full Jacobian cancels it (J·1 = 0), the diagonal does not."))


_LOGIT_TICKS = (1e-8, 1e-4, 0.5, 1 - 1e-4, 1 - 1e-8)
_LOGIT_LABELS = ("10⁻⁸", "10⁻⁴", "½", "1 − 10⁻⁴", "1 − 10⁻⁸")
_SYMLOG_TICKS = (0.0, 1.0, 1e3, 1e6, 1e9)
_SYMLOG_LABELS = ("0", "1", "10³", "10⁶", "10⁹")


def _draw_losses(losses: dict):
    """Top row: each loss; bottom row: its gradient. For a probability the gradient is ≤ 0 (target 1)
    and spans 10⁹, so −∂L/∂p is drawn on a symmetric-log axis, where the clipped zeros still show;
    the axis is logit, so that both clipped ends show."""
    def draw(fig):
        axes = fig.subplots(2, len(losses))
        for column, (name, loss) in enumerate(losses.items()):
            probability = loss["kind"] == "probability"
            value_formula, gradient_formula = (f.split("  (")[0] for f in _LOSS_FORMULAS[name])
            views = ((0, "value", value_formula, f"loss {name}", 1.0),
                     (1, "gradient", gradient_formula, "−∂L/∂p" if probability else "∂L/∂ŷ",
                      -1.0 if probability else 1.0))
            for row, part, formula, ylabel, factor in views:
                ax = axes[row, column]
                curves = [("refnn", loss["refnn"], _REFNN, _COLORS["value"]),
                          ("Keras", loss["keras"], _KERAS, _COLORS["value"])]
                if loss["textbook"]:
                    curves.append(("textbook, unclipped", loss["textbook"], _TEXTBOOK, _COLORS["textbook"]))
                for label, side, style, color in curves:
                    ax.plot(loss["prediction"], [factor * v for v in side[part]], style, color=color, label=label,
                            linewidth=2.0 if style == _KERAS else 1.6)
                if probability:
                    ax.set_xscale("logit")
                    ax.set_xticks(_LOGIT_TICKS, _LOGIT_LABELS, minor=False)
                    ax.set_xticks([], minor=True)
                    if part == "gradient":
                        ax.set_yscale("symlog")
                        # plain tick labels: matplotlib's mathtext ones cost seconds per figure
                        ax.set_yticks(_SYMLOG_TICKS, _SYMLOG_LABELS)
                        ax.set_yticks([], minor=True)
                        ax.set_ylim(-0.5, 5e9)
                xlabel = "p of the true class" if probability else "prediction ŷ"
                style_axes(ax, f"{name}: {formula}", xlabel, ylabel, legend=False)
        handles, labels = axes[0, -1].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=FONT["legend"])
    return draw


def _loss_figure(losses: dict) -> Figure:
    targets = " or ".join(sorted({fmt_num(v["target"]) for v in losses.values()}))
    return Figure(
        "activations-losses",
        f"Each loss (top) and its gradient (bottom) against the prediction, per sample (target y = {targets}; "
        "CCE with 3 classes, the other two at (1 − p)/2 each): refnn solid, Keras dotted, on each other. Given "
        "probabilities, the crossentropies clip p to [1e-7, 1 − 1e-7] in both: the loss levels off at "
        "−log 1e-7 = 16.1 and the "
        "gradient drops to 0 outside; the unclipped textbook curve does not. Keras's CCE divides p by Σp before "
        "the log, so its ∂L/∂p is −1/p + 1, which goes to 0 as p → 1 where the textbook's −1/p goes to −1.",
        _draw_losses(losses), size=(18.0, 8.0))


def _loss_part(section: Section, m: dict) -> None:
    section.add(
        Heading("Each loss and its gradient against the prediction"),
        Formula("\n".join(f"{n}:  {v}   →   {d}" for n, (v, d) in _LOSS_FORMULAS.items())),
        "The gradient ∂L/∂ŷ is where backpropagation starts. The squared error's grows with the error; the "
        "absolute error's is ±1 whatever the error; the crossentropies' −1/p grows without bound as the "
        "probability of the true class goes to 0 — handed probabilities, as here, Keras (and refnn with it) "
        "clips p to [ε, 1 − ε], ε = 1e-7, so a hopeless prediction costs at most 16.1 and passes no gradient. "
        "After a softmax or sigmoid *layer* both compute from the logits instead: no cap, and the gradient is "
        "s − y. Per sample here, no batch mean.")
    section.add(_loss_figure(m["losses"]), Table(
        ["loss", "prediction range", "loss: max rel. diff.", "∂L/∂ŷ: max rel. diff."],
        [[n, f"{fmt_num(min(v['prediction']))} … {fmt_num(max(v['prediction']))}", fmt_err(v["value_error"]),
          fmt_err(v["gradient_error"])] for n, v in m["losses"].items()],
        "refnn.losses (reduction=\"none\") against keras.losses and tf.GradientTape, float64"))


_RUNS = (("exact", "refnn", "exact J, refnn", _REFNN), ("exact", "keras", "exact J, Keras", _KERAS),
         ("diagonal", "refnn", "diagonal, ∂L/∂p = −y/p + 1", _REFNN),
         ("diagonal_notes", "refnn", "diagonal, notes' ∂L/∂p = −y/p", _REFNN))


def _training_part(section: Section, m: dict) -> None:
    tr = m["training"]
    epochs = list(range(1, tr["epochs"] + 1))
    views = (("loss", "training loss", "loss (crossentropy)", "log"),
             ("accuracy", "training accuracy", "accuracy", "linear"))

    def draw(fig):
        from matplotlib.ticker import FuncFormatter

        for k, (key, title, ylabel, scale) in enumerate(views):
            ax = fig.add_subplot(1, len(views), k + 1)
            for run, side, label, style in _RUNS:
                ax.plot(epochs, tr[run][side][key], style, color=_COLORS[run], label=label,
                        linewidth=2.0 if style == _KERAS else 1.6)
            ax.set_yscale(scale)
            if scale == "log":  # plain labels (0.2, 0.5, 1): mathtext ones cost a second per figure
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:e}"[0] in "25" else ""))
            style_axes(ax, title, "epoch", ylabel, legend=False)
        # one legend under both panels: no curve is ever hidden behind it
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=FONT["legend"])
    final = {run: tr[run]["refnn"] for run in ("exact", "diagonal", "diagonal_notes")}
    section.add(
        Heading("The shortcut in training"),
        Formula("exact:  ∂L/∂z = s − y\n"
                "diagonal with Keras's crossentropy (∂L/∂p = −y/p + 1):  ∂L/∂z = s ⊙ (1 − s) ⊙ (1 − y/s)\n"
                "diagonal with the notes' ∂L/∂p = −y/p:  ∂L/∂z = −y ⊙ (1 − s)"),
        f"The same network ({tr['dataset']}: Dense({tr['hidden']}, tanh) → Dense(10, softmax), SGD η = "
        f"{fmt_num(tr['learning_rate'])}, batches of {tr['batch_size']}, crossentropy) from the same initial "
        f"weights{'' if tr['same_initial_weights'] else ' (NOT identical: a bug)'} on the same batches, once with "
        "`Softmax()` and twice with `Softmax(derivative=\"diagonal\")`. With refnn's crossentropy, which "
        "follows Keras and renormalises p, the diagonal still pushes the wrong classes' logits down (the +1 "
        f"term): final training loss {_num(final['diagonal']['loss'][-1])} against "
        f"{_num(final['exact']['loss'][-1])} with the exact Jacobian. With the notes' −y/p it only ever raises "
        "the target's logit, never lowers a wrong winner: final training accuracy "
        f"{_num(final['diagonal_notes']['accuracy'][-1])} against {_num(final['exact']['accuracy'][-1])} "
        "(chance: 0.1). The exact run is also trained in Keras "
        "(`keras_bridge.compare.training`, dotted); Keras has no diagonal softmax, and the bridge refuses "
        f"to export one: *{tr['bridge_refusal'] or 'it did not refuse (a bug)'}*",
        Figure("activations-softmax-training", f"{tr['epochs']} epochs on {tr['rows']} rows of {tr['dataset']}: "
               "the exact Jacobian in refnn (solid) and Keras (dotted, on it), the diagonal shortcut in refnn "
               "only. The loss is each model's own training loss (history[\"loss\"]).", draw, size=(12.0, 4.8)),
        Table(["softmax derivative", "final loss", "final accuracy", f"test accuracy ({tr['test_rows']} rows)"],
              [[label, fmt_num(final[run]["loss"][-1]), fmt_num(final[run]["accuracy"][-1]),
                fmt_num(final[run]["val_accuracy"][-1])]
               for run, side, label, _ in _RUNS if side == "refnn"]
              + [["exact J, Keras", fmt_num(tr["exact"]["keras"]["loss"][-1]),
                  fmt_num(tr["exact"]["keras"]["accuracy"][-1]), fmt_num(tr["exact"]["keras"]["val_accuracy"][-1])]],
              f"after {tr['epochs']} epochs; exact run refnn against Keras: max rel. diff. {fmt_err(tr['max_rel'])} "
              "(every epoch's loss and metrics, every final weight)"))


def _checks(m: dict) -> list[Check]:
    """Every refnn/Keras agreement the lesson measured, float64, against the tolerance contract."""
    tol, acts, sm, losses, tr = m["tolerances"], m["activations"], m["softmax"], m["losses"], m["training"]
    forward, gradients = {"float64": tol["forward"]}, {"float64": tol["gradients"]}
    points = f"{len(m['x'])} points of x ∈ [−5, 5]"
    prefix = "lesson activations: "
    checks = [Check(prefix + "f of ReLU, sigmoid, tanh", {"float64": max(a["f_error"] for a in acts.values())},
                    forward, points, KERAS)]
    checks += [Check(prefix + _DERIVATIVES[n], {"float64": a["df_error"]}, gradients,
                     f"{points}, Keras by tf.GradientTape", KERAS) for n, a in acts.items()]
    checks.append(Check(prefix + "softmax Jacobian diag(s) − s sᵀ",
                        {"float64": max(sm["jacobian_error"], sm["gradient_error"])}, gradients,
                        "Softmax.backward on unit vectors vs tape.jacobian; the crossentropy's ∂L/∂z", KERAS))
    worst_value = max(v["value_error"] for v in losses.values())
    checks.append(Check(prefix + "MSE, MAE, BCE, CCE values", {"float64": worst_value}, forward,
                        "per sample, clipped probabilities included", KERAS))
    checks += [Check(prefix + f"{n} gradient ∂L/∂ŷ", {"float64": v["gradient_error"]}, gradients,
                     f"{len(v['prediction'])} predictions, Keras by tf.GradientTape", KERAS) for n, v in losses.items()]
    checks.append(Check(prefix + f"softmax classifier, exact Jacobian, {tr['epochs']} epochs",
                        {"float64": tr["max_rel"]}, {"float64": tol["training"]},
                        "keras_bridge.compare.training: history and final weights", KERAS))
    return checks


def render(measured: dict, title: str) -> Section:
    """The lesson's Section: activations, the softmax Jacobian, the losses, the shortcut in training."""
    section = Section(key="lesson-activations", title=title, part=LESSON, data=measured)
    _activation_part(section, measured)
    _softmax_part(section, measured)
    _loss_part(section, measured)
    _training_part(section, measured)
    section.checks = _checks(measured)
    return section

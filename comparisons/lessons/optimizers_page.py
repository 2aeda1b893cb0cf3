"""The ``optimizers`` lesson's page: the update rules, the paths on two surfaces, the two momentum
forms, the training curves and the tables.

Everything is drawn from ``comparisons.lessons.optimizers.measure``'s numbers (the surfaces from
their coefficients), so the page can be redrawn from ``report.json``.
"""

from __future__ import annotations

import numpy as np

from comparisons.report import (
    KERAS, LESSON, PORT, Check, Difference, Figure, Formula, Panel, Plot, Section, Series, Table, fmt_err, fmt_num,
)

__all__ = ["render", "first_steps", "sign_flips", "draw_surface", "draw_momentum", "plot_limits"]

RULES_MOMENTUM = (
    "SGD        w ← w − η g                                        (g = ∇f(w), element by element)\n"
    "momentum   EMA (textbook):    V ← μV + (1 − μ) g;   w ← w − η_ema V\n"
    "           velocity (Keras):  v ← μv − η_keras g;   w ← w + v\n"
    "           the same path when η_keras = η_ema · (1 − μ)   (v = −η_ema V)")
RULES_ADAPTIVE = (
    "RMSprop    s ← ρs + (1 − ρ) g²;                w ← w − η g / √(s + ε)          (textbook: / (√s + ε))\n"
    "Adam       m ← β₁m + (1 − β₁) g;  v ← β₂v + (1 − β₂) g²\n"
    "           w ← w − η m̂ / (√v̂ + ε),  m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)   (Keras: ε added to √v, not √v̂)\n"
    "Adagrad    G ← G + g²;                         w ← w − η g / √(G + ε)          (textbook: G₀ = 0, / (√G + ε))\n"
    "Rprop      Δ ← min(η⁺Δ, Δmax) if g·g_prev > 0,  max(η⁻Δ, Δmin) if < 0;   w ← w − sign(g) Δ\n"
    "           iRprop+: on a sign flip store g = 0, and undo the last step only if f went up")
FLOOR = 1e-18  # a distance of exactly 0 drawn on a log axis


def sign_flips(path: list, steps: int = 20) -> int:
    """How often y changes sign over the first ``steps`` steps (SGD's zig-zag across the valley)."""
    y = np.asarray(path)[: steps + 1, 1]
    return int(np.sum(np.sign(y[1:]) != np.sign(y[:-1])))


def first_steps(surface: dict) -> dict:
    """Each optimizer's first step ``(|Δx|, |Δy|)`` and the gradient's ``(|g_x|, |g_y|)`` at the start."""
    a, b = surface["coefficients"]
    x, y = surface["start"]
    grad = (abs(a * x), abs(b * y)) if surface["kind"] == "quadratic" else None
    steps = {}
    for label, run in surface["runs"].items():
        p0, p1 = np.asarray(run["refnn"]["path"][:2])
        steps[label] = tuple(float(v) for v in np.abs(p1 - p0))
    return {"gradient": grad, "steps": steps}


def plot_limits(points: np.ndarray, margin: float = 0.08) -> tuple[tuple, tuple]:
    """``(xlim, ylim)``: the points' bounding box widened by ``margin`` of its size on each side."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 0.05)
    return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])


def _contours(ax, surface: dict, xlim, ylim) -> None:
    """Log-spaced level lines of ``f`` over the axes (the valley floor gets as many as the walls)."""
    from comparisons.lessons.optimizer_paths import surface_value

    # a grid wider than the limits: the equal aspect may widen one axis when the figure is drawn
    (x0, x1), (y0, y1) = xlim, ylim
    wide_x, wide_y = (x0 - (x1 - x0), x1 + (x1 - x0)), (y0 - (y1 - y0), y1 + (y1 - y0))
    xs, ys = np.meshgrid(np.linspace(*wide_x, 480), np.linspace(*wide_y, 480))
    f = surface_value(surface["kind"], surface["coefficients"], xs, ys)
    top = float(f.max())
    bottom = max(float(f.min()), top * 1e-5)
    ax.contour(xs, ys, f, levels=np.geomspace(bottom, top, 16), colors="0.72", linewidths=0.8, zorder=0)


def _ends(ax, surface: dict) -> None:
    ax.plot(*surface["start"], "ks", ms=8, zorder=5, label="start")
    ax.plot(*surface["minimum"], "*", color="gold", mec="k", ms=15, zorder=5, label="minimum")


def _figure_legend(fig, ax, extra: list) -> None:
    """The axes' entries and ``extra`` ``(handle, text)`` pairs in a legend beside the axes (the
    constrained layout makes room for it: it never covers a path)."""
    from comparisons.report.plots import FONT

    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles + [h for h, _ in extra], labels + [t for _, t in extra], fontsize=FONT["legend"],
               loc="outside right upper")


def draw_surface(surface: dict):
    """``draw(fig)``: the contour lines of one surface with every optimizer's two paths."""

    def draw(fig) -> None:
        from matplotlib.lines import Line2D

        from comparisons.report import style_axes

        ax = fig.subplots()
        every = max(1, surface["steps"] // 20)
        points = np.concatenate([np.asarray(r[side]["path"]) for r in surface["runs"].values()
                                 for side in ("refnn", "keras")] + [np.asarray([surface["minimum"]])])
        xlim, ylim = plot_limits(points)
        _contours(ax, surface, xlim, ylim)
        for label, run in surface["runs"].items():
            ours, theirs = np.asarray(run["refnn"]["path"]), np.asarray(run["keras"]["path"])
            ax.plot(ours[:, 0], ours[:, 1], "-", color=run["color"], lw=1.6, marker="o", ms=3.5, markevery=every,
                    label=label)
            ax.plot(theirs[:, 0], theirs[:, 1], ":", color=run["color"], lw=2.6)
        _ends(ax, surface)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_aspect("equal", adjustable="box")
        style_axes(ax, f"{surface['formula']}: {surface['steps']} steps", "x", "y", legend=False)
        _figure_legend(fig, ax, [
            (Line2D([], [], color="k", lw=1.6, marker="o", ms=3.5), f"refnn (● every {every} steps)"),
            (Line2D([], [], color="k", ls=":", lw=2.6), "Keras")])

    return draw


def draw_momentum(surface: dict, forms: dict):
    """``draw(fig)``: left, the EMA path and Keras's velocity paths at η(1 − μ) and at η; right,
    their distance step by step."""

    def draw(fig) -> None:
        from comparisons.report import style_axes

        paths_ax, gap_ax = fig.subplots(1, 2, width_ratios=(1.5, 1.0))
        lines = (("ema", "-", "tab:orange", f"refnn EMA, η_ema = {forms['eta']:g}"),
                 ("mapped", ":", "tab:orange", f"Keras SGD, η_keras = η_ema(1 − μ) = {forms['eta_keras']:.4g}"),
                 ("velocity", "-", "tab:gray", f"refnn velocity form, η = {forms['eta']:g}"),
                 ("naive", ":", "k", f"Keras SGD, η_keras = η_ema = {forms['eta']:g}"))
        points = np.concatenate([np.asarray(forms[key]["path"]) for key, *_ in lines])
        xlim, ylim = plot_limits(points)
        _contours(paths_ax, surface, xlim, ylim)
        for key, style, color, label in lines:
            path = np.asarray(forms[key]["path"])
            paths_ax.plot(path[:, 0], path[:, 1], style, color=color, lw=1.6 if style == "-" else 2.6, label=label)
        _ends(paths_ax, surface)
        paths_ax.set_xlim(*xlim)
        paths_ax.set_ylim(*ylim)
        paths_ax.set_aspect("equal", adjustable="box")
        style_axes(paths_ax, f"momentum μ = {forms['mu']:g}: the two forms", "x", "y", legend=False)
        for key, color, label in (("distance_mapped", "tab:orange", "EMA vs Keras at η(1 − μ)"),
                                  ("distance_naive", "k", "EMA vs Keras at the same η")):
            gap_ax.plot(range(len(forms[key])), [max(d, FLOOR) for d in forms[key]], "-", color=color, lw=1.8,
                        label=label)
        gap_ax.set_yscale("log")
        style_axes(gap_ax, "distance between the paths", "step", "‖w_EMA − w_Keras‖ (0 drawn at 1e-18)")
        from comparisons.report.plots import FONT

        fig.legend(*paths_ax.get_legend_handles_labels(), fontsize=FONT["legend"], loc="outside lower center", ncol=3)

    return draw


def _path_rows(surfaces: dict) -> list[list[str]]:
    rows = []
    for surface in surfaces.values():
        for label, run in surface["runs"].items():
            rows.append([surface["title"], label, f"`{run['call']}`", f"`{run['keras_optimizer']}`",
                         str(surface["steps"]), fmt_num(run["refnn"]["final_f"]), fmt_num(run["keras"]["final_f"]),
                         fmt_num(run["refnn"]["distance"]), fmt_err(run["max_rel"])])
    return rows


def _picture_text(m: dict) -> str:
    quadratic = m["surfaces"]["quadratic"]
    runs = quadratic["runs"]
    first = first_steps(quadratic)
    gx, gy = first["gradient"]
    ratios = ", ".join(f"{label} {dy / dx:.2g}" for label, (dx, dy) in first["steps"].items()
                       if label not in ("SGD", "momentum"))
    sgd_dx, sgd_dy = first["steps"]["SGD"]
    overshoot = max(p[0] for p in runs["momentum"]["refnn"]["path"])
    delta0 = first["steps"]["Rprop"]
    a, b = quadratic["coefficients"]
    return (f"**What the pictures show.** On the quadratic the valley is {b / a:g}× steeper across (y) than "
            f"along (x). SGD's step is η·g, so at η = {runs['SGD']['hyper']['learning_rate']:g} (just under the "
            f"stability limit 2/b = {2 / b:g}) it jumps from wall to wall — y changes sign on "
            f"{sign_flips(runs['SGD']['refnn']['path'])} of its first 20 steps — while it creeps along x. "
            "Momentum averages the gradients: the across-valley parts cancel, the along-valley part builds up, "
            f"and the point overshoots the minimum (x reaches {overshoot:+.2f}) before it spirals in. RMSprop, Adam "
            "and Adagrad divide each coordinate by its own running gradient size: the gradient at the start is "
            f"{gy / gx:.2g}× steeper in y than in x (SGD's first step has |Δy|/|Δx| = {sgd_dy / sgd_dx:.2g}), but "
            f"their first steps are about as long in y as in x (|Δy|/|Δx|: {ratios}), so they head diagonally "
            "instead of down the steepest slope. Rprop looks only "
            f"at signs: every step is ±Δ per coordinate (the first {delta0[0]:g} in both), Δ growing ×1.2 while "
            "the sign holds and halving when it flips — a staircase. On Rosenbrock the curved valley is easy "
            "to fall into and slow to follow: the contour plot shows each path's course along the valley floor, "
            "the table how far each got.")


def _momentum_blocks(m: dict) -> list:
    forms, quadratic = m["momentum"], m["surfaces"]["quadratic"]
    rows = [[f"`{forms['call_ema']}` (EMA, η_ema = {forms['eta']:g})",
             f"`keras.optimizers.SGD(learning_rate={forms['eta_keras']:.10g}, momentum={forms['mu']:g})`",
             fmt_err(forms["mapped_max_rel"]), fmt_num(max(forms["distance_mapped"]))],
            [f"`{forms['call_ema']}` (EMA, η_ema = {forms['eta']:g})",
             f"`keras.optimizers.SGD(learning_rate={forms['eta']:g}, momentum={forms['mu']:g})` — the same η",
             "—", fmt_num(max(forms["distance_naive"]))],
            [f"`{forms['call_velocity']}` (velocity form)",
             f"`keras.optimizers.SGD(learning_rate={forms['eta']:g}, momentum={forms['mu']:g})`",
             fmt_err(forms["velocity_max_rel"]), fmt_num(max(forms["distance_velocity"]))]]
    return [
        Formula("v = −η_ema V:   v ← μv − η_ema(1 − μ) g   ⇔   η_keras = η_ema · (1 − μ)"
                f"   (μ = {forms['mu']:g}: η_keras = {forms['eta']:g} × {1 - forms['mu']:.2g})"),
        "The textbook's EMA momentum keeps the average gradient V; Keras keeps the velocity v, the step "
        "itself. Multiply the EMA recursion by −η_ema and it *is* Keras's recursion with η_keras = η_ema(1 − μ), "
        f"so the two paths coincide to rounding. Given the same η, Keras's steps are 1/(1 − μ) = "
        f"{1 / (1 - forms['mu']):.3g}× longer: the path swings far past the minimum. (`keras_bridge` maps the "
        f"EMA form exactly so, with μ as Keras stores it, rounded to float32: η_keras = {forms['eta_keras']:.10g}.)",
        Figure("optimizers_momentum_forms", f"The {quadratic['title']} from the same start: refnn's EMA momentum "
               "(orange, solid) and Keras's velocity form at η(1 − μ) (orange, dotted) lie on top of each other; "
               "at the same η (black dotted, with refnn's velocity form in grey under it) the path is another "
               "one. Right: the distance between the EMA path and each Keras path, step by step.",
               draw_momentum(quadratic, forms), size=(12.5, 4.6)),
        Table(["refnn", "Keras", "max rel. path difference", "max distance"], rows,
              f"{quadratic['steps']} steps on the {quadratic['title']}, float64."),
    ]


def _training_blocks(m: dict) -> list:
    t, tol = m["training"], m["tolerance"]["training"]
    x = list(range(1, t["epochs"] + 1))
    series = []
    for label, run in t["runs"].items():
        series += [Series(f"{label}, refnn", x, run["refnn"], "-", run["color"]),
                   Series(f"{label}, Keras", x, run["keras"], ":", run["color"])]
    rows = [[label, f"`{run['call']}`", fmt_num(run["refnn"][-1]), fmt_num(run["keras"][-1]), fmt_err(run["max_rel"]),
             "pass" if run["max_rel"] <= tol else "FAIL"] for label, run in t["runs"].items()]
    return [
        f"**On a network.** The same optimizers train a {t['features']}-{t['hidden']}-1 tanh/linear network on "
        f"{t['description']} ({t['rows']} training rows, mean squared error, full batch — one update per epoch, "
        "as Rprop requires) from the same initial weights; refnn's `fit` and Keras's on its twin run side by "
        "side (`keras_bridge.compare.training`).",
        Plot("optimizers_training", f"Training loss per epoch, refnn solid and Keras dotted in the same colour "
             f"({t['dataset']}, full batch, float64).",
             [Panel(f"{t['dataset']}: {t['features']}-{t['hidden']}-1 network", "epoch",
                    "training loss (mean squared error)", series, yscale="log")]),
        Table(["optimizer", "hyper-parameters", "final loss refnn", "final loss Keras", "max rel. difference",
               "result"], rows,
              f"{t['epochs']} epochs; tolerance {tol:.0e} (float64). Rprop's Keras side is refnn's own port "
              "(`keras_bridge.plugins.Rprop`)."),
    ]


def _checks(m: dict) -> list[Check]:
    tol_paths, tol_training = m["tolerance"]["paths"], m["tolerance"]["training"]
    checks = []
    for label in m["order"]:
        runs = {key: s["runs"][label] for key, s in m["surfaces"].items()}
        worst = max(r["max_rel"] for r in runs.values())
        note = "; ".join(f"{key}: {r['keras_optimizer']}, {m['surfaces'][key]['steps']} steps"
                         for key, r in runs.items())
        checks.append(Check(f"optimizer paths: {label} (quadratic, Rosenbrock)", {"float64": worst},
                            {"float64": tol_paths}, note=note, kind=PORT if label == "Rprop" else KERAS))
    forms = m["momentum"]
    checks.append(Check("optimizer paths: momentum, velocity form at the same η",
                        {"float64": forms["velocity_max_rel"]}, {"float64": tol_paths}, note=forms["call_velocity"],
                        kind=KERAS))
    runs = m["training"]["runs"]
    stock = [label for label in runs if not runs[label]["ported"]]
    checks.append(Check(f"optimizer training curves: {', '.join(stock)}",
                        {"float64": max(runs[label]["max_rel"] for label in stock)}, {"float64": tol_training},
                        note=f"{m['training']['dataset']}, {m['training']['epochs']} epochs, full batch", kind=KERAS))
    for label in runs:
        if runs[label]["ported"]:
            checks.append(Check(f"optimizer training curves: {label}", {"float64": runs[label]["max_rel"]},
                                {"float64": tol_training}, note=runs[label]["call"], kind=PORT))
    return checks


def render(m: dict, title: str) -> Section:
    """The lesson's section from ``measure``'s numbers."""
    section = Section(key="lesson-optimizers", title=title, part=LESSON, data=m)
    quadratic = m["surfaces"]["quadratic"]
    section.add(
        Formula(RULES_MOMENTUM),
        "Every optimizer starts from the same point and follows its own rule; the rules differ in what they "
        "remember (nothing, an average of g, an average of g², the signs of g) and therefore in the *shape* of "
        "the path. Each path below is run twice, by refnn (the gradient from the formula) and by the Keras twin "
        "(`keras_bridge.optimizer_to_keras`, its gradient from `tf.GradientTape` at its own point), in float64.",
        Formula(RULES_ADAPTIVE),
        _picture_text(m))
    for key, surface in m["surfaces"].items():
        section.add(Figure(
            f"optimizers_paths_{key}",
            f"{surface['title'].capitalize()}, {surface['formula']}, from {tuple(surface['start'])}: each "
            "optimizer's path, refnn solid (a dot every few steps) and Keras dotted in the same colour — they "
            "lie on top of each other. Level lines are log-spaced.",
            draw_surface(surface), size=(11.5, 4.6) if key == "quadratic" else (8.5, 5.8)))
    section.add(Table(["surface", "optimizer", "hyper-parameters (refnn)", "Keras side", "steps", "final f refnn",
                       "final f Keras", "distance to the minimum", "max path difference"], _path_rows(m["surfaces"]),
                      f"max path difference: the worst step's max|w_refnn − w_Keras| / max|w_Keras|; tolerance "
                      f"{m['tolerance']['paths']:.0e}. Rprop's Keras side is refnn's own port. The quadratic "
                      f"starts at f = {quadratic['runs']['SGD']['refnn']['start_f']:.4g}."))
    section.add(*_momentum_blocks(m))
    section.add(*_training_blocks(m))
    section.add("**The presets.** `optimizers.get(name, convention=\"textbook\", **hyper_parameters)` builds the "
                "form a lecture writes, with any hyper-parameter overridden; without `convention` it builds "
                "Keras's. The paths above use the textbook presets for SGD, momentum and Rprop and Keras's for "
                "RMSprop, Adam and Adagrad, whose twins are then Keras's own optimizers.",
                Table(["call", "textbook preset", "Keras preset, same overrides"],
                      [[f"`{c}`", f"`{t}`", f"`{k}`"] for c, t, k in m["presets"]]))
    section.checks.extend(_checks(m))
    forms = m["momentum"]
    section.differences.append(Difference(
        "momentum: the same η in the EMA (textbook) and velocity (Keras) forms",
        f"paths up to {max(forms['distance_naive']):.3g} apart; equal with η_keras = η_ema(1 − μ)",
        max(forms["distance_naive"])))
    return section

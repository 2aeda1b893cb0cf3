"""The ``overfitting`` lesson's page: what is minimised, the curves of every run, the penalised
``val_loss`` beside the data-only crossentropy, dropout by its statistics, and the tables.

Everything is drawn from ``comparisons.lessons.overfitting.measure``'s numbers, so the page can be
redrawn from ``report.json``.
"""

from __future__ import annotations

import numpy as np

from comparisons.history_plot import set_log_scale
from comparisons.report import (
    KERAS, LESSON, STATS, Check, Figure, Formula, Heading, Section, Table, fmt_err,
)
from refnn.utils.tolerance import TOLERANCES

__all__ = ["render", "FORMULA", "WELCH_FORMULA"]

FORMULA = (
    "what fit minimises (Keras and refnn alike; N rows in the batch, w the kernels, not the biases):\n"
    "    plain   E = (1/N) Σₙ Lₙ                   Lₙ = −Σₖ tₙₖ log yₙₖ   (the data term, crossentropy)\n"
    "    L2      E = (1/N) Σₙ Lₙ + λ Σ w²          Keras's L2(λ): no ½ — textbook weight decay (λ/2)‖w‖² is L2(λ/2)\n"
    "    L1      E = (1/N) Σₙ Lₙ + λ Σ |w|\n"
    "    dropout y = m ⊙ x / (1 − p),  mᵢ ~ Bernoulli(1 − p)  in training;  y = x  in inference\n"
    "what fit reports: loss and val_loss = E (penalty included);  categorical_crossentropy = (1/N) Σₙ Lₙ alone"
)
#: dropout: how the two frameworks' means over the mask seeds are compared (``overfitting.welch``)
WELCH_FORMULA = (
    "n mask seeds per side, r = refnn, k = Keras, s² the variance over the seeds of one final number:\n"
    "    SE = √(s²_r/n_r + s²_k/n_k)                                   the standard error of mean_r − mean_k\n"
    "    ν  = SE⁴ / ((s²_r/n_r)²/(n_r − 1) + (s²_k/n_k)²/(n_k − 1))    Welch–Satterthwaite degrees of freedom\n"
    "    t* = Student's t quantile at 1 − α/(2m), ν degrees of freedom  α = 1 % two-sided; m quantities (Bonferroni)\n"
    "    agreement  ⇔  |mean_r − mean_k| / (t*·SE) ≤ 1"
)
_TRAIN, _VALIDATION = "C0", "C1"
_MARKS = {"best": ("0.2", "--"), "stopped": ("#b00020", "-.")}
_CE_LABEL = "crossentropy (data only)"

TITLE = "Overfitting and regularisation: L2, L1, dropout, early stopping, a smaller network"


def _final_epoch(run: dict) -> int:
    """The 0-based epoch whose weights the run ends with: the restored one for early stopping."""
    stop = run.get("early_stopping")
    restored = stop["refnn"]["restored"] if stop else None
    return restored - 1 if restored else len(run["refnn"]["loss"]) - 1


def _pm(values) -> str:
    a = np.asarray(values, dtype=np.float64)
    return f"{a.mean():.4f} ± {a.std(ddof=1):.4f}"


def _curves_pair(ax, x, mine: dict, theirs: dict, key: str, color: str, label: str, legend: bool) -> None:
    ax.plot(x[:len(mine[key])], mine[key], "-", color=color, linewidth=1.6, label=f"{label}, refnn" if legend else None)
    ax.plot(x[:len(theirs[key])], theirs[key], ":", color=color, linewidth=2.2,
            label=f"{label}, Keras" if legend else None)


def _early_stopping_marks(ax, run: dict) -> None:
    """Best and stopped epochs as vertical lines, the restored weights' validation value as a star."""
    stop = run["early_stopping"]["refnn"]
    ax.axvline(stop["best"], color=_MARKS["best"][0], linestyle=_MARKS["best"][1], linewidth=1.2,
               label=f"best val_loss: epoch {stop['best']}")
    if stop["stopped"] is not None:
        ax.axvline(stop["stopped"], color=_MARKS["stopped"][0], linestyle=_MARKS["stopped"][1], linewidth=1.2,
                   label=f"stopped: epoch {stop['stopped']}")
    if stop["restored"]:
        value = run["refnn"]["val_categorical_crossentropy"][stop["restored"] - 1]
        ax.plot([stop["restored"]], [value], "*", color="#1f5fbf", markersize=13,
                label=f"restored: epoch {stop['restored']}'s weights")
    ax.legend(fontsize=9, loc="lower left", framealpha=0.85)


def _draw_curves(measured: dict):
    """Small multiples: one panel per run, training (blue) and validation (orange) crossentropy;
    dropout panels show the mean over the seeds."""
    from comparisons.report.plots import style_axes

    panels = [(r["name"], r["refnn"], r["keras"], r) for r in measured["runs"]]
    panels += [(f"{d['name']}, mean of {len(d['mask_seeds'])} seeds",
                {k: np.mean(v, axis=0) for k, v in d["curves"]["refnn"].items()},
                {k: np.mean(v, axis=0) for k, v in d["curves"]["keras"].items()}, d) for d in measured["dropout"]]
    epochs = measured["size"]["epochs"]
    x = np.arange(1, epochs + 1)

    def draw(fig):
        columns = 3
        rows = -(-len(panels) // columns)
        axes = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
        for i, (ax, (title, mine, theirs, run)) in enumerate(zip(axes, panels)):
            _curves_pair(ax, x, mine, theirs, "categorical_crossentropy", _TRAIN, "training", i == 0)
            _curves_pair(ax, x, mine, theirs, "val_categorical_crossentropy", _VALIDATION, "validation", i == 0)
            set_log_scale(ax)
            bottom = i >= len(panels) - columns  # no panel below: this one shows the epochs
            ax.tick_params(labelbottom=bottom)
            style_axes(ax, title, "epoch" if bottom else "", _CE_LABEL if i % columns == 0 else "", legend=i == 0)
            if run.get("early_stopping"):
                _early_stopping_marks(ax, run)
        for ax in axes[len(panels):]:
            ax.set_visible(False)
    return draw, (15.0, 3.6 * -(-len(panels) // 3))


def _draw_dropout(measured: dict):
    """Per rate: the mean over the seeds (line) and the range from the lowest to the highest seed
    (band; a mean − sd band would cross zero on the log axis), refnn solid, Keras dotted and hatched."""
    from comparisons.report.plots import style_axes

    runs = measured["dropout"]
    x = np.arange(1, measured["size"]["epochs"] + 1)

    def draw(fig):
        axes = fig.subplots(1, len(runs), sharey=True, squeeze=False).ravel()
        for ax, run in zip(axes, runs):
            for key, color, what in (("categorical_crossentropy", _TRAIN, "training"),
                                     ("val_categorical_crossentropy", _VALIDATION, "validation")):
                for side, style, hatch in (("refnn", "-", None), ("keras", ":", "//")):
                    curves = np.asarray(run["curves"][side][key], dtype=np.float64)
                    ax.plot(x, curves.mean(axis=0), style, color=color, linewidth=1.6 if style == "-" else 2.2,
                            label=f"{what}, {'refnn' if side == 'refnn' else 'Keras'}: mean")
                    ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color=color, hatch=hatch,
                                    alpha=0.15 if hatch is None else 0.08, linewidth=0)
            set_log_scale(ax)
            style_axes(ax, f"{run['name']}: {len(run['mask_seeds'])} mask seeds per side", "epoch", _CE_LABEL)
    return draw, (6.5 * len(runs) + 2.5, 4.4)


def _plain_log_axis(ax) -> None:
    """A log y axis labelled 0.2, 0.5, 1, 2, 5 (the range here is about a decade: powers of ten
    alone would leave it unlabelled)."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _draw_penalty(measured: dict):
    """val_loss as fit reports it beside the validation crossentropy, for plain, L2 and L1; one
    legend (a colour per run; dotted = Keras) beside the right panel."""
    from matplotlib.lines import Line2D

    from comparisons.report.plots import FONT, style_axes

    runs = [r for r in measured["runs"] if r["penalty"] or r["name"] == "plain"]
    x = np.arange(1, measured["size"]["epochs"] + 1)

    def draw(fig):
        axes = fig.subplots(1, 2, sharey=True)
        for ax, key, title in ((axes[0], "val_loss", "val_loss (penalty included)"),
                               (axes[1], "val_categorical_crossentropy", "validation crossentropy (data only)")):
            for i, run in enumerate(runs):
                color = f"C{(i + 2) % 10}" if i else "0.15"
                ax.plot(x, run["refnn"][key], "-", color=color, linewidth=1.6, label=run["name"])
                ax.plot(x, run["keras"][key], ":", color=color, linewidth=2.2)
            _plain_log_axis(ax)
            style_axes(ax, title, "epoch", "val_loss" if key == "val_loss" else _CE_LABEL, legend=False)
        axes[1].tick_params(labelleft=True)
        handles, labels = axes[1].get_legend_handles_labels()
        handles.append(Line2D([], [], color="0.15", linestyle=":", linewidth=2.2))
        labels.append("dotted: Keras")
        axes[1].legend(handles, labels, fontsize=FONT["legend"], loc="upper left", bbox_to_anchor=(1.02, 1.0),
                       borderaxespad=0.0)
    return draw


def _final_row(run: dict) -> list[str]:
    e = _final_epoch(run)
    h = run["refnn"]
    val_loss, val_ce = h["val_loss"][e], h["val_categorical_crossentropy"][e]
    return [run["name"], str(e + 1), f"{h['loss'][e]:.4f}", f"{h['accuracy'][e]:.3f}", f"{val_loss:.4f}",
            f"{val_ce:.4f}", _penalty(val_loss - val_ce), f"{h['val_accuracy'][e]:.3f}", fmt_err(run["max_rel"])]


def _penalty(value: float) -> str:
    """val_loss − val crossentropy: 0 without a penalty (up to rounding, which would print −0.0000)."""
    return "0" if abs(value) < 1e-12 else f"{value:.4f}"


def _dropout_row(run: dict) -> list[str]:
    mine = run["curves"]["refnn"]
    last = {k: [c[-1] for c in v] for k, v in mine.items()}
    return [f"{run['name']} (refnn, mean ± sd of {len(run['mask_seeds'])} seeds)", str(len(mine["loss"][0])),
            _pm(last["loss"]), _pm(last["accuracy"]), _pm(last["val_loss"]), _pm(last["val_categorical_crossentropy"]),
            "0 (no penalty)", _pm(last["val_accuracy"]), "statistical: see the dropout table"]


def _final_table(measured: dict) -> Table:
    rows = [_final_row(r) for r in measured["runs"]] + [_dropout_row(d) for d in measured["dropout"]]
    return Table(["run", "epoch", "train loss (penalised)", "train accuracy", "val_loss (penalised)",
                  "val crossentropy (data only)", "penalty (val_loss − val crossentropy)", "val accuracy",
                  "refnn vs Keras (max rel. difference)"], rows,
                 "refnn's numbers at the last epoch — for early stopping at the epoch whose weights were restored. "
                 "Training values are the epoch's running means as `fit` logs them (dropout active); validation "
                 "values use the end-of-epoch weights. Last column: the worst epoch of any history key and every "
                 f"final weight against Keras (tolerance {TOLERANCES['training']['float64']:.0e}, float64).")


_FINAL_NAMES = {"categorical_crossentropy": "final training crossentropy",
                "val_categorical_crossentropy": "final validation crossentropy", "val_accuracy": "final val accuracy"}


def _number(value, spec: str) -> str:
    """``value`` formatted by ``spec``; ``—`` for ``None`` (ν and t* with no spread on either side)."""
    return "—" if value is None else format(value, spec)


def _test_words(run: dict) -> str:
    """``"Welch's t, two-sided 1 %, Bonferroni over 3 quantities"`` from the run's statistics."""
    stats = run["statistics"]
    return (f"Welch's t, two-sided {100 * stats['level']:g} %, Bonferroni over {stats['quantities']} quantities "
            f"(each at {100 * stats['level'] / stats['quantities']:.2g} %)")


def _dropout_table(measured: dict) -> Table:
    rows = []
    for run in measured["dropout"]:
        for key, a in run["agreement"].items():
            agrees = "yes" if a["ratio"] <= 1.0 else "no — a difference beyond the seeds' spread"
            rows.append([run["name"], _FINAL_NAMES[key], f"{a['refnn_mean']:.4f} ± {a['refnn_std']:.4f}",
                         f"{a['keras_mean']:.4f} ± {a['keras_std']:.4f}", f"{a['difference']:+.4f}",
                         f"{a['standard_error']:.4f}", _number(a["df"], ".1f"), _number(a["critical_t"], ".2f"),
                         f"{a['ratio']:.2f}", agrees])
    runs = measured["dropout"]
    return Table(["run", "quantity", "refnn mean ± sd", "Keras mean ± sd", "difference of means", "SE",
                  "Welch ν", "critical t*", "|difference| / (t*·SE)", "agrees (≤ 1)"], rows,
                 "A statistical comparison, not an equality: each side's masks come from its own random generator. "
                 f"{len(runs[0]['mask_seeds']) if runs else 0} mask seeds per side, same initial weights and "
                 f"batches; {_test_words(runs[0]) if runs else ''}. SE = √(s²_refnn/n + s²_Keras/n); ν by "
                 "Welch–Satterthwaite; t* the critical value of Student's t at ν.")


def _early_stopping_table(run: dict) -> Table:
    rows = []
    for side, label in (("refnn", "refnn"), ("keras", "Keras")):
        s = run["early_stopping"][side]
        rows.append([label, str(s["best"]), "— (ran every epoch)" if s["stopped"] is None else str(s["stopped"]),
                     str(s["restored"] or "— (not restored)"),
                     f"{run[side]['val_loss'][(s['restored'] or s['epochs_run']) - 1]:.4f}"])
    return Table(["side", "best epoch (min val_loss)", "stopped after epoch", "weights restored from epoch",
                  "val_loss of the restored weights"], rows,
                 f"EarlyStopping(monitor=\"val_loss\", patience={run['early_stopping']['patience']}, "
                 "restore_best_weights=True); epochs counted from 1, as Keras prints them. Each side read from its "
                 "own callback after `fit`: refnn's `EarlyStopping`, and Keras's `keras.callbacks.EarlyStopping` "
                 "(`best_epoch`, `stopped_epoch`).")


def _checks(measured: dict) -> list[Check]:
    tol = {"float64": TOLERANCES["training"]["float64"]}
    epochs = measured["size"]["epochs"]
    checks = [Check(f"overfitting: {r['name']} ({r['what']}), up to {epochs} epochs — every history key and the "
                    "final weights", {"float64": r["max_rel"]}, dict(tol),
                    note="worst key: " + max(r["history_errors"], key=r["history_errors"].get), kind=KERAS)
              for r in measured["runs"]]
    for run in measured["dropout"]:
        stats, n = run["statistics"], len(run["mask_seeds"])
        worst = run["agreement"][stats["worst"]]
        checks.append(Check(
            f"overfitting: {run['name']}, {epochs} epochs — means of the final training and validation "
            "crossentropy and val accuracy", {"float64": stats["ratio"]}, {"float64": 1.0},
            note=f"a statistical comparison over {n} mask seeds per side: {_test_words(run)}; worst: "
                 f"{_FINAL_NAMES[stats['worst']]}, ν = {_number(worst['df'], '.1f')}, "
                 f"t* = {_number(worst['critical_t'], '.2f')}",
            kind=STATS))
    return checks


def _trap(penalised: list[dict], plain: dict) -> tuple[dict, bool]:
    """The penalised run that best shows the trap, and whether its val_loss reads as worse than the
    plain run's: among those that do, the lowest data-only crossentropy; else the largest penalty."""
    def last(run, key):
        return run["refnn"][key][-1]
    looks_worse = [r for r in penalised if last(r, "val_loss") >= plain["val_loss"][-1]]
    if looks_worse:
        return min(looks_worse, key=lambda r: last(r, "val_categorical_crossentropy")), True
    return max(penalised, key=lambda r: last(r, "val_loss") - last(r, "val_categorical_crossentropy")), False


def _story(measured: dict) -> list[str]:
    """The paragraphs that read the measured numbers."""
    runs = {r["name"]: r for r in measured["runs"]}
    plain, size = runs["plain"]["refnn"], measured["size"]
    ce = plain["val_categorical_crossentropy"]
    best = int(np.argmin(ce))
    if best < len(ce) - 1:
        validation = (f"its validation crossentropy is lowest at epoch {best + 1} ({ce[best]:.3f}) and rises to "
                      f"{ce[-1]:.3f} by epoch {len(ce)}: it learns the training rows, not the digits")
    else:
        validation = (f"its validation crossentropy is still falling at epoch {len(ce)} ({ce[-1]:.3f}): "
                      "within these epochs it has not overfitted yet")
    text = [
        f"A network with {runs['plain']['parameters']:,} weights trained on {size['train_rows']} digits "
        f"({size['validation_rows']} held out for validation; Adam η = {measured['learning_rate']:g}, batches of "
        f"{measured['batch_size']}, float64). The plain run's training crossentropy falls to "
        f"{plain['categorical_crossentropy'][-1]:.2g}, while {validation}. Each cure below is trained in refnn and "
        "in Keras from the same weights on the same batches (`keras_bridge.compare.training`): refnn solid, Keras "
        "dotted, and they coincide."]
    penalised = [r for r in measured["runs"] if r["penalty"]]
    if penalised:
        text.append(_trap_story(penalised, plain))
    text.append(_cures(measured))
    return text


def _trap_story(penalised: list[dict], plain: dict) -> str:
    """The paragraph on val_loss against the data-only crossentropy, for the run ``_trap`` picks."""
    run, looks_worse = _trap(penalised, plain)
    h, ce = run["refnn"], plain["val_categorical_crossentropy"]
    penalty = h["val_loss"][-1] - h["val_categorical_crossentropy"][-1]
    reading = ", which reads as *worse*" if looks_worse else \
        f"; {penalty:.3f} of it is the penalty of the weights, not an error of the predictions"
    return ("**Read the data-only crossentropy, not the penalised val_loss.** `val_loss` is the validation "
            "crossentropy *plus* λΣw² of the current weights — a property of the weights, not of the predictions. "
            f"{run['name']} ends with val_loss {h['val_loss'][-1]:.3f} against the plain run's "
            f"{plain['val_loss'][-1]:.3f}{reading}; its validation crossentropy is "
            f"{h['val_categorical_crossentropy'][-1]:.3f} against {ce[-1]:.3f}. Compile with "
            "`metrics=[\"accuracy\", \"categorical_crossentropy\"]` (refnn and Keras alike) and compare runs by "
            "`val_categorical_crossentropy` or `val_accuracy`.")


def _cures(measured: dict) -> str:
    """Each run's validation crossentropy at the weights it ends with, and its gap to training."""
    finals = []
    for run in measured["runs"]:
        e, h = _final_epoch(run), run["refnn"]
        finals.append((run["name"], h["val_categorical_crossentropy"][e], h["categorical_crossentropy"][e]))
    for run in measured["dropout"]:
        last = {k: float(np.mean([c[-1] for c in v])) for k, v in run["curves"]["refnn"].items()}
        finals.append((f"{run['name']} (mean of {len(run['mask_seeds'])} seeds)",
                       last["val_categorical_crossentropy"], last["categorical_crossentropy"]))
    listed = "; ".join(f"{name} {val:.3f} (training {train:.2g})" for name, val, train in finals)
    best = min(finals[1:], key=lambda f: f[1]) if len(finals) > 1 else finals[0]
    return (f"Validation crossentropy at the weights each run ends with (training crossentropy in brackets): "
            f"{listed}. Lowest among the cures: **{best[0]}**. A cure works by narrowing the gap between the two: a "
            "penalty or dropout keeps the network from fitting the training rows exactly, early stopping keeps the "
            "weights from before the gap opened, the smaller network has too few weights to memorise; a penalty "
            "that is too strong, or a network that is too small, underfits instead (its training crossentropy "
            "stays high).")


def render(measured: dict) -> Section:
    """The lesson's ``Section``: concepts first, then the figures and the tables."""
    section = Section(key="lesson-overfitting", title=TITLE, part=LESSON, data=measured)
    curves, curves_size = _draw_curves(measured)
    dropout, dropout_size = _draw_dropout(measured)
    section.add(Formula(FORMULA), *_story(measured),
                Figure("overfitting_curves", "Training (blue) and validation (orange) crossentropy, data only, per "
                       "run; refnn solid, Keras dotted; log scale. Early stopping: the best epoch, the epoch it "
                       "stopped after and the restored weights (star). Dropout: the mean over the mask seeds.",
                       curves, curves_size),
                Figure("overfitting_penalty", "Left: `val_loss` as `fit` reports it — the validation crossentropy "
                       "*plus* the penalty of the current weights. Right: the validation crossentropy alone "
                       "(`val_categorical_crossentropy`): compare runs here. refnn solid, Keras dotted; log scale.",
                       _draw_penalty(measured), (13.0, 4.4)))
    if measured["dropout"]:
        first = measured["dropout"][0]
        section.add(Heading("Dropout: the same in distribution"),
                    "Dropout draws a fresh mask at every step — refnn from NumPy's generator, Keras from TensorFlow's "
                    "Philox generator. The two cannot draw the same masks, so their curves cannot agree number "
                    "for number (a run-by-run check would fail for that reason alone). What must agree is the "
                    "distribution: each side trains from the same initial weights on the same batches with "
                    f"{len(first['mask_seeds'])} mask seeds, and the means of the final numbers are compared by "
                    f"{_test_words(first)}: the difference of the means, in units of the critical t times its "
                    "standard error, must be at most 1. Such a test flags a true agreement now and then (about "
                    f"{100 * first['statistics']['level']:g} % of the time for one rate); its check is listed "
                    "apart in the summary, as statistical.",
                    Formula(WELCH_FORMULA),
                    Figure("overfitting_dropout", "Dropout: the mean over the mask seeds (line) and the range from "
                           "the lowest to the highest seed (band); refnn solid, Keras dotted and hatched; log scale.",
                           dropout, dropout_size),
                    _dropout_table(measured))
    stopped = next((r for r in measured["runs"] if r.get("early_stopping")), None)
    if stopped:
        section.add(Heading("Early stopping"), _early_stopping_table(stopped))
    section.add(Heading("Final numbers"), _final_table(measured))
    section.checks.extend(_checks(measured))
    return section

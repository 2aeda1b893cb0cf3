"""The ``stopping`` lesson's page: the stopping rules, each run's curves and stop, the training
record of the early-stopping run, Levenberg–Marquardt's own stops, and the tables.

Everything here is drawn from ``comparisons.lessons.stopping.measure``'s numbers, so the page can
be redrawn from ``report.json``.
"""

from __future__ import annotations

import math

from comparisons.history_plot import STATE_PANELS, draw_training_record, set_log_scale
from comparisons.report import KERAS, LESSON, PORT, Check, Figure, Formula, Heading, Section, Table, fmt_err, fmt_num
from refnn.utils.tolerance import TOLERANCES

__all__ = ["render", "FORMULA", "RUNS"]

FORMULA = (
    "early stopping (Keras's EarlyStopping; MATLAB's max_fail), checked after every epoch e:\n"
    "    improved(e)  ⇔  val_loss(e) + min_delta < best          best = the smallest val_loss so far\n"
    "    wait(e)  =  0 if improved(e),  else wait(e − 1) + 1       MATLAB: val_fail\n"
    "    stop after epoch e  when  wait(e) ≥ patience              MATLAB: val_fail ≥ max_fail (default 6)\n"
    "    restore_best_weights:  w ← w(e*),  e* = the last improving epoch\n"
    "the other rules, checked at the same moment (an epoch is never cut short):\n"
    "    epochs: e + 1 = E        time: elapsed ≥ T        goal: loss(e) ≤ goal\n"
    "    Levenberg–Marquardt: ‖Jᵀe‖₂ < min_grad before a step,  or  μ > mu_max while retrying one"
)
#: measured key → (panel title, what the Keras side is)
RUNS = {
    "epochs": ("fixed number of epochs", "Keras"),
    "time": ("TimeLimit", "Keras, our emulation"),
    "early_stopping": ("EarlyStopping", "Keras"),
    "goal": ("Goal on the training loss", "Keras, our emulation"),
}
_LOSS_LABEL = "loss (crossentropy)"
_REFNN_STOP, _KERAS_STOP, _KEPT = ("0.2", "--"), ("#b00020", "-."), ("#1f5fbf", ":")


def _epoch(index) -> str:
    """A 0-based epoch as Keras prints it (1-based)."""
    return "—" if index is None else str(int(index) + 1)


def _seconds(value) -> str:
    return "— (not timed)" if value is None else f"{value:.3f}"


def _stop_lines(ax, mine: dict, theirs: dict, x_of, unit: str) -> None:
    """Vertical lines where each side stopped (one line when they agree) and the restored epoch."""
    def where(side):
        return f"{x_of(side):.3f} s" if unit == "s" else f"epoch {x_of(side)}"

    if x_of(mine) == x_of(theirs):
        ax.axvline(x_of(mine), color=_REFNN_STOP[0], linestyle=_REFNN_STOP[1], label=f"both stop after {where(mine)}")
    else:
        ax.axvline(x_of(mine), color=_REFNN_STOP[0], linestyle=_REFNN_STOP[1], label=f"refnn stops at {where(mine)}")
        ax.axvline(x_of(theirs), color=_KERAS_STOP[0], linestyle=_KERAS_STOP[1],
                   label=f"Keras stops at {where(theirs)}")
    if mine.get("restored_epoch") is not None:
        ax.axvline(mine["restored_epoch"] + 1, color=_KEPT[0], linestyle=_KEPT[1], linewidth=1.6,
                   label=f"restored: epoch {mine['restored_epoch'] + 1}")


def _run_title(key: str, run: dict) -> str:
    if key == "time":
        return f"TimeLimit({run['limit']:g} s)"
    if key == "early_stopping":
        return f"EarlyStopping(patience={run['patience']}, restore_best_weights)"
    if key == "goal":
        return f"Goal({run['goal']:g}, monitor=\"loss\")"
    return f"fit(epochs={run['refnn']['epochs_run']})"


def _draw_run(ax, key: str, run: dict) -> None:
    from comparisons.report.plots import style_axes

    mine, theirs = run["refnn"], run["keras"]
    by_time = key == "time"
    for side, style in ((mine, "-"), (theirs, ":")):
        x = side["epoch_seconds"] if by_time else list(range(1, side["epochs_run"] + 1))
        marker = "o" if side["epochs_run"] <= 3 else None
        for name, color in (("loss", "C0"), ("val_loss", "C1")):
            ax.plot(x, side[name], style, color=color, marker=marker, markersize=5,
                    linewidth=2.2 if style == ":" else 1.6)
    set_log_scale(ax)
    if by_time:
        ax.axvline(run["limit"], color="0.5", linestyle="-", linewidth=3, alpha=0.4,
                   label=f"limit T = {run['limit']:g} s")
        _stop_lines(ax, mine, theirs, lambda side: side["epoch_seconds"][-1], "s")
    else:
        _stop_lines(ax, mine, theirs, lambda side: side["epochs_run"], "epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
    if key == "goal":
        ax.axhline(run["goal"], color="0.35", linestyle=":", label=f"goal {run['goal']:g}")
    style_axes(ax, _run_title(key, run), "seconds since fit began" if by_time else "epoch", _LOSS_LABEL)


def _draw_runs(measured: dict):
    from matplotlib.lines import Line2D

    def draw(fig):
        axes = fig.subplots(2, 2)
        for ax, key in zip(axes.flat, RUNS):
            _draw_run(ax, key, measured[key])
        handles = [Line2D([], [], color=c, linestyle=s, linewidth=2.2 if s == ":" else 1.6)
                   for s in ("-", ":") for c in ("C0", "C1")]
        fig.legend(handles, ["refnn loss", "refnn val_loss", "Keras loss", "Keras val_loss"],
                   loc="outside lower center", ncols=4, fontsize=11)
    return draw


def _state_axes(fig, record: dict, key: str):
    """The axes of one training-state panel drawn by ``draw_training_record``."""
    states = [k for k in STATE_PANELS if record.get(k)]
    return fig.axes[1 + states.index(key)]


def _draw_early_stopping_record(run: dict):
    record = {k: v for k, v in run["record"].items() if k != "learning_rate"}

    def draw(fig):
        mine = run["refnn"]
        draw_training_record(fig, {"loss": mine["loss"], "val_loss": mine["val_loss"]}, record,
                             mine["stop_reason"], title="EarlyStopping, refnn", ylabel=_LOSS_LABEL)
        failures = _state_axes(fig, record, "validation_failures")
        failures.axhline(run["patience"], color="#b00020", linestyle="--", linewidth=1.2,
                         label=f"patience {run['patience']}")
        failures.set_ylim(-0.4, run["patience"] + 0.8)
        failures.legend(fontsize=10, loc="upper left")
    return draw


def _draw_levenberg_marquardt(lm: dict):
    run, default = lm["no_min_grad"], lm["default"]
    record = {"gradient_norm": run["gradient_norm"], "mu": run["mu"]}

    def draw(fig):
        draw_training_record(fig, {"loss": run["loss"]}, record, run["stop_reason"],
                             title="Levenberg–Marquardt, min_grad = 0", ylabel="loss (mse)")
        gradient, mu = _state_axes(fig, record, "gradient_norm"), _state_axes(fig, record, "mu")
        gradient.axhline(default["min_grad"], color="#b00020", linestyle="--",
                         label=f"min_grad = {default['min_grad']:g}: stop after epoch {default['epochs_run']}")
        mu.axhline(run["mu_max"], color="#b00020", linestyle="--", label=f"mu_max = {run['mu_max']:g}")
        for ax in (gradient, mu):
            ax.legend(fontsize=10, loc="lower left")
    return draw


def _runs_table(measured: dict) -> Table:
    rows = []
    for key, (name, keras_name) in RUNS.items():
        for side, label in (("refnn", "refnn"), ("keras", keras_name)):
            r = measured[key][side]
            rows.append([name, label, str(r["epochs_run"]), r["stop_reason"], _epoch(r["best_epoch"]),
                         _epoch(r["kept_epoch"]) + (" (restored)" if r["restored_epoch"] is not None else " (last)"),
                         fmt_num(r["loss"][r["kept_epoch"]]), fmt_num(r["val_loss"][r["kept_epoch"]]),
                         _seconds(r["seconds"])])
    return Table(["run", "side", "epochs run", "stop reason", "best epoch (min val_loss)", "weights kept from epoch",
                  "loss", "val_loss", "seconds"], rows,
                 "Epochs counted from 1, as Keras prints them. loss and val_loss are those of the epoch whose "
                 "weights the model keeps (loss: the epoch's running mean, as `fit` logs it). Keras's stop reason: "
                 "its History does not record one — it is read from the run's stopping callback (Keras's own "
                 "EarlyStopping: `stopped_epoch`; the emulated runs: ours). Keras seconds: only the emulated runs "
                 "carry a clock of ours.")


def _lm_table(lm: dict) -> Table:
    rows = [[fmt_num(r["min_grad"]), str(r["epochs_run"]), r["stop_reason"], fmt_num(r["gradient_norm"][-1]),
             fmt_num(r["mu"][-1]), str(r["rejections"]), fmt_num(r["final_loss"]), f"{r['seconds']:.3f}"]
            for r in (lm["default"], lm["no_min_grad"])]
    return Table(["min_grad", "epochs run", "stop reason", "last ‖Jᵀe‖₂", "last μ", "rejected steps",
                  "final loss (mse)", "seconds"], rows,
                 f"Levenberg–Marquardt on the sine ({lm['points']} points, 1-{lm['hidden']}-1 tanh, full batch, "
                 f"at most {lm['max_epochs']} epochs, mu_max = {lm['default']['mu_max']:g}); refnn alone. The last μ "
                 "of a *maximum mu* stop is the first value above mu_max (1e10 × (1 + rounding)).")


def _checks(measured: dict) -> list[Check]:
    tol = {"float64": TOLERANCES["training"]["float64"]}
    fixed, early, limit, goal = (measured[k] for k in ("epochs", "early_stopping", "time", "goal"))
    epochs = measured["setup"]["epochs"]
    same = early["same_stop"] and early["same_restored"]
    return [
        Check(f"stopping: {epochs} epochs — loss, val_loss and final weights (compare.training)",
              {"float64": fixed["max_rel"]}, dict(tol), kind=KERAS),
        Check(f"stopping: EarlyStopping(patience={early['patience']}, restore_best_weights) — curves, restored "
              "weights, the same stop epoch and restored epoch", {"float64": early["max_rel"] if same else math.inf},
              dict(tol), note=f"refnn stops after epoch {early['refnn']['epochs_run']}, Keras after "
              f"{early['keras']['epochs_run']}; restored {_epoch(early['refnn']['restored_epoch'])} and "
              f"{_epoch(early['keras']['restored_epoch'])}, restored weights within {fmt_err(early['weights_rel'])}",
              kind=KERAS),
        Check("stopping: TimeLimit against our Keras emulation — the curves over the epochs both ran",
              {"float64": limit["max_rel"]}, dict(tol), note="where each side stops depends on its clock: not compared",
              kind=KERAS),
        Check(f"stopping: Goal(loss ≤ {goal['goal']:g}) against our Keras emulation — the curves over the epochs "
              "both ran", {"float64": goal["max_rel"]}, dict(tol), kind=KERAS),
        Check(f"stopping: Goal(loss ≤ {goal['goal']:g}) — the epoch training stops after",
              {"float64": goal["stop_error"]}, {"float64": 0.0},
              note=f"Keras side: our emulation (Keras has no such callback); refnn stops after epoch "
                   f"{goal['refnn']['epochs_run']}, the emulation after {goal['keras']['epochs_run']}", kind=PORT),
    ]


def _duration(seconds: float) -> str:
    return f"{seconds:.3g} s" if seconds >= 0.1 else f"{seconds * 1e3:.2g} ms"


def _per_epoch(seconds: list) -> str:
    """``"first epoch 1.2 s, then 2 ms per epoch"`` from the elapsed seconds at each epoch's end."""
    text = f"first epoch {_duration(seconds[0])}"
    if len(seconds) > 1:
        text += f", then {_duration((seconds[-1] - seconds[0]) / (len(seconds) - 1))} per epoch"
    return text


def _epochs_story(fixed: dict) -> str:
    f = fixed["refnn"]
    best = f["best_epoch"]
    text = (f"**Epochs.** With a fixed budget of {f['epochs_run']} epochs the validation loss is lowest after epoch "
            f"{best + 1} ({fmt_num(f['val_loss'][best])}) and ends at {fmt_num(f['val_loss'][-1])}, the training "
            f"loss at {fmt_num(f['loss'][-1])}")
    if f["val_loss"][-1] > f["val_loss"][best] and f["loss"][-1] < f["loss"][best]:
        return text + ": the network overfits, and the weights kept are the last ones."
    return text + "; the weights kept are the last ones."


def _early_story(early: dict, fixed: dict) -> str:
    e, k = early["refnn"], early["keras"]
    if e["stop_reason"] != "early stopping":
        return (f"**Validation.** `EarlyStopping(patience={early['patience']})` did not fire within "
                f"{e['epochs_run']} epochs (refnn: *{e['stop_reason']}*, Keras: *{k['stop_reason']}*).")
    restored = f"both restore the weights of epoch {_epoch(e['restored_epoch'])}" if early["same_restored"] else \
        f"they restore epoch {_epoch(e['restored_epoch'])} (refnn) and {_epoch(k['restored_epoch'])} (Keras)"
    return (
        f"**Validation.** `EarlyStopping(monitor=\"val_loss\", patience={early['patience']}, "
        f"restore_best_weights=True)` stops refnn after epoch {e['epochs_run']} and Keras after epoch "
        f"{k['epochs_run']} ({early['patience']} epochs without a new best); {restored} (val_loss "
        f"{fmt_num(e['val_loss'][e['restored_epoch']])}), and the restored weights agree to "
        f"{fmt_err(early['weights_rel'])}. MATLAB's `max_fail` is the same rule with `patience = max_fail` "
        "(its `val_fail` is the `wait` counter, drawn below)." + _too_early(e, fixed["refnn"]))


def _too_early(stopped: dict, fixed: dict) -> str:
    """A sentence when the fixed-epoch run found a lower val_loss after the early stop."""
    later = fixed["best_epoch"]
    if later < stopped["epochs_run"] or fixed["val_loss"][later] >= stopped["val_loss"][stopped["restored_epoch"]]:
        return ""
    waited = stopped["epochs_run"] - stopped["restored_epoch"] - 1
    return (f" Here the patience was too short: the fixed-epoch run reached a lower val_loss after epoch "
            f"{later + 1} ({fmt_num(fixed['val_loss'][later])}) — {waited} epochs without a new best were a "
            "plateau, not the end of learning.")


def _time_story(limit: dict) -> str:
    mine, theirs = limit["refnn"], limit["keras"]
    return (
        "**Time.** Keras has no time-limit callback; its side is *our emulation* (a `keras.callbacks.Callback` "
        f"that stops once `elapsed ≥ T` at an epoch's end). With T = {limit['limit']:g} s refnn ran "
        f"{mine['epochs_run']} epochs ({_per_epoch(mine['epoch_seconds'])}) and Keras {theirs['epochs_run']} "
        f"({_per_epoch(theirs['epoch_seconds'])}; its first epoch includes building the TensorFlow graph of the "
        "training step). An epoch is never cut short, so both overshoot T by up to one epoch: "
        f"{mine['elapsed_at_stop']:.4f} s and {theirs['elapsed_at_stop']:.4f} s. The same budget buys a different "
        "number of epochs on every machine and every run: a time limit is a budget, not a criterion of quality, "
        "and its result is not reproducible.")


def _goal_story(goal: dict) -> str:
    g = goal["refnn"]
    text = (f"**Goal.** `refnn.callbacks.Goal({goal['goal']:g}, monitor=\"loss\")` — MATLAB's `trainParam.goal`; "
            "Keras has none, its side is again our emulation — ")
    if g["stop_reason"] != "goal":
        return text + f"was not reached within {g['epochs_run']} epochs."
    return text + (
        f"stops refnn after epoch {g['epochs_run']} and Keras after epoch {goal['keras']['epochs_run']} (training "
        f"loss {fmt_num(g['loss'][-1])}). A goal on the *training* loss says nothing about generalisation: "
        f"val_loss was lowest after epoch {g['best_epoch'] + 1} and is {fmt_num(g['val_loss'][-1])} at the stop.")


def _story(measured: dict) -> list[str]:
    """The paragraphs under the figure, each number from ``measured``."""
    return [_epochs_story(measured["epochs"]), _early_story(measured["early_stopping"], measured["epochs"]),
            _time_story(measured["time"]), _goal_story(measured["goal"])]


def _lm_story(lm: dict) -> str:
    default, off = lm["default"], lm["no_min_grad"]
    text = ("Levenberg–Marquardt stops by itself (`history.stop_reason`): before each step it compares "
            "‖Jᵀe‖₂ (the gradient of ½Σe²) with `min_grad`, and inside a step it multiplies μ by 10 after each "
            "rejected try, giving up once μ > `mu_max`. With MATLAB's defaults (min_grad = 1e-7, mu_max = 1e10) "
            f"the sine run stopped after {default['epochs_run']} epochs: *{default['stop_reason']}*. ")
    if default["stop_reason"] != "minimum gradient" or off["stop_reason"] != "maximum mu":
        return text + f"With the gradient test off: {off['epochs_run']} epochs, *{off['stop_reason']}*."
    return text + (
        f"With the gradient test off it went on for {off['epochs_run'] - default['epochs_run']} more epochs, "
        f"which changed the loss ({fmt_num(default['final_loss'])}) by a relative "
        f"{abs(off['final_loss'] - default['final_loss']) / default['final_loss']:.0e}, until no step could "
        f"lower it: *{off['stop_reason']}* (in its last epoch μ rises from {fmt_num(off['mu'][-2])} past "
        "mu_max)." + _at_a_minimum(default))


def _at_a_minimum(default: dict) -> str:
    """The closing sentence, claiming a minimum only when the gradient test says so."""
    gradient = default["gradient_norm"][-1]
    if gradient < default["min_grad"]:
        return (f" The first stop says a minimum has been reached (‖Jᵀe‖₂ = {fmt_num(gradient)} < min_grad = "
                f"{default['min_grad']:g}); the second, that no step lowers the loss further — to rounding level.")
    return (f" ‖Jᵀe‖₂ ended at {fmt_num(gradient)}, not below min_grad = {default['min_grad']:g}: no step lowering "
            "the loss says the steps failed; it does not show a minimum.")


def render(measured: dict, title: str) -> Section:
    """The lesson's ``Section``, titled ``title``: the rules, the runs, the early-stopping record,
    Levenberg–Marquardt."""
    setup = measured["setup"]
    section = Section(key="lesson-stopping", title=title, part=LESSON, data=measured)
    section.add(
        Formula(FORMULA),
        "Training stops when a rule fires at the end of an epoch; refnn's `fit` records which one in "
        "`history.stop_reason` (\"epochs\", \"time\", \"early stopping\", \"goal\", \"minimum gradient\", "
        "\"maximum mu\", …, MATLAB's `tr.stop`). One network trained four times, each run stopped by another rule: "
        f"{setup['dataset']} ({setup['training_rows']} training and {setup['validation_rows']} validation rows), "
        f"{setup['network']}, {setup['optimizer']}, batches of {setup['batch_size']}, float64. Each Keras side "
        "trains the twin (`keras_bridge`) on refnn's batches, so the curves coincide; only where a side stops "
        "can differ.",
        Figure("stopping_runs", "Each run's loss and val_loss (refnn solid, Keras dotted, log scale) and where "
               "it stopped (vertical lines). Top right against seconds: the same time limit stops each framework "
               "after a different number of epochs.", _draw_runs(measured), size=(13.0, 9.0)),
        *_story(measured),
        _runs_table(measured),
        Heading("The early-stopping run as MATLAB's training tool shows it"),
        "`comparisons.plot_history(history)` draws `fit`'s record: the curves with the best epoch, then the "
        "training state per epoch — ‖∇E‖₂ of the epoch's last batch and the validation failures counted against "
        "the patience (the learning rate, constant here, is left out).",
        Figure("stopping_training_record", "refnn's EarlyStopping run: loss and val_loss with the best epoch "
               "(the one restored), the gradient norm, and the validation failures reaching the patience.",
               _draw_early_stopping_record(measured["early_stopping"]), size=(8.0, 8.2)),
        Heading("Levenberg–Marquardt's own stops"),
        _lm_story(measured["levenberg_marquardt"]),
        Figure("stopping_levenberg_marquardt", "Levenberg–Marquardt with the gradient test off: the loss, "
               "‖Jᵀe‖₂ (the default min_grad would have stopped it where the curve crosses the dashed line) "
               "and μ, which jumps to mu_max in the last epoch.",
               _draw_levenberg_marquardt(measured["levenberg_marquardt"]), size=(8.0, 8.2)),
        _lm_table(measured["levenberg_marquardt"]),
    )
    section.checks.extend(_checks(measured))
    return section

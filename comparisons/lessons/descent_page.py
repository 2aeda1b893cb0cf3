"""The ``descent`` lesson's page: the update rule, why the order changes with the axis, the curves, the tables.

Everything here is computed from ``comparisons.lessons.descent.measure``'s numbers, so the page
can be redrawn from ``report.json``.
"""

from __future__ import annotations

from comparisons.report import KERAS, LESSON, Check, Figure, Formula, Section, Table, fmt_err, fmt_num

__all__ = ["render", "order_text", "order_verdict", "draw_curves"]

COLORS = ("C0", "C1", "C2")
NAMES = {"1": "stochastic", "32": "mini-batch", "N": "full batch"}


def _name(label: str) -> str:
    return f"|B| = {label} ({NAMES.get(label, 'mini-batch')})"


def order_text(groups: list[list[str]]) -> str:
    """``[["1"], ["32", "N"]]`` → ``"1, then 32 and N (tied)"``."""
    return ", then ".join(" and ".join(g) + (" (tied)" if len(g) > 1 else "") for g in groups)


def order_verdict(by_epochs: list[list[str]], by_seconds: list[list[str]]) -> str:
    """How the order by seconds (fastest first) relates to the order by epochs, in words: it
    *stays*, it *flips* (every pair that epochs ranked is ranked the other way), or it *changes*."""
    rank_e = {label: i for i, group in enumerate(by_epochs) for label in group}
    rank_s = {label: i for i, group in enumerate(by_seconds) for label in group}
    pairs = [(a, b) for a in rank_e for b in rank_e if rank_e[a] < rank_e[b]]
    if pairs and all(rank_s[a] > rank_s[b] for a, b in pairs):
        return "the order flips"
    if all(rank_s[a] < rank_s[b] for a, b in pairs):
        return "the order stays"
    fastest, slowest = " and ".join(by_seconds[0]), " and ".join(by_seconds[-1])
    return f"the order changes: |B| = {fastest} is fastest, |B| = {slowest} slowest"


def _setup_text(m: dict) -> str:
    rows = f"the first {m['rows']} training rows" if m["quick"] else f"all {m['rows']} training rows"
    runs = "; ".join(f"|B| = {r['label']}: η = {r['learning_rate']:g} ({r['why']}), {r['epochs']} epochs"
                     for r in m["runs"])
    return (f"{m['description']}, {rows}, a {m['features']}-{m['hidden']}-1 relu/sigmoid network, binary "
            "crossentropy, plain SGD without momentum, float64. Each run starts from the same weights and "
            f"makes about {m['updates']} updates: {runs}. refnn's `fit(batch_size=…)` and its Keras twin "
            "(`keras_bridge.to_keras`, fed the same batches by `keras_fit_in_order`) train side by side.")


def _why_text(m: dict) -> str:
    one, full = m["runs"][0], m["runs"][-1]
    per_update = ", ".join(f"{r['refnn']['seconds_per_update'] * 1e6:.0f} µs with |B| = {r['label']}"
                           for r in m["runs"])
    ratio = full["refnn"]["seconds_per_update"] / one["refnn"]["seconds_per_update"]
    verdict = order_verdict(m["order"]["epochs"], m["order"]["seconds_refnn"])
    steps = ", ".join(f"{r['learning_rate'] * r['updates_per_epoch']:.3g} (|B| = {r['label']})" for r in m["runs"])
    heading = {"the order flips": "Why the order flips", "the order stays": "Why the gap narrows"}.get(
        verdict, "Why the order changes")
    return (f"**{heading}.** Per epoch, |B| = 1 makes N = {m['rows']} updates and the full batch one, so against "
            "epochs the small batches learn most from each pass over the data: the steps of an epoch add up to "
            f"η·⌈N/|B|⌉ = {steps}. But an update on one row is a "
            f"tiny matrix product (1×{m['features']} by {m['features']}×{m['hidden']}) whose cost is mostly "
            "per-call overhead — Python and NumPy's dispatch in refnn, launching the compiled step in Keras — "
            "while the full batch's single update is one well-vectorised product over all rows. Measured in "
            f"refnn, one update took {per_update}: {full['batch_size']}× the rows for {ratio:.1f}× the time. "
            "Against seconds what counts is the progress per update times the updates per second. The averaged "
            f"gradient of a larger batch is less noisy, which is what lets it take a larger step (η = "
            f"{full['learning_rate']:g} for the full batch against {one['learning_rate']:g} for one row, both "
            "stable)" + (f" — a better step at {ratio:.1f}× the price of the smallest" if ratio < 3 else
                         f", though at {ratio:.1f}× the price of the smallest") + f"; {_ranking_words(m)}.")


def _ranking_words(m: dict) -> str:
    """What the measured seconds say about the ranking, in words."""
    verdict = order_verdict(m["order"]["epochs"], m["order"]["seconds_refnn"])
    fastest = " and ".join(m["order"]["seconds_refnn"][0])
    if verdict == "the order flips":
        return f"measured, that wins: against seconds |B| = {fastest} is ahead and the order of the epochs flips"
    if verdict == "the order stays":
        return "measured, it narrows the gap but does not change the order"
    return f"measured, it reorders the runs: against seconds |B| = {fastest} is ahead"


def _reach_text(m: dict) -> str:
    target, order = m["target"], m["order"]
    reached = "; ".join(
        f"|B| = {r['label']} needed {r['reach']['epoch']} epochs / {r['reach']['refnn']:.3g} s "
        f"(Keras {r['reach']['keras']:.3g} s)" if r["reach"] else f"|B| = {r['label']} did not reach it"
        for r in m["runs"])
    return (f"**Measured.** To reach loss {target:.3g} (the lowest loss of the slowest-learning run): {reached}. "
            f"By epochs the order (fastest first) is {order_text(order['epochs'])}; by refnn's seconds it is "
            f"{order_text(order['seconds_refnn'])} — {order_verdict(order['epochs'], order['seconds_refnn'])}; "
            f"by Keras's seconds {order_text(order['seconds_keras'])} — "
            f"{order_verdict(order['epochs'], order['seconds_keras'])}.")


def _keras_text(m: dict) -> str:
    full = m["runs"][-1]
    per_update = ", ".join(f"{r['keras']['seconds_per_update'] * 1e3:.2f} ms (|B| = {r['label']})"
                           for r in m["runs"])
    return ("Keras pays more per call on a network this small — per update (epoch time ÷ updates) "
            f"{per_update} — and its first epoch also traces the step into a graph (the full batch's first "
            f"epoch took {full['keras']['first_epoch_seconds']:.2f} s, its median one "
            f"{full['keras']['seconds_per_epoch'] * 1e3:.2f} ms), a fixed cost that shifts the dotted curves right. "
            "The loss drawn is `history[\"loss\"]` on both sides: the mean of the epoch's batch losses, each "
            "taken before its update (for the full batch, the loss at the start of the epoch).")


def draw_curves(m: dict):
    """``draw(fig)`` for the two panels: loss against epochs and against elapsed seconds."""

    def draw(fig) -> None:
        from comparisons.report import style_axes

        by_epoch, by_time = fig.subplots(1, 2)
        for run, color in zip(m["runs"], COLORS):
            marker = "o" if run["epochs"] <= 10 else None  # a few epochs: show where each one ends
            for side, style, who in (("refnn", "-", "refnn"), ("keras", ":", "Keras")):
                loss = run[side]["loss"]
                label = f"{_name(run['label'])}, {who}"
                width = 2.0 if side == "refnn" else 2.6
                by_epoch.plot(range(1, len(loss) + 1), loss, style, color=color, lw=width, marker=marker,
                              label=label)
                by_time.plot(run[side]["seconds"], loss, style, color=color, lw=width, marker=marker)
        by_epoch.axhline(m["target"], color="0.4", lw=0.8, ls="--")
        by_time.axhline(m["target"], color="0.4", lw=0.8, ls="--")
        for ax in (by_epoch, by_time):
            ax.set_xscale("log")
            ax.set_yscale("log")
        style_axes(by_epoch, "loss against epochs", "epoch (log scale)", "training loss (crossentropy)",
                   legend=False)
        style_axes(by_time, "loss against elapsed time", "seconds since the start (log scale)",
                   "training loss (crossentropy)", legend=False)
        from comparisons.report.plots import FONT

        fig.legend(loc="outside lower center", ncol=3, fontsize=FONT["legend"], frameon=False)

    return draw


def _tables(m: dict) -> list[Table]:
    budget = m["budget"]
    rows = [[r["label"], f"{r['learning_rate']:g}", str(r["updates_per_epoch"]), str(r["epochs"]),
             fmt_num(r["refnn"]["seconds_per_epoch"] * 1e3, 3), fmt_num(r["keras"]["seconds_per_epoch"] * 1e3, 3),
             fmt_num(r["refnn"]["loss"][-1]), fmt_num(r["keras"]["loss"][-1]),
             fmt_num(r["loss_at_budget"]["refnn"]), fmt_num(r["loss_at_budget"]["keras"])] for r in m["runs"]]
    agreement = ", ".join(f"|B| = {r['label']}: {fmt_err(r['max_rel'])}" for r in m["runs"])
    main = Table(["|B|", "η", "updates / epoch", "epochs", "ms / epoch refnn", "ms / epoch Keras",
                  "final loss refnn", "final loss Keras", f"loss at {budget['refnn']:.2f} s refnn",
                  f"loss at {budget['keras']:.2f} s Keras"], rows,
                 "Milliseconds per epoch are medians over the epochs. The time budget is each framework's "
                 "shortest run, so every run was still training then; the loss shown is that of the last epoch "
                 f"finished by then. refnn vs Keras, max relative difference of the loss curves: {agreement} "
                 f"(tolerance {m['tolerance']:.0e}).")
    reach = Table(["|B|", "epochs to reach", "seconds refnn", "seconds Keras"],
                  [[r["label"], str(r["reach"]["epoch"]), fmt_num(r["reach"]["refnn"], 3),
                    fmt_num(r["reach"]["keras"], 3)] if r["reach"] else [r["label"], "—", "—", "—"]
                   for r in m["runs"]],
                  f"The first epoch whose training loss is ≤ {m['target']:.4g}, and the seconds elapsed by its end.")
    return [main, reach]


def render(m: dict, title: str) -> Section:
    """The lesson's ``Section`` titled ``title``: formula, explanation, the two-panel figure, the
    tables, the checks."""
    section = Section(key="lesson-descent", title=title, part=LESSON, data=m)
    section.add(
        Formula("W ← W − η · (1/|B|) Σ_{n∈B} ∇E_n(W)\n"
                "|B| = 1: stochastic  ·  |B| = 32: mini-batch  ·  |B| = N: (full) batch gradient descent\n"
                "updates per epoch = ⌈N / |B|⌉"),
        _setup_text(m), _why_text(m), _reach_text(m), _keras_text(m),
        Figure("descent_curves",
               "Training loss of each batch size against epochs (left) and against seconds since the start of "
               "training (right), both axes logarithmic; refnn solid, Keras dotted, one color per batch size; "
               f"the dashed line is the target loss {m['target']:.3g}. On the left the dotted curves lie on the "
               "solid ones: the same numbers; on the right Keras's are shifted by its larger cost per step.",
               draw_curves(m), size=(11.0, 5.0)),
        *_tables(m))
    for r in m["runs"]:
        section.checks.append(Check(
            f"descent: |B| = {r['label']}, SGD η = {r['learning_rate']:g}, {r['epochs']} epochs (loss curve)",
            {"float64": r["max_rel"]}, {"float64": m["tolerance"]},
            note=f"{r['updates']} updates on {m['rows']} rows of {m['dataset']}, the same batches", kind=KERAS))
    return section

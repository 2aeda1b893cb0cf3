"""Study: optimizer trajectories, refnn against Keras, 100 steps, float64 and float32.

Each refnn optimizer and its Keras twin (``keras_bridge.optimizers.optimizer_to_keras``) start
from the same parameters and receive the same 100 gradients (``keras_bridge.compare.
optimizer_steps``'s default problem: a 4×3 kernel at scale 1, its bias at scale 1e-4 — where ε
matters — noise, and sign flips every 3 steps on half of the elements). The error is that of the
worst step.

The configurations cover every Keras-exact rule and option: momentum and Nesterov, the textbook
``ema`` momentum (mapped to Keras's velocity with ``lr·(1 − μ)``), a learning-rate schedule,
decoupled weight decay, clipping, centred RMSprop, AMSGrad. Rprop and Quickprop have no Keras
counterpart: they are compared with the Keras optimizers of ``keras_bridge.plugins`` — refnn
against its own port, listed apart as a consistency check, not an independent one.
"""

from __future__ import annotations

import time

from comparisons.report import KERAS, PORT, Check, Panel, Plot, Progress, Section, Series, Table, fmt_err
from refnn import optimizers as ropt
from refnn.optimizers import schedules
from refnn.utils.tolerance import TOLERANCES, relative_error

__all__ = ["configurations", "run_config", "measure", "render", "run"]

DTYPES = ("float64", "float32")
FLOOR = 1e-18
#: optimizers Keras lacks: compared with refnn's own Keras port (keras_bridge.plugins)
PORTED = ("Rprop", "Quickprop")


def configurations(quick: bool = False) -> dict:
    """``{label: zero-argument factory of a refnn optimizer}``; ``quick`` keeps one per rule."""
    configs = {
        "SGD": lambda: ropt.SGD(0.01),
        "SGD momentum=0.9": lambda: ropt.SGD(0.01, momentum=0.9),
        "SGD nesterov": lambda: ropt.SGD(0.01, momentum=0.9, nesterov=True),
        "SGD momentum_form=ema (→ Keras lr·(1−μ))": lambda: ropt.SGD(0.1, momentum=0.9, momentum_form="ema"),
        "SGD + ExponentialDecay": lambda: ropt.SGD(schedules.ExponentialDecay(0.05, 10, 0.9), momentum=0.9),
        "SGD weight_decay + clipnorm": lambda: ropt.SGD(0.01, momentum=0.9, weight_decay=0.01, clipnorm=1.0),
        "RMSprop": lambda: ropt.RMSprop(0.001),
        "RMSprop momentum, centered": lambda: ropt.RMSprop(0.001, momentum=0.9, centered=True),
        "Adam": lambda: ropt.Adam(0.001),
        "Adam amsgrad, global_clipnorm": lambda: ropt.Adam(0.001, amsgrad=True, global_clipnorm=1.0),
        "AdamW": lambda: ropt.AdamW(0.001),
        "Adagrad": lambda: ropt.Adagrad(0.01),
        "Adadelta": lambda: ropt.Adadelta(1.0),
        "Adamax": lambda: ropt.Adamax(0.002),
        "Nadam": lambda: ropt.Nadam(0.002),
        "Rprop rprop+": lambda: ropt.Rprop("rprop+"),
        "Rprop rprop-": lambda: ropt.Rprop("rprop-"),
        "Rprop irprop+": lambda: ropt.Rprop("irprop+"),
        "Rprop irprop-": lambda: ropt.Rprop("irprop-"),
        "Quickprop": lambda: ropt.Quickprop(0.01),
    }
    if quick:
        keep = ("SGD momentum=0.9", "SGD momentum_form=ema (→ Keras lr·(1−μ))", "RMSprop", "Adam", "Adagrad",
                "Rprop irprop+", "Quickprop")
        configs = {k: configs[k] for k in keep}
    return configs


def _per_step(result) -> list[float]:
    """The worst relative difference over the parameters at each step."""
    steps = len(result.rows[0].keras)
    return [max(relative_error(row.refnn[t], row.keras[t]) for row in result.rows) for t in range(steps)]


def run_config(factory, steps: int = 100, seed: int = 0) -> dict:
    """Compare one optimizer in both dtypes: ``{dtype: {"max", "per_step", "passed"}, "ported"}``
    (``ported``: the Keras side is refnn's own port in ``keras_bridge.plugins``)."""
    from keras_bridge import compare

    out = {"ported": type(factory()).__name__ in PORTED}
    for dtype in DTYPES:
        result = compare.optimizer_steps(factory(), steps=steps, dtype=dtype, seed=seed)
        out[dtype] = {"max": result.max_rel, "per_step": _per_step(result), "passed": result.passed}
    return out


def measure(quick: bool = False, seed: int = 0, progress: Progress | None = None) -> dict:
    """``{label: run_config(...)}`` for every configuration."""
    results = {}
    for label, factory in configurations(quick).items():
        results[label] = run_config(factory, seed=seed)
        if progress:
            progress.step(label)
    return results


def render(section: Section, results: dict) -> None:
    """Two tables — stock Keras optimizers, then refnn's own Keras port — and the error plot."""
    tol = TOLERANCES["optimizer"]
    section.add(
        "Each refnn optimizer and its Keras twin take 100 steps from the same start on the same "
        "gradient sequence (`keras_bridge.compare.optimizer_steps`): a 4×3 kernel with gradients "
        "of order 1 and a bias with gradients of order 1e-4, where ε matters, noise, and sign flips "
        "every 3 steps on half of the elements. The error is that of the worst step, "
        "max|W_refnn − W_keras| / max|W_keras|.",
        "In float64 Keras rounds some constants through float32 (SGD's momentum, Adam's β in βᵗ, "
        "the weight-decay factor, schedules); the refnn side rounds them alike "
        "(`keras_float32_constants=True`), so many trajectories are bit-identical (error 0). "
        "The `ema` momentum form of the textbook has no Keras switch, but it is Keras's velocity "
        "with lr·(1 − μ) at a constant learning rate — the bridge maps it so, and the row proves it.")
    for ported in (False, True):
        chosen = {k: r for k, r in results.items() if r["ported"] == ported}
        if not chosen:
            continue
        rows = [[label, fmt_err(r["float64"]["max"]), fmt_err(r["float32"]["max"]),
                 "pass" if all(r[d]["passed"] for d in DTYPES) else "FAIL"] for label, r in chosen.items()]
        caption = (f"100 steps; tolerances {tol['float64']:.0e} (float64), {tol['float32']:.0e} (float32). "
                   + ("refnn against its own Keras port (keras_bridge.plugins): Keras has no Rprop or "
                      "Quickprop, so this shows the port is faithful — it is not an independent check."
                      if ported else "Against Keras's own optimizers: independent checks."))
        section.add(Table(["optimizer", "max rel. error float64", "float32", "result"], rows, caption))
        for label, r in chosen.items():
            section.checks.append(Check(f"optimizer: {label}", {d: r[d]["max"] for d in DTYPES}, dict(tol),
                                        kind=PORT if ported else KERAS))
    section.add(_errors_plot(results, tol))


def _errors_plot(results: dict, tol: dict) -> Plot:
    labels = list(results)
    panels = [Panel("refnn vs Keras, 100 steps", "", "max relative error",
                    [Series(d, labels, [max(results[k][d]["max"], FLOOR) for k in labels]) for d in DTYPES],
                    yscale="log", kind="bar",
                    hlines=[(tol["float64"], "float64 tolerance"), (tol["float32"], "float32 tolerance")])]
    caption = f"The worst-step relative error of each optimizer; 0 (bit-identical) is drawn at {FLOOR:.0e}."
    inexact = [k for k in labels if results[k]["float32"]["max"] > 0][:6]
    if inexact:
        panels.append(Panel("float32, per step (where not bit-identical)", "step", "relative error",
                            [Series(k, list(range(1, len(results[k]["float32"]["per_step"]) + 1)),
                                    [max(v, FLOOR) for v in results[k]["float32"]["per_step"]])
                             for k in inexact], yscale="log"))
        caption += (" Right: the float32 error step by step where it is not 0 — rounding differences (a "
                    "different but equivalent order of operations) that stay at float32's resolution "
                    "instead of growing.")
    return Plot("optimizers_errors", caption, panels)


def run(quick: bool = False, seed: int = 0, progress: Progress | None = None) -> Section:
    start = time.perf_counter()
    progress = progress or Progress(None)
    progress.start("optimizers", len(configurations(quick)))
    section = Section("optimizers", "Optimizer trajectories: refnn vs Keras, 100 steps")
    results = measure(quick, seed, progress)
    section.data = {label: {"ported": r["ported"], **{d: {"max": r[d]["max"], "passed": r[d]["passed"]}
                                                       for d in DTYPES}} for label, r in results.items()}
    render(section, results)
    progress.finish()
    section.seconds = time.perf_counter() - start
    return section

"""Study: ``fit`` in refnn and in Keras, side by side — loss and val_loss per epoch, final weights.

``keras_bridge.compare.training`` trains a refnn model and its Keras twin from the same weights
on the same batches (refnn draws the shuffle order; Keras's own ``fit`` receives exactly those
batches), then compares ``history`` epoch by epoch and every final weight:

* digits: the ``comparisons.demo`` network (64-64-64-10 relu/softmax), SGD lr 0.01 with momentum
  0.9, categorical crossentropy, accuracy;
* diabetes: 10-32-32-1 relu/linear, Adam lr 0.01, mean squared error on the standardised target.

Batch size 32 with a partial last batch, ``validation_split=0.2`` (the last rows), both dtypes.
Two more runs teach what the numbers mean. (1) Why the bridge reproduces Keras's float32 rounding
of hyper-parameters in float64 (``keras_exact_copy``): the diabetes run against refnn with Adam's exact
β's. (2) What float32 agreement means: with the demo's aggressive settings (SGD lr 0.05,
momentum 0.9, training loss → 0.003) the ~1e-7 rounding differences between NumPy's and
TensorFlow's float32 kernels are amplified epoch after epoch, while float64 stays at ~1e-14.
"""

from __future__ import annotations

import time

import numpy as np

import refnn
from comparisons import datasets
from comparisons.demo import build_model
from comparisons.report import Check, Difference, Heading, Panel, Plot, Progress, Section, Series, Table, fmt_err
from refnn import layers, optimizers
from refnn.utils.tolerance import TOLERANCES, relative_error

__all__ = ["CASES", "build", "run_case", "measure", "render", "run"]

DTYPES = ("float64", "float32")
CASES = {
    "digits": "64-64-64-10 relu/softmax, SGD(0.01, momentum=0.9), categorical crossentropy",
    "diabetes": "10-32-32-1 relu/linear, Adam(0.01), mean squared error",
}
FLOOR = 1e-18


def build(case: str, n_features: int, dtype: str, seed: int = 0) -> refnn.Sequential:
    """The compiled refnn model of a case (``"digits_demo"``: the demo's lr 0.05)."""
    if case in ("digits", "digits_demo"):
        model = build_model(seed, dtype)
        lr = 0.05 if case == "digits_demo" else 0.01
        model.compile(optimizer=optimizers.SGD(lr, momentum=0.9), loss="categorical_crossentropy",
                      metrics=["accuracy"])
    else:
        model = refnn.Sequential([layers.Dense(32, activation="relu"), layers.Dense(32, activation="relu"),
                                  layers.Dense(1)], input_dim=n_features, seed=seed, dtype=dtype)
        model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    return model


def _per_epoch(a, b) -> list[float]:
    """Each epoch's relative difference (``inf`` when the runs have different lengths)."""
    if np.shape(a) != np.shape(b):
        return [float("inf")]
    return [relative_error(u, v) for u, v in zip(a, b)]


def run_case(case: str, epochs: int, seed: int = 0, keras_exact: bool = True, dtypes=DTYPES) -> dict:
    """Train one case in refnn and Keras for each dtype; returns both histories and the errors."""
    from keras_bridge import compare

    out = {}
    for dtype in dtypes:
        data = datasets.load("digits" if case == "digits_demo" else case, dtype, seed)
        model = build(case, data.n_features, dtype, seed)
        result = compare.training(model, data.x_train, data.y_train, epochs=epochs, batch_size=32,
                                  validation_split=0.2, keras_exact=keras_exact)
        weights = [r for r in result.rows if r.layer != "history"]
        out[dtype] = {
            "max": result.max_rel, "passed": result.passed,
            "history_errors": {r.quantity: r.max_rel for r in result.rows if r.layer == "history"},
            "weights_error": max(r.max_rel for r in weights),
            "refnn": result.refnn_history, "keras": result.keras_history,
            "per_epoch": {k: _per_epoch(result.refnn_history[k], result.keras_history.get(k, []))
                          for k in ("loss", "val_loss")},
            "rows": int(data.x_train.shape[0]),
        }
    return out


def measure(quick: bool = False, seed: int = 0, progress: Progress | None = None) -> dict:
    """Both cases (20 epochs, 5 with ``quick``), the diabetes run with Keras's exact β's, and —
    unless ``quick`` — the demo's aggressive settings."""
    epochs = 5 if quick else 20
    out = {"epochs": epochs}
    for case in CASES:
        out[case] = run_case(case, epochs, seed)
        if progress:
            progress.step(case)
    out["diabetes_exact_constants"] = run_case("diabetes", epochs, seed, keras_exact=False, dtypes=("float64",))
    if progress:
        progress.step("exact constants")
    if not quick:
        out["digits_demo"] = run_case("digits_demo", epochs, seed)
        if progress:
            progress.step("demo settings")
    return out


def render(section: Section, measured: dict) -> None:
    """The curves of each case, then the two lessons about what the numbers mean."""
    epochs = measured["epochs"]
    section.add(
        "The same model, initial weights and batches in both frameworks (`keras_bridge.compare."
        "training`): refnn's `fit` draws a permutation per epoch from its seeded generator, Keras's "
        "`fit` is fed exactly those batches. `history[\"loss\"]` is, on both sides, the size-weighted "
        "mean of the per-batch training losses (the partial last batch included); `val_loss` is "
        "computed on the last 20 % of the rows with the end-of-epoch weights. Every epoch's value is "
        "compared with its counterpart, then every final weight.")
    for case, description in CASES.items():
        _render_case(section, case, description, measured[case], epochs)
    _render_exact_constants(section, measured, epochs)
    if "digits_demo" in measured:
        _render_amplification(section, measured["digits_demo"], epochs)


def _render_case(section: Section, case: str, description: str, result: dict, epochs: int) -> None:
    tol = TOLERANCES["training"]
    h = result["float64"]
    rows = [[k, fmt_err(h["history_errors"][k]), fmt_err(result["float32"]["history_errors"][k])]
            for k in h["history_errors"]]
    rows.append(["final weights", fmt_err(h["weights_error"]), fmt_err(result["float32"]["weights_error"])])
    x = list(range(1, epochs + 1))
    section.add(
        Heading(f"{case}: {description}"),
        Table(["quantity (worst epoch)", "max rel. error float64", "float32"], rows,
              f"{h['rows']} rows, 20 % for validation; tolerances {tol['float64']:.0e} (float64), "
              f"{tol['float32']:.0e} (float32). Final float64 loss {h['refnn']['loss'][-1]:.5f}, "
              f"val_loss {h['refnn']['val_loss'][-1]:.5f}."),
        Plot(f"training_{case}", f"{case}: left, the curves (refnn lines, Keras markers, float64) — "
             "indistinguishable; right, their relative difference per epoch.", [
                 Panel(f"{case}: loss per epoch", "epoch", "loss", [
                     Series("refnn loss", x, h["refnn"]["loss"], "C0-"),
                     Series("Keras loss", x, h["keras"]["loss"], "C0o"),
                     Series("refnn val_loss", x, h["refnn"]["val_loss"], "C1-"),
                     Series("Keras val_loss", x, h["keras"]["val_loss"], "C1s")]),
                 Panel("refnn vs Keras, per epoch", "epoch", "relative difference", [
                     Series(f"{k} {d}", list(range(1, len(result[d]["per_epoch"][k]) + 1)),
                            [max(v, FLOOR) for v in result[d]["per_epoch"][k]], "-" if d == "float64" else "--")
                     for d in DTYPES for k in ("loss", "val_loss")], yscale="log",
                       hlines=[(tol["float64"], "float64 tolerance"), (tol["float32"], "float32 tolerance")])]))
    section.checks.append(Check(f"training: {case}, {epochs} epochs (loss, val_loss, final weights)",
                                {d: result[d]["max"] for d in DTYPES}, dict(tol)))


def _render_exact_constants(section: Section, measured: dict, epochs: int) -> None:
    # Keras float64 rounds Adam's β's through float32 inside βᵗ; refnn with the exact β's drifts from it
    exact = measured["diabetes_exact_constants"]["float64"]
    rounded = measured["diabetes"]["float64"]["max"]
    section.add(
        Heading("Keras's float32 constants in float64"),
        "In float64 Keras still rounds some hyper-parameters through float32 — here Adam's β's inside "
        f"the bias corrections βᵗ: 0.999 becomes {float(np.float32(0.999)):.17g}. Compared with refnn "
        "using the exact β's (`compare.training(..., keras_exact=False)`), the diabetes run differs by "
        f"{exact['per_epoch']['loss'][0]:.0e} in the first epoch's loss — far above rounding level — and "
        f"the difference grows with training to {exact['max']:.1e} (final weights "
        f"{exact['weights_error']:.1e}), against {rounded:.0e} when the constants are rounded alike. "
        "The bridge's `keras_exact_copy` rounds the same constants (docs/keras-numerics.md).")
    section.differences.append(Difference(
        "Keras float64 rounds Adam's β through float32 in βᵗ (diabetes fit, exact β in refnn)",
        f"{exact['max']:.1e} relative after {epochs} epochs (vs {rounded:.0e} when rounded alike)",
        exact["max"]))


def _render_amplification(section: Section, demo: dict, epochs: int) -> None:
    growth = demo["float32"]["per_epoch"]["loss"]
    section.add(
        Heading("What float32 agreement means: an aggressive run"),
        "TensorFlow's float32 `exp`, `tanh` and `sigmoid` are not NumPy's (they differ in the last "
        "bit for ~45 % of inputs), so float32 runs agree to ~1e-7 per operation, not bit for bit. "
        f"In a well-conditioned run that stays there (above: ~1e-6 after {epochs} epochs). With the "
        "demo's settings — SGD lr 0.05, momentum 0.9, training loss driven to "
        f"{demo['float64']['refnn']['loss'][-1]:.4f} — each step amplifies the last step's difference: "
        f"the float32 curves drift apart to {demo['float32']['max']:.1e} (loss: {growth[0]:.0e} at epoch 1, "
        f"{growth[len(growth) // 2]:.0e} at epoch {len(growth) // 2 + 1}, {growth[-1]:.0e} at epoch "
        f"{len(growth)}), while float64 stays at {demo['float64']['max']:.0e}. This is why the tight "
        "contracts are stated in float64.",
        Plot("training_amplification", "Relative difference refnn vs Keras per epoch, digits with "
             "the demo's SGD lr 0.05 + momentum 0.9: float32 rounding differences grow, float64 "
             "ones stay at rounding level.", [
                 Panel("demo settings: refnn vs Keras", "epoch", "relative difference of the loss", [
                     Series(d, list(range(1, len(demo[d]["per_epoch"]["loss"]) + 1)),
                            [max(v, FLOOR) for v in demo[d]["per_epoch"]["loss"]], "o-")
                     for d in DTYPES], yscale="log")]))
    section.differences.append(Difference(
        "float32 is not bit-exact with TensorFlow: demo settings (SGD 0.05, μ 0.9), digits",
        f"rounding differences grow to {demo['float32']['max']:.1e} in {epochs} epochs "
        f"(float64: {demo['float64']['max']:.0e})", demo["float32"]["max"]))


def run(quick: bool = False, seed: int = 0, progress: Progress | None = None) -> Section:
    """Both cases, 20 epochs (5 with ``quick``)."""
    start = time.perf_counter()
    progress = progress or Progress(None)
    progress.start("training", len(CASES) + (1 if quick else 2))
    measured = measure(quick, seed, progress)
    section = Section("training", f"Training curves: refnn fit vs Keras fit, {measured['epochs']} epochs")
    section.data = _summary_data(measured)
    render(section, measured)
    progress.finish()
    section.seconds = time.perf_counter() - start
    return section


def _summary_data(measured: dict) -> dict:
    """What ``report.json`` keeps: both cases' numbers (without the per-epoch series), the exact
    constants run and the demo's growth."""
    data = {case: {d: {k: v for k, v in r.items() if k != "per_epoch"} for d, r in measured[case].items()}
            for case in CASES}
    exact = measured["diabetes_exact_constants"]["float64"]
    data["diabetes_exact_constants"] = {"max": exact["max"], "weights_error": exact["weights_error"],
                                        "first_epoch_loss": exact["per_epoch"]["loss"][0]}
    if "digits_demo" in measured:
        data["digits_demo"] = {
            d: {"max": r["max"], "loss": r["refnn"]["loss"][-1], "per_epoch_loss": r["per_epoch"]["loss"]}
            for d, r in measured["digits_demo"].items()}
    return data

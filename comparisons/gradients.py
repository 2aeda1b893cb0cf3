"""Study: per-layer gradients, refnn against Keras, float64 and float32, on real data.

For each network below, refnn's backpropagation (``model.loss_and_gradients``) and TensorFlow's
``GradientTape`` over the Keras twin (``keras_bridge.compare.gradients``) differentiate the same
loss at the same weights; every ``∂E/∂kernel``, ``∂E/∂bias`` and ``∂E/∂X`` is compared, from the
output layer down. The refnn gradients are also checked against central finite differences in
float64 (refnn alone, ``refnn.utils.gradcheck``): the *three-way* check — analytic, numeric,
reference framework.

========== ============================== =============================================
data       network                        loss
========== ============================== =============================================
digits     64-64-64-10 relu, softmax      categorical crossentropy (``comparisons.demo``)
breast     30-16-1 tanh, sigmoid, L2      binary crossentropy
iris       4-8-3 sigmoid, softmax         sparse categorical crossentropy (integer labels)
diabetes   10-32-1 relu, linear           mean squared error
========== ============================== =============================================
"""

from __future__ import annotations

import time

import numpy as np

import refnn
from comparisons import datasets
from comparisons.demo import build_model
from comparisons.report import SELF, Check, Heading, Panel, Plot, Progress, Section, Series, Table, fmt_err
from refnn import layers, optimizers, regularizers
from refnn.utils.gradcheck import check_model_gradients
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL, TOLERANCES

__all__ = ["CASES", "run_case", "measure", "render", "run"]

#: name → (data set, short description)
CASES = {
    "digits": ("digits", "64-64-64-10 relu/softmax, categorical crossentropy"),
    "breast_cancer": ("breast_cancer", "30-16-1 tanh/sigmoid, L2(1e-3) on the kernels, binary crossentropy"),
    "iris": ("iris", "4-8-3 sigmoid/softmax, sparse categorical crossentropy"),
    "diabetes": ("diabetes", "10-32-1 relu/linear, mean squared error"),
}
DTYPES = ("float64", "float32")
FLOOR = 1e-18  # where a bit-identical (0) error is drawn on a log axis


def _model(case: str, n_features: int, dtype: str, seed: int) -> refnn.Sequential:
    if case == "digits":
        model = build_model(seed, dtype)
        loss = "categorical_crossentropy"
    elif case == "breast_cancer":
        l2 = regularizers.L2(1e-3)
        model = refnn.Sequential([layers.Dense(16, activation="tanh", kernel_regularizer=l2),
                                  layers.Dense(1, activation="sigmoid", kernel_regularizer=l2)],
                                 input_dim=n_features, seed=seed, dtype=dtype)
        loss = "binary_crossentropy"
    elif case == "iris":
        model = refnn.Sequential([layers.Dense(8, activation="sigmoid"), layers.Dense(3, activation="softmax")],
                                 input_dim=n_features, seed=seed, dtype=dtype)
        loss = "sparse_categorical_crossentropy"
    else:
        model = refnn.Sequential([layers.Dense(32, activation="relu"), layers.Dense(1)],
                                 input_dim=n_features, seed=seed, dtype=dtype)
        loss = "mse"
    model.compile(optimizer=optimizers.SGD(0.01), loss=loss)
    return model


def _targets(case: str, y: np.ndarray) -> np.ndarray:
    return y.argmax(axis=1) if case == "iris" else y


def run_case(case: str, seed: int = 0, finite_rows: int = 16, progress: Progress | None = None) -> dict:
    """Compare one network's gradients in both dtypes; returns the numbers.

    Args:
        case: a key of ``CASES``.
        seed: weights and data split.
        finite_rows: rows for the finite-difference check (0: skip it).

    Returns:
        ``{"rows": [(layer, quantity, shape)], "float64": [errors], "float32": [errors],
        "finite_differences": {path: error}, "n": rows compared, "loss": {dtype: value}}``.
    """
    from keras_bridge import compare

    data_name, _ = CASES[case]
    out = {"rows": None, "finite_differences": {}, "loss": {}}
    for dtype in DTYPES:
        data = datasets.load(data_name, dtype, seed)
        model = _model(case, data.n_features, dtype, seed)
        y = _targets(case, data.y_train)
        result = compare.gradients(model, data.x_train, y)
        out["rows"] = [(r.layer, r.quantity, list(np.shape(r.keras))) for r in result.rows]
        out[dtype] = [r.max_rel for r in result.rows]
        out["loss"][dtype] = float(result.rows[0].keras)
        out["n"] = int(data.x_train.shape[0])
        if progress:
            progress.step(f"{case} {dtype}")
    if finite_rows:
        data = datasets.load(data_name, "float64", seed)
        model = _model(case, data.n_features, "float64", seed)
        out["finite_differences"] = check_model_gradients(
            model, data.x_train[:finite_rows], _targets(case, data.y_train[:finite_rows]))
    return out


def measure(quick: bool = False, seed: int = 0, progress: Progress | None = None) -> dict:
    """``{case: run_case(...)}``; ``quick`` skips the finite-difference check of the digits network
    (9 610 parameters, two loss evaluations each)."""
    return {case: run_case(case, seed, finite_rows=0 if (quick and case == "digits") else 16, progress=progress)
            for case in CASES}


def render(section: Section, results: dict) -> None:
    """Per network: a table of every gradient's errors, its checks, and (digits) the error plot."""
    tol = TOLERANCES["gradients"]
    section.add(
        "The same network, weights and batch in refnn and in Keras (its twin built by "
        "`keras_bridge.to_keras`). refnn backpropagates by hand; TensorFlow's `GradientTape` "
        "differentiates Keras's `compute_loss` — the loss `fit` differentiates, computed from the "
        "logits for a softmax/sigmoid output. The error of a tensor is "
        "max|refnn − keras| / max|keras|; the rows run from the output layer down, so a bug shows "
        "up at the first layer it reaches.",
        "The refnn side is `keras_exact_copy(model)`: in float64 Keras rounds the L2 factor through "
        "float32, and so does this copy. float64 agrees to rounding (~1e-16); float32 to ~1e-7, "
        "because TensorFlow's float32 `exp`/`tanh`/`sigmoid` are not NumPy's (docs/keras-numerics.md).",
    )
    for case, result in results.items():
        data_name, description = CASES[case]
        section.add(Heading(f"{data_name}: {description}"), _table(result, tol))
        section.checks.append(Check(f"gradients: {data_name} {description.split(',')[0]}",
                                    {d: max(result[d]) for d in DTYPES}, dict(tol)))
        fd = result["finite_differences"]
        if fd:
            section.checks.append(Check(f"gradients: {data_name}, refnn backprop vs finite differences",
                                        {"float64": max(fd.values())}, {"float64": FINITE_DIFFERENCE_RTOL},
                                        kind=SELF))
    digits = results["digits"]
    labels = [f"{layer}/{q}" for layer, q, _ in digits["rows"]]
    section.add(Plot("gradients_digits", "Max relative error per gradient, digits MLP, refnn vs "
                     f"Keras. Bit-identical tensors (error 0) are drawn at {FLOOR:.0e}.",
                     [Panel("digits MLP: refnn vs Keras", "", "max relative error",
                            [Series(d, labels, [max(e, FLOOR) for e in digits[d]]) for d in DTYPES],
                            yscale="log", kind="bar",
                            hlines=[(tol["float64"], "float64 tolerance"), (tol["float32"], "float32 tolerance")])]))


def _table(result: dict, tol: dict) -> Table:
    fd = result["finite_differences"]
    rows = []
    for (layer, quantity, shape), e64, e32 in zip(result["rows"], result["float64"], result["float32"]):
        rows.append([layer, quantity, "×".join(map(str, shape)) or "scalar", fmt_err(e64), fmt_err(e32),
                     fmt_err(fd.get(f"{layer}/{quantity}")) if quantity != "loss" else "—"])
    return Table(["layer", "quantity", "shape", "refnn vs keras float64", "float32",
                  "refnn vs finite differences (float64)"], rows,
                 f"{result['n']} training rows; loss {result['loss']['float64']:.6f}. "
                 f"Tolerances: {tol['float64']:.0e} (float64), {tol['float32']:.0e} (float32); "
                 f"finite differences {FINITE_DIFFERENCE_RTOL:.0e}.")


def run(quick: bool = False, seed: int = 0, progress: Progress | None = None) -> Section:
    start = time.perf_counter()
    progress = progress or Progress(None)
    progress.start("gradients", 2 * len(CASES))
    section = Section("gradients", "Per-layer gradients: refnn vs Keras")
    section.data = measure(quick, seed, progress)
    render(section, section.data)
    progress.finish()
    section.seconds = time.perf_counter() - start
    return section

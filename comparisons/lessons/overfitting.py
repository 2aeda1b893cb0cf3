"""Overfitting and its cures: a large network on a small training set, then L2, L1, dropout,
early stopping and a smaller network — in refnn and in Keras on the same batches.

Data: scikit-learn's digits (8×8 images, pixels / 16, 10 classes), the first ``train_rows`` rows of
the training split to train on and the first ``validation_rows`` rows of the test split to
validate on. Network: 64-256-256-10 ReLU/softmax, Adam (η = 5·10⁻³), batches of 50, float64.
With 150 training rows the plain network drives its training crossentropy to ~10⁻³ while its
validation crossentropy passes a minimum and rises: it overfits.

What is minimised, textbook and Keras side by side::

    E = (1/N) Σₙ Lₙ + λ Σ w²      L2: Keras's L2(λ) has no ½ (textbook weight decay (λ/2)‖w‖² is L2(λ/2))
    E = (1/N) Σₙ Lₙ + λ Σ |w|     L1
    y = m ⊙ x / (1 − p),  mᵢ ~ Bernoulli(1 − p)   dropout in training; y = x in inference

The penalty sums over every kernel (not the biases) and is part of ``loss`` and ``val_loss``, in
refnn as in Keras; ``metrics=["accuracy", "categorical_crossentropy"]`` adds the crossentropy of
the predictions alone (``categorical_crossentropy``/``val_categorical_crossentropy``), which is
what says how well a regularised model fits the data.

Runs: plain; L2 at three strengths; L1; early stopping (``EarlyStopping(monitor="val_loss",
patience, restore_best_weights=True)``); a smaller network (64-32-10) — each through
``keras_bridge.compare.training`` (refnn and its Keras twin from the same weights on the same
batches; one check per run, ``TOLERANCES["training"]["float64"]``); where early stopping stopped
is read from each framework's own callback (refnn's ``EarlyStopping`` and Keras's, kept by the
comparison in ``keras_callbacks``). Dropout (two rates) draws its masks from each framework's own
generator (NumPy's PCG64, TensorFlow's Philox), so its curves can only agree in distribution: each
side trains from the same initial weights on the same batches with n mask seeds, and the means of
m = 3 final numbers are compared by Welch's t test (one ``STATS`` check per rate)::

    SE = √(s²_r/n_r + s²_k/n_k)                                   the standard error of mean_r − mean_k
    ν  = SE⁴ / ((s²_r/n_r)²/(n_r − 1) + (s²_k/n_k)²/(n_k − 1))    Welch–Satterthwaite degrees of freedom
    t* = the 1 − α/(2m) quantile of Student's t with ν d.o.f.     α = 0.01 two-sided, Bonferroni over m
    ratio = |mean_r − mean_k| / (t*·SE)                           agreement ⇔ ratio ≤ 1
"""

from __future__ import annotations

import numpy as np

import refnn
from comparisons import datasets
from comparisons.lessons.overfitting_page import TITLE, render
from refnn import callbacks, layers, optimizers, regularizers
from refnn.utils.validation import check_non_negative_int

__all__ = ["TITLE", "SIZES", "WIDTH", "SMALL_WIDTH", "LEARNING_RATE", "BATCH", "METRICS", "SIGNIFICANCE",
           "FINALS", "build_model", "run_specs", "welch", "measure", "section"]

WIDTH, SMALL_WIDTH = 256, 32
LEARNING_RATE, BATCH = 5e-3, 50
METRICS = ["accuracy", "categorical_crossentropy"]
#: dropout: the two-sided level of Welch's t test of one rate, shared by its quantities (Bonferroni)
SIGNIFICANCE = 0.01
#: dropout: the final numbers whose means are compared
FINALS = ("categorical_crossentropy", "val_categorical_crossentropy", "val_accuracy")
#: quick → the size of the lesson
SIZES = {
    False: {"train_rows": 150, "validation_rows": 300, "epochs": 30, "patience": 5, "dropout_seeds": 10,
            "l2": (1e-4, 1e-3, 1e-2), "l1": (1e-4,), "dropout_rates": (0.2, 0.5)},
    True: {"train_rows": 100, "validation_rows": 150, "epochs": 16, "patience": 3, "dropout_seeds": 3,
           "l2": (1e-3,), "l1": (), "dropout_rates": (0.5,)},
}
#: the history keys of every run, training then validation
KEYS = ("loss", "accuracy", "categorical_crossentropy",
        "val_loss", "val_accuracy", "val_categorical_crossentropy")


def build_model(seed: int, width: int = WIDTH, hidden_layers: int = 2, regularizer=None,
                dropout: float = 0.0, mask_seeds=()) -> refnn.Sequential:
    """64-``width``×``hidden_layers``-10 ReLU/softmax, compiled with Adam and the data-only
    crossentropy metric. ``regularizer`` goes on every kernel; ``dropout > 0`` puts a
    ``Dropout(dropout, seed=mask_seeds[i])`` after hidden layer i (a seed of its own per layer:
    two layers with one seed would draw the same masks)."""
    stack = []
    for i in range(hidden_layers):
        stack.append(layers.Dense(width, activation="relu", kernel_regularizer=regularizer))
        if dropout:
            stack.append(layers.Dropout(dropout, seed=int(mask_seeds[i])))
    stack.append(layers.Dense(10, activation="softmax", kernel_regularizer=regularizer))
    model = refnn.Sequential(stack, input_dim=64, seed=seed, dtype="float64")
    model.compile(optimizers.Adam(LEARNING_RATE), "categorical_crossentropy", metrics=list(METRICS))
    return model


def _strength(value: float) -> str:
    return f"{value:.0e}".replace("e-0", "e-")


def run_specs(size: dict) -> list[dict]:
    """The runs compared number for number with Keras: name, what it changes, model options."""
    specs = [{"name": "plain", "what": f"64-{WIDTH}-{WIDTH}-10, no regularisation", "options": {}}]
    for strength in size["l2"]:
        specs.append({"name": f"L2 λ={_strength(strength)}", "what": f"L2({strength:g}) on every kernel",
                      "options": {"regularizer": regularizers.L2(strength)}, "penalty": "l2", "strength": strength})
    for strength in size["l1"]:
        specs.append({"name": f"L1 λ={_strength(strength)}", "what": f"L1({strength:g}) on every kernel",
                      "options": {"regularizer": regularizers.L1(strength)}, "penalty": "l1", "strength": strength})
    specs.append({"name": "early stopping", "what": f"plain, EarlyStopping(val_loss, patience={size['patience']}, "
                  "restore_best_weights=True)", "options": {}, "early_stopping": size["patience"]})
    specs.append({"name": "smaller network", "what": f"64-{SMALL_WIDTH}-10, no regularisation",
                  "options": {"width": SMALL_WIDTH, "hidden_layers": 1}})
    return specs


def _data(size: dict, seed: int):
    digits = datasets.load("digits", "float64", seed)
    n, v = size["train_rows"], size["validation_rows"]
    return digits.x_train[:n], digits.y_train[:n], digits.x_test[:v], digits.y_test[:v]


def _early_stopping(patience: int) -> callbacks.EarlyStopping:
    return callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def _stop_epochs(stopper, epochs_run: int) -> dict:
    """1-based epochs as ``fit`` prints them, read from an ``EarlyStopping`` after its ``fit``
    (refnn's and Keras's have the same attributes): the best epoch, the epoch training stopped at
    (``None``: it never fired, ``stopped_epoch == 0``) and the epoch whose weights were restored."""
    restored = stopper.restore_best_weights and stopper.best_weights is not None
    return {"best": int(stopper.best_epoch) + 1,
            "stopped": int(stopper.stopped_epoch) + 1 if stopper.stopped_epoch > 0 else None,
            "restored": int(stopper.best_epoch) + 1 if restored else None, "epochs_run": int(epochs_run)}


def _early_stopping_epochs(spec: dict, data, size: dict, seed: int, result) -> dict:
    """Where each side stopped, from its own callback: Keras's ``EarlyStopping`` that Keras's
    ``fit`` ran (``result.keras_callbacks``), and refnn's in refnn's ``fit`` of the comparison's
    refnn side (the ``keras_exact_copy``; its curve must be the comparison's, number for number)."""
    from keras_bridge import keras_exact_copy

    x, y, x_val, y_val = data
    stopper = _early_stopping(spec["early_stopping"])
    history = keras_exact_copy(build_model(seed, **spec["options"])).fit(
        x, y, epochs=size["epochs"], batch_size=BATCH, validation_data=(x_val, y_val), shuffle=True,
        callbacks=[stopper], verbose=0).history
    (theirs,) = result.keras_callbacks
    return {"refnn": _stop_epochs(stopper, len(history["val_loss"])),
            "keras": _stop_epochs(theirs, result.keras_epochs), "patience": spec["early_stopping"],
            "same_as_comparison": [float(v) for v in history["val_loss"]] == result.refnn_history["val_loss"]}


def _compared_run(spec: dict, data, size: dict, seed: int) -> dict:
    """One run through ``compare.training``: both histories, the worst relative difference."""
    from keras_bridge import compare

    x, y, x_val, y_val = data
    model = build_model(seed, **spec["options"])
    stoppers = [_early_stopping(spec["early_stopping"])] if "early_stopping" in spec else None
    result = compare.training(model, x, y, epochs=size["epochs"], batch_size=BATCH,
                              validation_data=(x_val, y_val), shuffle=True, callbacks=stoppers)
    out = {
        "name": spec["name"], "what": spec["what"], "penalty": spec.get("penalty"),
        "strength": spec.get("strength"), "parameters": int(model.count_params()),
        "refnn": {k: [float(v) for v in result.refnn_history[k]] for k in KEYS},
        "keras": {k: [float(v) for v in result.keras_history[k]] for k in KEYS},
        "max_rel": float(result.max_rel), "passed": bool(result.passed),
        "history_errors": {r.quantity: float(r.max_rel) for r in result.rows if r.layer == "history"},
        "weights_error": max(float(r.max_rel) for r in result.rows if r.layer != "history"),
    }
    if stoppers:
        out["early_stopping"] = _early_stopping_epochs(spec, data, size, seed, result)
    return out


def _keras_validation_recorder(x_val, y_val):
    """A Keras callback that records, at each epoch's end, Keras's own data-only crossentropy and
    accuracy of the model on the validation rows (inference mode). Keras's ``fit`` validation
    loop gives the same numbers (up to rounding) at ~15 times the cost per epoch (measured: ~90 ms
    against ~6 ms on 2 cores), which over the dropout seeds would be most of the lesson's time."""
    import keras

    class ValidationRecorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.curves = {"val_categorical_crossentropy": [], "val_accuracy": []}

        def on_epoch_end(self, epoch, logs=None):
            p = self.model(x_val, training=False)
            crossentropy = keras.losses.categorical_crossentropy(y_val, p)
            accuracy = keras.metrics.categorical_accuracy(y_val, p)
            self.curves["val_categorical_crossentropy"].append(float(keras.ops.mean(crossentropy)))
            self.curves["val_accuracy"].append(float(keras.ops.mean(accuracy)))

    return ValidationRecorder()


def _snapshot(twin) -> dict:
    """The Keras twin's weights and optimizer variables before training (its optimizer is built by
    ``to_keras``), to start every mask seed from the same state."""
    return {"weights": [v.numpy() for v in twin.weights],
            "optimizer": [v.numpy() for v in twin.optimizer.variables]}


def _restart(twin, snapshot: dict, mask_seeds) -> None:
    """Put the twin back at its snapshot and seed its Dropout layers as ``Dropout(rate, seed=s)``
    would be (a ``SeedGenerator`` starts at ``[s, 0]``). One twin serves every seed: its traced
    training function is kept (a fresh twin costs a trace per seed), and a restarted twin trains
    bit for bit as a fresh one (``tests/keras/test_lesson_overfitting.py``)."""
    import keras

    for variable, value in zip(twin.weights, snapshot["weights"]):
        variable.assign(value)
    for variable, value in zip(twin.optimizer.variables, snapshot["optimizer"]):
        variable.assign(value)
    dropouts = [layer for layer in twin.layers if isinstance(layer, keras.layers.Dropout)]
    for layer, mask_seed in zip(dropouts, mask_seeds, strict=True):
        layer.seed_generator.state.assign(np.array([mask_seed, 0], dtype=layer.seed_generator.state.dtype))


def _dropout_seed(rate: float, mask_seeds, data, size: dict, seed: int, twin, snapshot) -> tuple[dict, dict]:
    """One pair of mask seeds: refnn's ``fit`` and Keras's ``fit`` of the twin (its Dropout layers
    seeded alike, for TensorFlow's generator), from the same weights on the same batches."""
    from keras_bridge import keras_exact_copy
    from keras_bridge.compare import keras_fit_in_order

    x, y, x_val, y_val = data
    # Adam's constants rounded as Keras rounds them: the two sides differ by their masks alone
    model = keras_exact_copy(build_model(seed, dropout=rate, mask_seeds=mask_seeds))
    orders = model.next_shuffle_orders(x.shape[0], size["epochs"])
    mine = model.fit(x, y, epochs=size["epochs"], batch_size=BATCH, validation_data=(x_val, y_val),
                     shuffle=True, verbose=0).history
    _restart(twin, snapshot, mask_seeds)
    recorder = _keras_validation_recorder(x_val, y_val)
    theirs = keras_fit_in_order(twin, x, y, orders, BATCH, callbacks=[recorder]).history
    theirs = {**{k: list(map(float, v)) for k, v in theirs.items()}, **recorder.curves}
    return {k: [float(v) for v in mine[k]] for k in KEYS}, {k: theirs[k] for k in KEYS if k != "val_loss"}


def welch(mine, theirs, level: float = SIGNIFICANCE, quantities: int = len(FINALS)) -> dict:
    """Welch's t test of the difference of two means, two-sided at ``level`` shared (Bonferroni)
    by ``quantities`` tests (see the module docstring): the means and spreads, SE, ν, t* and
    ``ratio = |mean_r − mean_k| / (t*·SE)`` (≤ 1: agreement). With no spread on either side,
    ν and t* are undefined (``None``) and the ratio is 0 for equal means, ∞ otherwise."""
    from scipy import stats

    a, b = np.asarray(mine, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    var_a, var_b = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se, difference = float(np.sqrt(var_a + var_b)), float(a.mean() - b.mean())
    df = critical = None
    if se > 0:
        df = float((var_a + var_b) ** 2 / (var_a ** 2 / (a.size - 1) + var_b ** 2 / (b.size - 1)))
        critical = float(stats.t.ppf(1.0 - level / (2 * quantities), df))
        ratio = abs(difference) / (critical * se)
    else:
        ratio = 0.0 if difference == 0 else float("inf")
    return {"refnn_mean": float(a.mean()), "refnn_std": float(a.std(ddof=1)),
            "keras_mean": float(b.mean()), "keras_std": float(b.std(ddof=1)),
            "difference": difference, "standard_error": se, "df": df, "critical_t": critical, "ratio": float(ratio)}


def _dropout_run(rate: float, data, size: dict, seed: int) -> dict:
    """``dropout_seeds`` mask seeds on each side; the per-seed curves and the agreement of the
    final training and validation crossentropies and the final validation accuracy."""
    from keras_bridge import to_keras

    seeds = [[1000 * seed + 2 * k + 1, 1000 * seed + 2 * k + 2] for k in range(size["dropout_seeds"])]
    twin = to_keras(build_model(seed, dropout=rate, mask_seeds=seeds[0]))
    snapshot = _snapshot(twin)
    runs = [_dropout_seed(rate, s, data, size, seed, twin, snapshot) for s in seeds]
    curves = {side: {k: [run[i][k] for run in runs] for k in runs[0][i]} for i, side in enumerate(("refnn", "keras"))}
    agreement = {k: welch([c[-1] for c in curves["refnn"][k]], [c[-1] for c in curves["keras"][k]],
                          SIGNIFICANCE, len(FINALS)) for k in FINALS}
    worst = max(agreement, key=lambda k: agreement[k]["ratio"])
    return {"name": f"dropout p={rate:g}", "rate": rate, "mask_seeds": seeds, "curves": curves,
            "agreement": agreement, "statistics": {"level": SIGNIFICANCE, "quantities": len(FINALS),
                                                   "worst": worst, "ratio": agreement[worst]["ratio"]}}


def measure(quick: bool = False, seed: int = 0) -> dict:
    """Every run of the lesson (see the module docstring); ``quick``: 100 training rows, 16 epochs,
    one L2 strength and no L1, one dropout rate over 3 seeds.

    Raises:
        ValueError: ``seed`` is not a non-negative integer.
    """
    seed = check_non_negative_int("seed", seed)
    size = SIZES[bool(quick)]
    data = _data(size, seed)
    return {
        "size": {k: list(v) if isinstance(v, tuple) else v for k, v in size.items()},
        "seed": seed, "width": WIDTH, "small_width": SMALL_WIDTH, "learning_rate": LEARNING_RATE,
        "batch_size": BATCH,
        "runs": [_compared_run(spec, data, size, seed) for spec in run_specs(size)],
        "dropout": [_dropout_run(rate, data, size, seed) for rate in size["dropout_rates"]],
    }


def section(measured: dict):
    """The lesson's ``Section`` (``comparisons.lessons.overfitting_page``)."""
    return render(measured)

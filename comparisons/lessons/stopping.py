"""When does training stop? The same network stopped by epochs, by time, by validation, by a goal.

One data set and one network (iris, 4-64-64-3 relu/softmax, plain SGD η = 0.3, batches of 16,
the last 25 % of the training rows for validation), trained until

1. a fixed number of epochs has run (``fit(epochs=E)``; Keras the same);
2. ``refnn.callbacks.TimeLimit(seconds=T)`` says the time is spent — Keras has no such callback:
   its side is *our emulation*, a ``keras.callbacks.Callback`` that stops when
   ``elapsed ≥ T`` at an epoch's end;
3. ``EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)``: refnn's, and
   Keras's own through ``keras_bridge.compare.training`` (the bridge turns refnn's callback into
   ``keras.callbacks.EarlyStopping``, kept in ``TrainingComparison.keras_callbacks``); both must
   stop at the same epoch and keep the same weights, each read from its own callback;
4. ``refnn.callbacks.Goal(0.05, monitor="loss")`` — MATLAB's ``trainParam.goal``; Keras has none
   either, its side is again our emulation (stop when ``loss ≤ goal``);
5. Levenberg–Marquardt's own stops, refnn alone, on Hagan & Menhaj's sine (1-4-1 tanh, full batch):
   ``‖Jᵀe‖₂ < min_grad`` ("minimum gradient") and, with ``min_grad = 0``, ``μ > mu_max``
   ("maximum mu").

Every Keras side is fed refnn's shuffle order, so the curves agree epoch by epoch in float64
(``TOLERANCES["training"]``); only *where* each side stops can differ, and only for the clock.
"""

from __future__ import annotations

import time

import numpy as np

import refnn
from comparisons import datasets
from comparisons.history_plot import best_epoch
from refnn import callbacks, layers, optimizers
from refnn.utils.data import split_validation
from refnn.utils.tolerance import relative_error
from refnn.utils.validation import check_non_negative_int

__all__ = ["TITLE", "DATASET", "SIZES", "PATIENCE", "GOAL", "build_model", "measure", "section",
           "early_stopping_best"]

TITLE = "Stopping: epochs, elapsed time, validation, a goal"
DATASET = "iris"
HIDDEN, LEARNING_RATE, BATCH, VALIDATION_SPLIT = 64, 0.3, 16, 0.25
PATIENCE, GOAL = 5, 0.05
#: quick → (epochs of the fixed, early-stopping and goal runs, seconds of the time limit)
SIZES = {False: (80, 1.0), True: (30, 0.5)}
#: the time-limited runs' epoch cap: far more than either side can run in the limit
TIME_RUN_EPOCHS = 100_000
LM_HIDDEN, LM_EPOCHS = 4, 1000


def build_model(n_features: int, n_outputs: int, seed: int) -> refnn.Sequential:
    """``n_features``-64-64-``n_outputs`` relu/softmax, plain SGD (no constants Keras would round
    through float32, so refnn's own ``fit`` is exactly the comparison's refnn side), float64."""
    model = refnn.Sequential([layers.Dense(HIDDEN, activation="relu"), layers.Dense(HIDDEN, activation="relu"),
                              layers.Dense(n_outputs, activation="softmax")],
                             input_dim=n_features, seed=seed, dtype="float64")
    model.compile(optimizer=optimizers.SGD(LEARNING_RATE), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def early_stopping_best(values, min_delta: float = 0.0) -> int:
    """The epoch ``EarlyStopping`` keeps: the last strict improvement, ``v_e + min_delta < best``,
    compared in float32 as Keras does (``keras.ops.less`` on Python floats)."""
    best, best_at = None, 0
    for epoch, value in enumerate(values):
        if best is None or np.float32(value + min_delta) < np.float32(best):
            best, best_at = value, epoch
    return best_at


def _refnn_run(history, restored_epoch=None, elapsed=None) -> dict:
    """What the lesson shows of one refnn ``fit``."""
    curves = history.history
    kept = len(curves["loss"]) - 1 if restored_epoch is None else restored_epoch
    return {"loss": list(map(float, curves["loss"])), "val_loss": list(map(float, curves["val_loss"])),
            "epochs_run": len(curves["loss"]), "stop_reason": history.stop_reason,
            "best_epoch": best_epoch(history), "restored_epoch": restored_epoch, "kept_epoch": kept,
            "seconds": float(history.record["seconds"][-1]), "elapsed_at_stop": elapsed,
            "epoch_seconds": list(map(float, history.record["seconds"]))}


def _keras_run(curves: dict, stop_reason: str, restored_epoch=None, epoch_seconds=None) -> dict:
    loss, val_loss = list(map(float, curves["loss"])), list(map(float, curves["val_loss"]))
    kept = len(loss) - 1 if restored_epoch is None else restored_epoch
    return {"loss": loss, "val_loss": val_loss, "epochs_run": len(loss), "stop_reason": stop_reason,
            "best_epoch": int(np.argmin(val_loss)), "restored_epoch": restored_epoch, "kept_epoch": kept,
            "seconds": epoch_seconds[-1] if epoch_seconds else None, "elapsed_at_stop": None,
            "epoch_seconds": epoch_seconds}


def _curve_error(mine: dict, theirs: dict) -> float:
    """Worst relative difference of loss and val_loss over the epochs both sides ran."""
    n = min(mine["epochs_run"], theirs["epochs_run"])
    return max(relative_error(np.asarray(mine[k][:n]), np.asarray(theirs[k][:n])) for k in ("loss", "val_loss"))


def _keras_stopper(should_stop):
    """Our emulation of a stopping rule Keras lacks: a ``keras.callbacks.Callback`` that sets
    ``model.stop_training`` when ``should_stop(logs, elapsed)`` at an epoch's end, timing each
    epoch from ``on_train_begin`` like refnn's ``TimeLimit``."""
    import keras

    class StopWhen(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start, self.seconds, self.stopped = time.monotonic(), [], False

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.monotonic() - self.start)
            if should_stop(logs or {}, self.seconds[-1]):
                self.stopped = True
                self.model.stop_training = True

    return StopWhen()


def _emulated_keras(data, seed: int, epochs: int, stopper, reason: str) -> dict:
    """Keras's ``fit`` of the twin of a fresh model, on refnn's batches, stopped by ``stopper``."""
    from keras_bridge import to_keras
    from keras_bridge.compare import keras_fit_in_order

    model = build_model(data.n_features, data.n_outputs, seed)
    x, y, x_val, y_val = split_validation(data.x_train, data.y_train, VALIDATION_SPLIT)
    orders = model.next_shuffle_orders(x.shape[0], epochs)
    curves = keras_fit_in_order(to_keras(model, optimizer_state=False), x, y, orders, BATCH,
                                validation_data=(x_val, y_val), callbacks=[stopper]).history
    run = _keras_run(curves, reason if stopper.stopped else "epochs", epoch_seconds=list(stopper.seconds))
    run["elapsed_at_stop"] = run["seconds"]
    return run


def _fit(data, seed: int, epochs: int, stoppers=()):
    model = build_model(data.n_features, data.n_outputs, seed)
    return model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=BATCH,
                     validation_split=VALIDATION_SPLIT, callbacks=list(stoppers), verbose=0)


def _compared(data, seed: int, epochs: int, stoppers=()):
    from keras_bridge import compare

    return compare.training(build_model(data.n_features, data.n_outputs, seed), data.x_train, data.y_train,
                            epochs=epochs, batch_size=BATCH, validation_split=VALIDATION_SPLIT,
                            callbacks=list(stoppers))


def _fixed_epochs(data, seed: int, epochs: int) -> dict:
    mine, result = _refnn_run(_fit(data, seed, epochs)), _compared(data, seed, epochs)
    keras = _keras_run(result.keras_history, "epochs" if result.keras_epochs == epochs else "callback")
    return {"refnn": mine, "keras": keras, "max_rel": float(result.max_rel),
            "same_as_comparison": mine["loss"] == list(map(float, result.refnn_history["loss"]))}


def _early_stopper() -> callbacks.EarlyStopping:
    return callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE, restore_best_weights=True)


def _restored_epoch(stopper):
    """The 0-based epoch whose weights ``on_train_end`` put back (refnn's and Keras's callbacks
    alike), ``None`` when none were."""
    return int(stopper.best_epoch) if stopper.restore_best_weights and stopper.best_weights is not None else None


def _early_stopping(data, seed: int, epochs: int) -> dict:
    """refnn's EarlyStopping in refnn's ``fit``; Keras's own through ``compare.training``. Each
    side's stop and restored epoch are read from its own callback after ``fit`` (Keras's from
    ``result.keras_callbacks``), and the restored weights must agree (the final-weight rows)."""
    stopper = _early_stopper()
    history = _fit(data, seed, epochs, [stopper])
    mine = _refnn_run(history, restored_epoch=_restored_epoch(stopper))
    mine["stopped_epoch"] = int(stopper.stopped_epoch)
    result = _compared(data, seed, epochs, [_early_stopper()])
    (theirs,) = result.keras_callbacks
    keras = _keras_run(result.keras_history, "early stopping" if theirs.stopped_epoch > 0 else "epochs",
                       restored_epoch=_restored_epoch(theirs))
    keras["stopped_epoch"] = int(theirs.stopped_epoch)
    return {"refnn": mine, "keras": keras, "patience": PATIENCE, "max_rel": float(result.max_rel),
            "weights_rel": float(max(r.max_rel for r in result.rows if r.layer != "history")),
            "same_stop": mine["stopped_epoch"] == keras["stopped_epoch"] and mine["epochs_run"] == keras["epochs_run"],
            "same_restored": mine["restored_epoch"] == keras["restored_epoch"],
            "same_as_comparison": mine["loss"] == list(map(float, result.refnn_history["loss"])),
            "accuracy": list(map(float, history.history["accuracy"])),
            "val_accuracy": list(map(float, history.history["val_accuracy"])),
            "record": {k: list(map(float, v)) for k, v in history.record.items()}}


def _time_limit(data, seed: int, seconds: float) -> dict:
    limit = callbacks.TimeLimit(seconds=seconds)
    mine = _refnn_run(_fit(data, seed, TIME_RUN_EPOCHS, [limit]), elapsed=limit.elapsed)
    # the Keras twin is slower per epoch: its batch order covers a few times refnn's epochs (capped,
    # so that a fast machine does not build a huge tf.data pipeline; should Keras run out, it says "epochs")
    keras = _emulated_keras(data, seed, min(4 * mine["epochs_run"] + 100, 5000),
                            _keras_stopper(lambda logs, elapsed: elapsed >= seconds), "time")
    return {"limit": seconds, "refnn": mine, "keras": keras, "max_rel": _curve_error(mine, keras)}


def _goal(data, seed: int, epochs: int) -> dict:
    """refnn's ``Goal`` against our Keras emulation; ``stop_error``: the relative difference of the
    epochs each side ran (0: the same stop)."""
    goal = callbacks.Goal(GOAL, monitor="loss")
    mine = _refnn_run(_fit(data, seed, epochs, [goal]))
    mine["reached_epoch"] = goal.reached_epoch
    keras = _emulated_keras(data, seed, epochs, _keras_stopper(lambda logs, elapsed: logs["loss"] <= GOAL), "goal")
    return {"goal": GOAL, "refnn": mine, "keras": keras, "max_rel": _curve_error(mine, keras),
            "same_stop": mine["epochs_run"] == keras["epochs_run"],
            "stop_error": float(relative_error(np.asarray([mine["epochs_run"]], dtype=np.float64),
                                               np.asarray([keras["epochs_run"]], dtype=np.float64)))}


def _levenberg_marquardt(seed: int) -> dict:
    """The sine of Hagan & Menhaj, 1-4-1 tanh, full batch: MATLAB's defaults (min_grad 1e-7,
    mu_max 1e10), then the same run with the gradient test off (min_grad = 0)."""
    x, y = datasets.sine_problem()
    runs = {}
    for key, min_grad in (("default", 1e-7), ("no_min_grad", 0.0)):
        model = refnn.Sequential([layers.Dense(LM_HIDDEN, activation="tanh"), layers.Dense(1)], input_dim=1,
                                 seed=seed, dtype="float64")
        optimizer = optimizers.LevenbergMarquardt(min_grad=min_grad)
        model.compile(optimizer=optimizer, loss="mse")
        history = model.fit(x, y, epochs=LM_EPOCHS, batch_size=x.shape[0], verbose=0)
        runs[key] = {"loss": list(map(float, history.history["loss"])), "epochs_run": len(history.history["loss"]),
                     "stop_reason": history.stop_reason, "min_grad": min_grad, "mu_max": optimizer.mu_max,
                     "mu": list(map(float, history.record["mu"])),
                     "gradient_norm": list(map(float, history.record["gradient_norm"])),
                     "seconds": float(history.record["seconds"][-1]), "rejections": int(optimizer.total_rejections),
                     "final_loss": float(model.evaluate(x, y, batch_size=x.shape[0], return_dict=True,
                                                         verbose=0)["loss"])}
    return {"points": int(x.shape[0]), "max_epochs": LM_EPOCHS, "hidden": LM_HIDDEN, **runs}


def measure(quick: bool = False, seed: int = 0) -> dict:
    """Every run of the lesson (see the module docstring); ``quick``: 30 epochs and a 0.5 s limit
    instead of 80 epochs and 1 s.

    Raises:
        ValueError: ``seed`` is not a non-negative integer.
    """
    seed = check_non_negative_int("seed", seed)
    epochs, seconds = SIZES[bool(quick)]
    data = datasets.load(DATASET, "float64", seed)
    x_train, _, x_val, _ = split_validation(data.x_train, data.y_train, VALIDATION_SPLIT)
    return {
        "setup": {"dataset": DATASET, "description": data.description, "epochs": epochs, "seed": seed,
                  "network": f"{data.n_features}-{HIDDEN}-{HIDDEN}-{data.n_outputs} relu/softmax",
                  "optimizer": f"SGD(η = {LEARNING_RATE})", "batch_size": BATCH, "validation_split": VALIDATION_SPLIT,
                  "training_rows": int(x_train.shape[0]), "validation_rows": int(x_val.shape[0])},
        "epochs": _fixed_epochs(data, seed, epochs),
        "time": _time_limit(data, seed, seconds),
        "early_stopping": _early_stopping(data, seed, epochs),
        "goal": _goal(data, seed, epochs),
        "levenberg_marquardt": _levenberg_marquardt(seed),
    }


def section(measured: dict):
    """The lesson's ``Section`` (``comparisons.lessons.stopping_page``)."""
    from comparisons.lessons.stopping_page import render

    return render(measured, TITLE)

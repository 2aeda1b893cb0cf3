"""Gradient descent, mini-batch, stochastic: the same network trained with batch size 1, 32 and N.

Every variant is the same update on a different batch ``B`` of the ``N`` training rows::

    W ← W − η · (1/|B|) Σ_{n∈B} ∇E_n(W)        |B| = 1 (stochastic), 32 (mini-batch), N (batch)

``refnn``'s ``fit(batch_size=b)`` slices each epoch's shuffled rows into ``⌈N/b⌉`` batches and
makes one ``SGD`` update per batch; Keras's ``fit`` of the twin (``keras_bridge.to_keras``) is fed
exactly those batches (``keras_bridge.compare.keras_fit_in_order`` replays refnn's shuffle order)
and ``keras.optimizers.SGD`` makes the same update ``w ← w − η g``. Both sides run in float64, so
their loss curves must agree to ``TOLERANCES["training"]["float64"]``.

Each run is given about the same number of updates (the batch-1 run's epochs × N), so the runs
take comparable time and can be compared both ways: against epochs (how much each pass over the
data teaches) and against elapsed seconds (what a pass costs). Each side's clock is
``time.perf_counter()`` read by a callback at ``on_train_begin`` and at every ``on_epoch_end``.
"""

from __future__ import annotations

import math
import time

import numpy as np

import refnn
from comparisons import datasets
from refnn import callbacks, layers, optimizers
from refnn.utils.tolerance import TOLERANCES, relative_error
from refnn.utils.validation import check_non_negative_int

__all__ = ["TITLE", "DATASET", "HIDDEN", "RUNS", "measure", "section", "epochs_for"]

TITLE = "Gradient descent: stochastic, mini-batch and full batch"
DATASET = "breast_cancer"
HIDDEN = 16
#: (batch size, learning rate η, why a lecturer picks that η); ``None`` is the full batch |B| = N
RUNS = (
    (1, 0.01, "one row's gradient is noisy: a small step"),
    (32, 0.1, "the mean over 32 rows is steadier: a larger step"),
    (None, 0.5, "the exact gradient of E: the largest step that stays stable"),
)
#: epochs of the batch-1 run (every run gets about N × this many updates); rows used
PASSES = {False: 4, True: 3}
ROWS = {False: None, True: 192}


def build_model(n_features: int, learning_rate: float, seed: int) -> refnn.Sequential:
    """``n_features``-16-1 relu/sigmoid, binary crossentropy, plain SGD (no momentum), float64."""
    model = refnn.Sequential([layers.Dense(HIDDEN, activation="relu"), layers.Dense(1, activation="sigmoid")],
                             input_dim=n_features, seed=seed, dtype="float64")
    model.compile(optimizer=optimizers.SGD(learning_rate), loss="binary_crossentropy")
    return model


def epochs_for(batch_size: int, rows: int, updates: int) -> int:
    """Epochs that make about ``updates`` updates with ``⌈rows/batch_size⌉`` updates per epoch."""
    return max(1, round(updates / math.ceil(rows / batch_size)))


class _EpochClock(callbacks.Callback):
    """refnn side: ``perf_counter()`` at the start of training and at the end of every epoch."""

    def on_train_begin(self, logs=None):
        self.times = [time.perf_counter()]

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter())


def _keras_clock():
    """The Keras side's clock: a ``keras.callbacks.Callback`` with the same two hooks."""
    import keras

    class KerasEpochClock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = [time.perf_counter()]

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter())

    return KerasEpochClock()


def _elapsed(times: list[float]) -> list[float]:
    """Seconds from the start of training to the end of each epoch."""
    return [t - times[0] for t in times[1:]]


def train_both(model, x, y, batch_size: int, epochs: int) -> dict:
    """Train the refnn model (its ``keras_exact_copy``) and its Keras twin on the same batches,
    each timed epoch by epoch. Returns both sides' ``loss`` and elapsed ``seconds`` per epoch."""
    import keras_bridge
    from keras_bridge.compare import keras_fit_in_order

    keras_model = keras_bridge.to_keras(model)
    mine = keras_bridge.keras_exact_copy(model)
    orders = mine.next_shuffle_orders(x.shape[0], epochs)  # the batches refnn's fit is about to draw
    clock = _EpochClock()
    history = mine.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, callbacks=[clock], verbose=0)
    keras_clock = _keras_clock()
    keras_history = keras_fit_in_order(keras_model, x, y, orders, batch_size, callbacks=[keras_clock])
    return {
        "refnn": {"loss": [float(v) for v in history.history["loss"]], "seconds": _elapsed(clock.times)},
        "keras": {"loss": [float(v) for v in keras_history.history["loss"]], "seconds": _elapsed(keras_clock.times)},
    }


def loss_at(side: dict, budget: float) -> float | None:
    """The loss of the last epoch that ended within ``budget`` seconds (``None``: none did)."""
    done = [loss for loss, t in zip(side["loss"], side["seconds"]) if t <= budget]
    return done[-1] if done else None


def first_reaching(run: dict, target: float) -> dict | None:
    """The first epoch (1-based) whose refnn loss is ≤ ``target``, with both sides' elapsed
    seconds at its end (the curves agree epoch by epoch, checked separately)."""
    for epoch, loss in enumerate(run["refnn"]["loss"], start=1):
        if loss <= target:
            return {"epoch": epoch, "refnn": run["refnn"]["seconds"][epoch - 1],
                    "keras": run["keras"]["seconds"][epoch - 1]}
    return None


def _run(x, y, batch_size, learning_rate: float, why: str, updates: int, seed: int) -> dict:
    """One batch size: both sides trained and timed, and the numbers the table shows."""
    n = x.shape[0]
    size = n if batch_size is None else batch_size
    epochs = epochs_for(size, n, updates)
    sides = train_both(build_model(x.shape[1], learning_rate, seed), x, y, size, epochs)
    for side in sides.values():
        per_epoch = np.diff([0.0] + side["seconds"])
        side["seconds_per_epoch"] = float(np.median(per_epoch))  # the median: Keras's 1st epoch also traces
        side["seconds_per_update"] = side["seconds_per_epoch"] / math.ceil(n / size)
        side["first_epoch_seconds"] = float(per_epoch[0])
    max_rel = max(relative_error(a, b) for a, b in zip(sides["refnn"]["loss"], sides["keras"]["loss"])) \
        if len(sides["refnn"]["loss"]) == len(sides["keras"]["loss"]) else math.inf
    return {"label": "N" if batch_size is None else str(batch_size), "batch_size": size,
            "learning_rate": learning_rate, "why": why, "epochs": epochs,
            "updates_per_epoch": math.ceil(n / size), "updates": epochs * math.ceil(n / size),
            "max_rel": float(max_rel), **sides}


def _ranked(runs: list[dict], key) -> list[list[str]]:
    """The runs' labels from smallest ``key`` to largest, equal keys grouped (a tie)."""
    groups: list[list[str]] = []
    previous = None
    for r in sorted(runs, key=key):
        if groups and key(r) == previous:
            groups[-1].append(r["label"])
        else:
            groups.append([r["label"]])
        previous = key(r)
    return groups


def _comparisons(runs: list[dict]) -> dict:
    """The time budget, the target loss and who reaches it first, by epochs and by seconds.

    The budget of a side is its shortest run (every run was still training then); the target is
    the largest of the runs' lowest refnn losses (a loss every run reached).
    """
    budget = {side: min(r[side]["seconds"][-1] for r in runs) for side in ("refnn", "keras")}
    target = max(min(r["refnn"]["loss"]) for r in runs)
    for r in runs:
        r["loss_at_budget"] = {side: loss_at(r[side], budget[side]) for side in budget}
        r["reach"] = first_reaching(r, target)
    reached = [r for r in runs if r["reach"]]
    order = {"epochs": _ranked(reached, lambda r: r["reach"]["epoch"])}
    for side in budget:
        order[f"seconds_{side}"] = _ranked(reached, lambda r: r["reach"][side])
    return {"budget": budget, "target": target, "order": order}


def measure(quick: bool = False, seed: int = 0) -> dict:
    """Train batch sizes 1, 32 and N in refnn and Keras; every number the lesson shows.

    ``quick``: the first 192 training rows and 3 passes of batch 1 (else all 427 rows, 4 passes).
    """
    check_non_negative_int("seed", seed)
    start = time.perf_counter()
    data = datasets.load(DATASET, "float64", seed)
    rows = ROWS[quick] or data.x_train.shape[0]
    x, y = data.x_train[:rows], data.y_train[:rows]
    updates = PASSES[quick] * rows
    runs = [_run(x, y, batch, lr, why, updates, seed) for batch, lr, why in RUNS]
    return {
        "dataset": DATASET, "description": data.description, "rows": rows, "features": int(x.shape[1]),
        "hidden": HIDDEN, "updates": updates, "quick": quick, "seed": seed,
        "tolerance": TOLERANCES["training"]["float64"], "runs": runs, **_comparisons(runs),
        "seconds": time.perf_counter() - start,
    }


def section(measured: dict):
    """The lesson's ``Section`` (``comparisons.lessons.descent_page``)."""
    from comparisons.lessons.descent_page import render

    return render(measured, TITLE)

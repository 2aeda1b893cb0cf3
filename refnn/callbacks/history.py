"""The record ``fit`` returns: Keras's per-epoch logs, and the training record MATLAB's training
tool shows (learning rate, gradient norm, time, validation failures, μ, and why training stopped)."""

from __future__ import annotations

import math
import time

from refnn.callbacks.base import Callback
from refnn.optimizers.base import ModelOptimizer

__all__ = ["History", "STOP_REASONS"]

#: ``History.stop_reason`` → what it means (MATLAB's ``tr.stop`` in brackets)
STOP_REASONS = {
    "epochs": "every requested epoch ran (Maximum epoch reached)",
    "time": "the time budget of TimeLimit was spent (Maximum time elapsed)",
    "early stopping": "EarlyStopping saw no improvement for `patience` epochs (Validation stop)",
    "goal": "Goal: the monitored quantity reached the goal (Performance goal met)",
    "non-finite": "TerminateOnNaN: the loss became NaN or infinite",
    "minimum gradient": "Levenberg–Marquardt: ‖Jᵀe‖ fell below min_grad (Minimum gradient reached)",
    "maximum mu": "Levenberg–Marquardt: μ exceeded mu_max (Maximum MU reached)",
    "callback": "another callback set model.stop_training",
}


class History(Callback):
    """``history[key]`` is the list of per-epoch values of each log key, ``epoch`` the epochs run.

    ``history["loss"][e]`` follows Keras: ``Σ_b n_b L_b / Σ_b n_b`` over the batches of epoch e,
    where ``L_b`` is the batch loss (regularisation included, training mode) computed with the
    weights *before* that batch's update and ``n_b`` its size. ``history`` holds Keras's keys only.

    The training record (MATLAB's ``tr``), per epoch, in ``record``:

    * ``"learning_rate"`` — the rate of the next update, after this epoch's callbacks (a schedule
      evaluated at the step count; Keras's ``ReduceLROnPlateau`` logs the rate *before* its own
      change); absent for Levenberg–Marquardt, which has none;
    * ``"gradient_norm"`` — ``‖∇E‖₂`` of the epoch's last training batch (penalties included,
      before clipping; with the full batch, the gradient of the epoch), taken when the epoch's
      batches end; for Levenberg–Marquardt its ``‖Jᵀe + penalty‖₂``, the gradient of ``½ Σ e²`` (the
      sum-of-squares scale, whatever constant the compiled loss has);
    * ``"seconds"`` — elapsed since ``History``'s ``on_train_begin`` (after the user's
      callbacks': a ``TimeLimit``'s ``elapsed`` can be a hair larger), at the epoch's end;
    * ``"validation_failures"`` — with validation data: epochs since the best ``val_loss`` so far
      (a strict improvement resets it to 0; MATLAB's ``val_fail``);
    * ``"mu"`` — Levenberg–Marquardt's damping μ after the epoch.

    ``stop_reason`` says why ``fit`` ended: a key of ``STOP_REASONS`` (``"epochs"``, ``"time"``,
    ``"early stopping"``, ``"goal"``, ``"non-finite"``, ``"minimum gradient"``, ``"maximum mu"``,
    ``"callback"``) or the ``stop_reason`` a user's callback class declares.
    """

    stop_reason: str | None = None

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.record: dict[str, list[float]] = {}
        self.stop_reason: str | None = None
        self._start = 0.0
        self._best_val_loss = math.inf
        self._failures = 0

    def on_train_begin(self, logs=None):
        self.epoch = []
        self._start = time.perf_counter()
        self._best_val_loss, self._failures = math.inf, 0  # a NaN val_loss is a failure

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        self._record(logs)

    def _record(self, logs: dict) -> None:
        entries = {"seconds": time.perf_counter() - self._start}
        model = self.model
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            entries.update(_optimizer_entries(model, optimizer))
        if "val_loss" in logs:
            value = float(logs["val_loss"])
            if value < self._best_val_loss:
                self._best_val_loss, self._failures = value, 0
            else:
                self._failures += 1
            entries["validation_failures"] = self._failures
        for key, value in entries.items():
            self.record.setdefault(key, []).append(value)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)}, stop_reason={self.stop_reason!r})"


def _optimizer_entries(model, optimizer) -> dict:
    """Learning rate, gradient norm and μ at the end of an epoch: a whole-model optimizer's own
    (Levenberg–Marquardt: μ and ‖Jᵀe‖), else the rate and the norm ``fit`` took after the batches."""
    if isinstance(optimizer, ModelOptimizer):
        entries = {}
        for key, attribute in (("gradient_norm", "gradient_norm"), ("mu", "mu")):
            value = getattr(optimizer, attribute, None)
            if value is not None:
                entries[key] = float(value)
        return entries
    entries = {"learning_rate": float(optimizer.current_learning_rate())}
    norm = getattr(model, "_epoch_gradient_norm", None)
    if norm is not None:
        entries["gradient_norm"] = norm
    return entries

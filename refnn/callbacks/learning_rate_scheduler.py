"""Set the learning rate at the start of every epoch — Keras's ``LearningRateScheduler``."""

from __future__ import annotations

import numpy as np

from refnn.callbacks.base import Callback
from refnn.callbacks.monitoring import assign_learning_rate, read_learning_rate

__all__ = ["LearningRateScheduler"]


class LearningRateScheduler(Callback):
    """``η_e = schedule(e, η_{e−1})`` at the beginning of epoch ``e`` (0-based), Keras's rules:

    * ``schedule(epoch, lr)`` is called with the current rate as a Python float; if that raises
      ``TypeError`` (a one-argument function), ``schedule(epoch)`` is called instead — Keras's
      fallback for its old API (so a ``TypeError`` raised *inside* a two-argument schedule also
      falls back, as in Keras);
    * the result must be a ``float``, ``np.float32`` or ``np.float64`` (an ``int`` is refused,
      as Keras refuses it);
    * at the end of each epoch ``logs["learning_rate"]`` is the current rate, so ``History`` and
      ``CSVLogger`` show a ``learning_rate`` column as Keras's do.

    Textbook: an epoch-indexed step-size sequence ``η_e``. The rate is set on the optimizer (a
    float rate; one built with a ``LearningRateSchedule`` refuses it, as Keras's does); in float32
    runs it is rounded to float32 as Keras's learning-rate variable stores it.

    Args:
        schedule: ``schedule(epoch, lr) -> float`` or ``schedule(epoch) -> float``.
        verbose: 1 prints the rate set at each epoch.
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"`schedule` must be a function schedule(epoch, lr) -> float. "
                            f"Received: schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        try:
            learning_rate = self.schedule(epoch, read_learning_rate(self.model))
        except TypeError:  # Keras's fallback: the old one-argument API
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate}")
        assign_learning_rate(self.model, learning_rate)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = read_learning_rate(self.model)

    def __repr__(self):
        return f"LearningRateScheduler(schedule={self.schedule!r}, verbose={self.verbose})"

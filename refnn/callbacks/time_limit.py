"""Stopping by elapsed time (Keras has no such callback)."""

from __future__ import annotations

import time
from typing import Callable

from refnn.callbacks.base import Callback
from refnn.utils.validation import check_float

__all__ = ["TimeLimit"]


class TimeLimit(Callback):
    """Stop training after the epoch in which ``seconds`` of training time have elapsed.

    ``elapsed = clock() − clock()|_{on_train_begin}`` is checked at the end of every epoch (after
    validation and after the callbacks listed before this one); once ``elapsed ≥ seconds`` the
    callback sets ``model.stop_training = True`` and records ``timed_out = True`` and
    ``stopped_epoch``. The epoch in progress is always completed, so the run can overshoot the
    limit by up to one epoch. Keras has no such callback.

    Args:
        seconds: the time budget, a positive number of seconds.
        clock: a callable returning seconds (default ``time.monotonic``); inject a fake clock to
            test without sleeping.

    Attributes:
        timed_out: whether the limit stopped the last ``fit``.
        stopped_epoch: the epoch (0-based) after which it stopped, ``None`` if it did not.
        elapsed: seconds elapsed at the last check.
    """

    stop_reason = "time"

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.seconds = check_float("seconds", seconds, low=0.0, low_inclusive=False)
        if not callable(clock):
            raise TypeError(f"`clock` must be a callable returning seconds. Received: clock={clock!r}")
        self.clock = clock
        self.timed_out = False
        self.stopped_epoch: int | None = None
        self.elapsed = 0.0
        self._start: float | None = None

    def on_train_begin(self, logs=None):
        self._start = float(self.clock())
        self.timed_out = False
        self.stopped_epoch = None
        self.elapsed = 0.0

    def on_epoch_end(self, epoch, logs=None):
        if self._start is None:
            self._start = float(self.clock())
        self.elapsed = float(self.clock()) - self._start
        if self.elapsed >= self.seconds:
            self.timed_out = True
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def __repr__(self):
        return f"TimeLimit(seconds={self.seconds!r})"

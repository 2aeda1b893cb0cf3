"""Stop as soon as the training loss stops being a number."""

from __future__ import annotations

import math

from refnn.callbacks.base import Callback
from refnn.utils.validation import check_bool

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose running loss is NaN or ±inf — Keras's callback.

    After each training batch, if ``logs["loss"]`` is not finite: with ``raise_error=False``
    (default) print a message, record ``terminated_batch`` and set ``model.stop_training =
    True`` (``fit`` then ends the epoch normally: validation and ``on_epoch_end`` still run);
    with ``raise_error=True`` raise ``RuntimeError`` at once, so ``on_train_end`` does not run.

    Args:
        raise_error: raise instead of stopping gracefully.

    Attributes:
        terminated_batch: ``(epoch, batch)`` of the first non-finite loss, or ``None``.
    """

    stop_reason = "non-finite"

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = check_bool("raise_error", raise_error)
        self.terminated_batch: tuple[int, int] | None = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.terminated_batch = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at epoch {self._epoch}, batch {batch}. Loss value: {loss}."
            )
        self.terminated_batch = (self._epoch, batch)
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True

    def __repr__(self):
        return f"TerminateOnNaN(raise_error={self.raise_error})"

"""Keras-style progress output for ``fit(verbose=...)``."""

from __future__ import annotations

import sys
import time

from refnn.callbacks.base import Callback

__all__ = ["ProgressBar"]


def _format_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


class ProgressBar(Callback):
    """``verbose=1``: a live bar per epoch with the running loss/metrics (redrawn at most every
    ``interval`` seconds); ``verbose=2``: one line per epoch; ``verbose=0``: nothing.
    """

    def __init__(self, verbose: int = 1, stream=None, interval: float = 0.1, width: int = 30):
        super().__init__()
        self.verbose = verbose
        self.stream = stream if stream is not None else sys.stdout
        self.interval = interval
        self.width = width
        self._last_draw = 0.0

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._last_draw = 0.0
        if self.verbose:
            self._write(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}\n")

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose != 1:
            return
        now = time.perf_counter()
        steps = self.params.get("steps") or 1
        if now - self._last_draw < self.interval and batch + 1 < steps:
            return
        self._last_draw = now
        done = int(self.width * (batch + 1) / steps)
        bar = "━" * done + " " * (self.width - done)
        self._write(f"\r{batch + 1}/{steps} {bar} {_format_logs(logs or {})}")

    def on_epoch_end(self, epoch, logs=None):
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self._epoch_start
        steps = self.params.get("steps") or 1
        prefix = "\r" if self.verbose == 1 else ""
        bar = f"{steps}/{steps} " + ("━" * self.width + " " if self.verbose == 1 else "")
        self._write(f"{prefix}{bar}{elapsed:.2f}s - {_format_logs(logs or {})}\n")

"""Keras-style progress output for ``fit(verbose=...)``."""

from __future__ import annotations

import sys
import time
from typing import Callable

from refnn.callbacks.base import Callback

__all__ = ["ProgressBar", "format_logs", "check_verbose"]


def check_verbose(verbose) -> int:
    """``verbose`` must be 0 (silent), 1 (a progress bar) or 2 (one line per epoch)."""
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"`verbose` must be 0, 1 or 2. Received: verbose={verbose!r}")
    return verbose


def _format_value(value) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    # Keras's Progbar: 4 decimals, scientific notation for small magnitudes
    return f"{value:.4f}" if abs(value) > 1e-3 or value == 0.0 else f"{value:.4e}"


def format_logs(logs: dict) -> str:
    """``"loss: 0.1234 - accuracy: 0.5000"``, in the logs' order."""
    return " - ".join(f"{key}: {_format_value(value)}" for key, value in (logs or {}).items())


def _format_time(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.2f}s"


def _per_step(seconds: float, steps: int) -> str:
    per = seconds / max(steps, 1)
    if per >= 1:
        return f"{per:.1f}s/step"
    if per >= 1e-3:
        return f"{per * 1e3:.0f}ms/step"
    return f"{per * 1e6:.0f}us/step"


class ProgressBar(Callback):
    """Progress of ``fit``, as Keras prints it.

    * ``verbose=1``: ``Epoch e/E`` then a bar redrawn in place (``\\r``) after each batch — at
      most every ``interval`` seconds — with the running loss and metrics; the epoch ends with
      the full bar, the time, the time per step and every log (``val_*`` included). On a stream
      that is not a terminal (a file, a pipe, ``io.StringIO``) nothing is redrawn: only the final
      line of each epoch is written, so logs stay readable (``dynamic=True`` forces redrawing).
    * ``verbose=2``: one line per epoch: ``Epoch e/E`` then ``steps/steps - time - logs``.
    * ``verbose=0``: nothing.

    Args:
        verbose: 0, 1 or 2.
        stream: where to write (default ``sys.stdout``, looked up when training starts).
        interval: minimum seconds between two redraws of the bar.
        width: characters of the bar.
        dynamic: redraw in place; ``None`` detects a terminal with ``stream.isatty()``.
        clock: a callable returning seconds (default ``time.perf_counter``), injectable for tests.
    """

    def __init__(self, verbose: int = 1, stream=None, interval: float = 0.1, width: int = 30,
                 dynamic: bool | None = None, clock: Callable[[], float] = time.perf_counter):
        super().__init__()
        self.verbose = check_verbose(verbose)
        self._stream = stream
        self.interval = interval
        self.width = width
        self.dynamic = dynamic
        self.clock = clock
        self._last_draw = None
        self._line_length = 0
        self._epoch_start = 0.0

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    def _is_dynamic(self) -> bool:
        if self.dynamic is not None:
            return self.dynamic
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty()) if isatty else False
        except ValueError:  # a closed stream
            return False

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def _bar(self, done: int, steps: int) -> str:
        filled = int(self.width * done / max(steps, 1))
        return "━" * filled + " " * (self.width - filled)

    def _redraw(self, line: str, final: bool) -> None:
        # pad with spaces so a shorter line fully covers the previous one
        padding = " " * max(self._line_length - len(line), 0)
        self._line_length = 0 if final else len(line)
        self._write("\r" + line + padding + ("\n" if final else ""))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self.clock()
        self._last_draw = None
        self._line_length = 0
        if self.verbose:
            self._write(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}\n")

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose != 1 or not self._is_dynamic():
            return
        now = self.clock()
        steps = self.params.get("steps") or 1
        if self._last_draw is not None and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        width = len(str(steps))
        elapsed = now - self._epoch_start
        line = f"{batch + 1:>{width}}/{steps} {self._bar(batch + 1, steps)} {_format_time(elapsed)}"
        if logs:
            line += " - " + format_logs(logs)
        self._redraw(line, final=False)

    def on_epoch_end(self, epoch, logs=None):
        if not self.verbose:
            return
        elapsed = self.clock() - self._epoch_start
        steps = self.params.get("steps") or 1
        timing = f"{_format_time(elapsed)} {_per_step(elapsed, steps)}"
        if self.verbose == 1:
            line = f"{steps}/{steps} {self._bar(steps, steps)} {timing}"
        else:
            line = f"{steps}/{steps} - {_format_time(elapsed)} - {_per_step(elapsed, steps)}"
        if logs:
            line += " - " + format_logs(logs)
        if self.verbose == 1 and self._is_dynamic():
            self._redraw(line, final=True)
        else:
            self._write(line + "\n")

    def __repr__(self):
        return f"ProgressBar(verbose={self.verbose})"

"""Progress of the studies on a stream (stderr by the CLI)."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Progress of the studies on a stream: a bar redrawn in place on a terminal, one line per
    study otherwise (logs stay readable). ``Progress(None)`` is silent.

    >>> progress.start("optimizers", total=12); progress.step("Adam float64"); progress.finish()
    """

    def __init__(self, stream=sys.stderr, width: int = 24):
        self.stream = stream
        self.width = width
        self.dynamic = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.title, self.total, self.done, self.t0 = "", 1, 0, 0.0

    def start(self, title: str, total: int) -> None:
        self.title, self.total, self.done, self.t0 = title, max(int(total), 1), 0, time.perf_counter()
        self._draw("")

    def step(self, label: str = "") -> None:
        self.done = min(self.done + 1, self.total)
        self._draw(label)

    def finish(self, message: str = "") -> float:
        seconds = time.perf_counter() - self.t0
        if self.stream is not None:
            end = "\r\033[K" if self.dynamic else ""
            self.stream.write(f"{end}{self.title:<12} done in {seconds:5.1f} s  {message}\n")
            self.stream.flush()
        return seconds

    def _draw(self, label: str) -> None:
        if not self.dynamic:
            return
        filled = int(self.width * self.done / self.total)
        bar = "=" * filled + (">" if filled < self.width else "") + "." * max(self.width - filled - 1, 0)
        self.stream.write(f"\r\033[K{self.title:<12} [{bar}] {self.done}/{self.total} {label[:40]}")
        self.stream.flush()

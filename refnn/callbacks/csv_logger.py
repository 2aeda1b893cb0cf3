"""Stream each epoch's logs to a CSV file — Keras's ``CSVLogger``, byte for byte."""

from __future__ import annotations

import collections.abc
import csv
import numbers
import os

import numpy as np

from refnn.callbacks.base import Callback
from refnn.utils.validation import check_bool

__all__ = ["CSVLogger"]


def _cell(value):
    """A log value as Keras writes it: strings as they are, sequences as ``"[a, b]"``, numbers as
    Python floats (``str`` of the float: Keras's logs hold Python floats; a NumPy float32 would
    print with fewer digits)."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, collections.abc.Iterable):
        return f'"[{", ".join(map(str, value))}]"'
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


class CSVLogger(Callback):
    """Write one row per epoch to ``filename``.

    The format is Keras's: the columns are ``epoch`` (0-based) then the log keys of the first
    epoch, sorted; if none of them starts with ``val_``, a ``val_<key>`` column is added for each
    (Keras's guess that validation may come later); a key missing from an epoch's logs is written
    ``NA``. Rows end in ``\\r\\n`` (the ``csv`` module's Excel dialect), cells are separated by
    ``separator``, numbers are ``str(float(value))``. With ``append=True`` rows are added to an
    existing file, and the header is written only if the file is empty or absent. The file is
    flushed after every row and closed at the end of training.

    Args:
        filename: the CSV file.
        separator: the cell separator (one character).
        append: add to an existing file instead of overwriting it.
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"`filename` must be a path. Received: filename={filename!r}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"`separator` must be a 1-character string. Received: separator={separator!r}")
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = check_bool("append", append)
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, newline="") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        self._close()
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys.extend([f"val_{key}" for key in self.keys])
        if self.writer is None:
            separator = self.sep

            class Dialect(csv.excel):
                delimiter = separator

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch", *self.keys], dialect=Dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _cell(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self._close()
        self.writer = None

    def _close(self) -> None:
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()

    def __repr__(self):
        return f"CSVLogger(filename={self.filename!r}, separator={self.sep!r}, append={self.append})"

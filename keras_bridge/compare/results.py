"""What a live comparison returns: rows of compared quantities that print as a table and name
their first disagreement.

The table shows refnn's and Keras's numbers beside the errors for small tensors (at most
``VALUES_SHOWN_UP_TO`` entries: losses, history curves, small biases), so a reader sees which
digits agree; ``Comparison.table(values=True)`` shows every row, ``values=False`` errors only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from refnn.utils.text import format_table
from refnn.utils.tolerance import max_abs_difference, relative_error

__all__ = ["Row", "Comparison", "TrainingComparison", "make_row", "format_values", "VALUES_SHOWN_UP_TO"]

#: ``Comparison.table()`` (and ``print(result)``) shows both sides' numbers for the rows whose tensors
#: have at most this many entries.
VALUES_SHOWN_UP_TO = 6


@dataclass
class Row:
    """One compared quantity: ``refnn`` vs ``keras`` values and their differences."""

    layer: str
    quantity: str
    refnn: np.ndarray = field(repr=False)
    keras: np.ndarray = field(repr=False)
    max_abs: float
    max_rel: float
    rtol: float
    known_difference: str = ""

    @property
    def passed(self) -> bool:
        """Within tolerance (NaN fails). A row explained by a known difference has not passed."""
        return self.max_rel <= self.rtol

    @property
    def status(self) -> str:
        """``"ok"``, ``"known difference"`` (see ``known_differences``) or ``"FAIL"``."""
        return "ok" if self.passed else "known difference" if self.known_difference else "FAIL"

    @property
    def name(self) -> str:
        return f"{self.layer}/{self.quantity}"


def make_row(layer: str, quantity: str, mine, theirs, rtol: float, rel: float | None = None) -> Row:
    """A ``Row``; tensors of different shapes differ infinitely (the row fails and the failure
    message shows both shapes)."""
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    if mine.shape != theirs.shape:
        return Row(layer, quantity, mine, theirs, math.inf, math.inf, rtol)
    return Row(layer, quantity, mine, theirs, max_abs_difference(mine, theirs),
               relative_error(mine, theirs) if rel is None else rel, rtol)


def largest_magnitude(a) -> float:
    """``max |a|`` over the finite entries (the scale the relative error divides by); NaN if none."""
    a = np.asarray(a, dtype=np.float64)
    finite = np.abs(a[np.isfinite(a)])
    return float(finite.max()) if finite.size else float("nan")


def _preview(a: np.ndarray) -> str:
    flat = np.asarray(a).ravel()
    text = np.array2string(flat[:6], precision=17, separator=", ")
    return text[:-1] + ", ...]" if flat.size > 6 else text


def format_values(a, dtype: str = "float64", summarise: bool = True) -> str:
    """``a``'s numbers, nested as the tensor is, each the shortest decimal that reads back as the
    same number in ``dtype`` (the comparison's; integers print as they are): two sides print alike
    exactly when they round to the same ``dtype`` number, and the digit where they part shows how
    far they agree.

    With ``summarise`` and more than ``VALUES_SHOWN_UP_TO`` entries: the first three, then the
    minimum and maximum (NaN if any entry is NaN).
    """
    a = np.asarray(a)
    if np.issubdtype(a.dtype, np.floating):
        a = a.astype(_float_type(dtype, a.dtype))
    if summarise and a.size > VALUES_SHOWN_UP_TO:
        flat = a.ravel()
        first = ", ".join(str(v) for v in flat[:3])
        return f"[{first}, …] min {flat.min()!s} max {flat.max()!s}"  # !s: NumPy's shortest digits
    return _nested(a)


def _float_type(dtype: str, fallback: np.dtype) -> np.dtype:
    """The comparison's float type, or the values' own where ``dtype`` names none NumPy knows."""
    try:
        shown = np.dtype(dtype)
    except TypeError:
        return fallback
    return shown if np.issubdtype(shown, np.floating) else fallback


def _nested(a: np.ndarray) -> str:
    """``[[1.0, 2.0], [3.0, 4.0]]``: every entry in NumPy's shortest round-trip digits."""
    if a.ndim == 0:
        return str(a[()])
    return "[" + ", ".join(_nested(part) for part in a) + "]"


@dataclass
class Comparison:
    """The result of one live comparison. ``print(result)`` shows the table.

    Attributes:
        what: ``"forward"``, ``"gradients"``, ``"optimizer"`` or ``"training"``.
        dtype: the models' dtype.
        rows: the compared quantities, in the order they are computed.
        notes: how the comparison was set up (what was rounded, what was not compared).
    """

    what: str
    dtype: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every row within tolerance or explained by a documented known difference (the notes
        give it)."""
        return all(row.status != "FAIL" for row in self.rows)

    @property
    def known_differences(self) -> list[Row]:
        """The rows outside tolerance that a documented difference explains."""
        return [row for row in self.rows if row.status == "known difference"]

    @property
    def first_failure(self) -> Row | None:
        return next((row for row in self.rows if row.status == "FAIL"), None)

    @property
    def max_rel(self) -> float:
        """The largest relative error of the rows; NaN if any row's is NaN (``max`` would skip it
        unless it came first)."""
        errors = [row.max_rel for row in self.rows]
        return math.nan if any(math.isnan(e) for e in errors) else max(errors, default=0.0)

    @property
    def errors(self) -> dict[str, float]:
        """``{"layer/quantity": max relative error}``."""
        return {row.name: row.max_rel for row in self.rows}

    def failure_message(self) -> str:
        row = self.first_failure
        if row is None:
            return ""
        i = self.rows.index(row)
        lines = [
            f"compare.{self.what} ({self.dtype}): first disagreement at layer {row.layer!r}, "
            f"quantity {row.quantity!r}: max relative error {row.max_rel:.3e} > {row.rtol:.0e} "
            f"(max abs {row.max_abs:.3e})",
            f"  refnn: {_preview(row.refnn)}",
            f"  keras: {_preview(row.keras)}",
        ]
        if np.shape(row.refnn) != np.shape(row.keras):
            lines.append(f"  shapes: refnn {np.shape(row.refnn)}, keras {np.shape(row.keras)}")
        if i > 0:
            prev = self.rows[i - 1]
            lines.append(f"  (previous quantity {prev.name!r} agreed: {prev.max_rel:.3e})")
        return "\n".join(lines)

    def assert_passed(self) -> "Comparison":
        """Raise ``AssertionError`` naming the first disagreement; return ``self`` otherwise."""
        if not self.passed:
            raise AssertionError(self.failure_message())
        return self

    def table(self, values: bool | None = None) -> str:
        """The rows as a plain-text table, under a PASSED/FAILED line and the notes, followed by
        the first disagreement if there is one.

        Args:
            values: show refnn's and Keras's numbers (``format_values``) beside the errors.
                ``None``, the default and what ``print(result)`` shows: for rows whose tensors have
                at most ``VALUES_SHOWN_UP_TO`` entries. ``True``: every row, larger tensors as their
                first entries, minimum and maximum. ``False``: the errors only.
        """
        if values is not None and not isinstance(values, (bool, np.bool_)):
            raise TypeError(f"Comparison.table: values must be None, True or False. Received: values={values!r}")
        shown = [values if values is not None else max(np.size(row.refnn), np.size(row.keras)) <= VALUES_SHOWN_UP_TO
                 for row in self.rows]
        header = ["layer", "quantity", "shape", "max |keras|", "max abs diff", "max rel diff", "tolerance", ""]
        body = [[row.layer, row.quantity, str(tuple(np.shape(row.keras))), f"{largest_magnitude(row.keras):.3e}",
                 f"{row.max_abs:.3e}", f"{row.max_rel:.3e}", f"{row.rtol:.0e}", row.status]
                for row in self.rows]
        if any(shown):  # last: the fixed-width error columns stay together, the long numbers trail
            header += ["refnn", "keras"]
            for cells, row, show in zip(body, self.rows, shown):
                cells += [format_values(row.refnn, self.dtype), format_values(row.keras, self.dtype)] \
                    if show else ["", ""]
        status = "PASSED" if self.passed else "FAILED"
        if self.known_differences:
            status += f", {len(self.known_differences)} rows differ by a known difference (see note)"
        out = [f"compare.{self.what} — refnn vs keras, {self.dtype}: {status} "
               f"(max relative difference {self.max_rel:.3e})"]
        out += [f"  note: {n}" for n in self.notes]
        out.append(format_table(header, body))
        if not self.passed:
            out.append(self.failure_message())
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()


@dataclass
class TrainingComparison(Comparison):
    """``Comparison`` plus both histories (``{key: [per-epoch values]}``), the epochs run, and
    ``keras_callbacks``: the Keras callbacks Keras's ``fit`` ran (e.g. ``keras.callbacks.EarlyStopping``,
    whose ``best_epoch`` and ``stopped_epoch`` say where Keras itself stopped), in the order given."""

    refnn_history: dict = field(default_factory=dict)
    keras_history: dict = field(default_factory=dict)
    refnn_epochs: int = 0
    keras_epochs: int = 0
    keras_callbacks: list = field(default_factory=list)

"""One checked quantity — the student's array against its references — and what is wrong with it.

A ``Row`` holds the student's value of one quantity (``dB`` of a Dense layer, the first Adam step,
...) and the same quantity from up to three references: central finite differences of the student's
own forward pass (``"finite differences"``), refnn and TensorFlow/Keras. Each reference has its
threshold; the row passes when every available reference agrees within its own.

Agreement is refnn's one number per tensor (``refnn.utils.tolerance.relative_error``)::

    rel. error = max|yours − reference| / max|reference|

CS231n's gradient check divides entry by entry, ``|a − b| / max(|a|, |b|)``; with that, a bias
gradient entry that is zero up to cancellation, or a finite-difference estimate of a tiny entry,
would fail a correct answer. Scaling by the reference tensor's largest entry keeps the test
meaningful for every entry.

When a row fails, ``diagnose`` names the mistake, trying in turn: NaN or inf; a known mistake of
that quantity (the diagonal softmax shortcut, Adam without bias correction, ...); a wrong shape
(an extra axis of length 1, transposed or not); a reference that is zero everywhere; the
reference's transpose; a constant multiple (``0.5×``, a sign flip, read against the batch size N
and the width D: ``5× (= N: a missing 1/N?)``); else the worst entry. Values computed in float32 or
float16 are named as such first: their rounding (≈ 1e-7) is above the float64 thresholds.
"""

from __future__ import annotations

import math
import os
import sys
import traceback
from dataclasses import dataclass, field

import numpy as np

from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL, TOLERANCES, relative_error

__all__ = ["REFERENCES", "StudentError", "Mistake", "Row", "attempt", "call_method", "as_array", "thresholds",
           "diagnose", "source_of", "shape_readings", "error_text", "significant_digits", "format_value"]

#: the references of a row, in the table's order
REFERENCES = ("finite differences", "refnn", "Keras")
#: the reference a failure is described against (always available: refnn needs NumPy only)
PRIMARY = "refnn"
#: the dtypes whose rounding alone fails the float64 thresholds: ``as_array`` keeps them, ``Row`` names them
LOW_PRECISION = ("float16", "float32")
#: the checker's own files: a traceback is located at the last frame outside them
_CHECKER = os.path.dirname(os.path.abspath(__file__))


def thresholds(kind: str, references) -> dict[str, float]:
    """The threshold of each reference in ``references`` for a quantity of ``kind`` —
    ``"forward"`` (outputs, loss values), ``"gradients"`` or ``"optimizer"`` (steps).

    Finite differences: ``FINITE_DIFFERENCE_RTOL`` (1e-6: central differences with h = 1e-6 carry
    an O(h²) truncation error and the rounding of E over 2h, ~1e-8 … 1e-9). refnn and Keras: the
    float64 contract of ``TOLERANCES`` (1e-12 forward, 1e-10 gradients and optimizer steps) —
    the same formula computed in another order differs by rounding only.
    """
    return {name: FINITE_DIFFERENCE_RTOL if name == "finite differences" else TOLERANCES[kind]["float64"]
            for name in references}


@dataclass(frozen=True)
class StudentError:
    """The student's code did not produce a value: ``kind`` is ``"TODO"`` (``NotImplementedError``)
    or ``"error"`` (any other exception, a missing attribute, ``None`` returned)."""

    kind: str
    message: str


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer to a quantity, and what it says about the code, completing the sentence
    "``<quantity>`` …" (e.g. ``"is missing the bias correction …"``)."""

    value: np.ndarray
    description: str


def source_of(cls) -> str | None:
    """The file that defines ``cls`` (the student's), or ``None`` (a module built in memory)."""
    return getattr(sys.modules.get(getattr(cls, "__module__", None)), "__file__", None)


def attempt(owner: str, method: str, call, *args, source: str | None = None, calls: str = ""):
    """``call(*args)``, or the ``StudentError`` that says why it gave nothing.

    ``owner`` and ``method`` name the student's code in the message (``"Dense.backward"``). An
    error is located at its last traceback frame in ``source`` (the student's file); when none is
    there — the checker's call itself failed, a wrong signature — the message says how the checker
    calls it, ``calls`` (``"Dense(W, B)"``).
    """
    try:
        return call(*args)
    except NotImplementedError as exc:
        return StudentError("TODO", f"{owner}.{method} is not implemented yet ({exc})")
    except Exception as exc:  # noqa: BLE001 — any failure of the student's code is reported, not raised
        return StudentError("error", f"{owner}.{method} raised {type(exc).__name__}: {exc} "
                                     f"({_where(exc, source, calls)})")


def _where(exc: BaseException, source: str | None, calls: str) -> str:
    """``"dense.py, line 31"``: the student's last frame; else ``"the checker calls …"``."""
    frames = traceback.extract_tb(exc.__traceback__)
    if source is not None:
        theirs = [f for f in frames if os.path.abspath(f.filename) == os.path.abspath(source)]
    else:
        theirs = [f for f in frames if not os.path.abspath(f.filename).startswith(_CHECKER + os.sep)]
    if theirs:
        return f"{os.path.basename(theirs[-1].filename)}, line {theirs[-1].lineno}"
    if calls:
        return f"the checker calls {calls}"
    return f"{os.path.basename(frames[-1].filename)}, line {frames[-1].lineno}"


def call_method(owner: str, obj, method: str, *args, source: str | None = None, calls: str = ""):
    """``obj.method(*args)`` through ``attempt``; a missing method is a ``StudentError`` too."""
    bound = getattr(obj, method, None)
    if not callable(bound):
        return StudentError("error", f"{owner} has no method {method}()")
    return attempt(owner, method, bound, *args, source=source, calls=calls)


def as_array(owner: str, what: str, value):
    """The student's ``value`` as a float64 array — kept in its own dtype when that is float32 or
    float16, for ``Row`` to say so — or the ``StudentError`` that says why not."""
    if isinstance(value, StudentError):
        return value
    if value is None:
        return StudentError("error", f"{owner} gave None for {what}: a missing `return` or attribute?")
    try:
        array = np.asarray(value)
        return array if array.dtype.name in LOW_PRECISION else np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return StudentError("error", f"{owner} gave a {type(value).__name__} for {what}, not an array of numbers")


def _float64(value):
    return value if isinstance(value, StudentError) else np.asarray(value, dtype=np.float64)


def _precision(value) -> str:
    """``"float32"`` or ``"float16"`` when ``value`` is an array of that dtype, else ``""``."""
    dtype = getattr(value, "dtype", None)
    return dtype.name if dtype is not None and dtype.name in LOW_PRECISION else ""


def shape_readings(n: int, d: int | None = None, square: bool = False) -> tuple[tuple[float, str], ...]:
    """What a constant ratio ``c`` between the student's array and the reference says when it is
    tied to the batch size ``n``, the width ``d`` or the square of a squared error: ``((c, reading), …)``,
    the first match wins (the checker's data have distinct N and D)."""
    readings = [(n, "= N: a missing 1/N?"), (1 / n, "= 1/N: a mean where a sum belongs?")]
    if d is not None:
        readings += [(d, "= D: a missing 1/D?"), (1 / d, "= 1/D: a mean over D where a sum belongs?"),
                     (n * d, "= N·D: a sum where the mean belongs?"),
                     (1 / (n * d), "= 1/(N·D): divided by N·D twice?")]
    if square:
        readings += [(2, "= 2: the factor 2 of the square, twice?"), (0.5, "= 1/2: the factor 2 of the square?")]
    return tuple(readings)


@dataclass
class Row:
    """One quantity: the student's value against each available reference.

    Attributes:
        piece, quantity: the class and the quantity, as the table names them.
        mine: the student's array (compared in float64), or the ``StudentError`` that replaced it.
        references: ``{reference name: array}`` (a reference that was not computed is absent).
        thresholds: ``{reference name: largest relative error that passes}``.
        mistakes: known wrong answers, tried first by ``diagnose``.
        mine_for: the student's array for one reference where it comes from another run (Adam with
            ε = 0 for Keras, see ``training_pieces``).
        readings: ``shape_readings`` of the piece, for a constant ratio (``"= N: a missing 1/N?"``).
        forward_precision: ``"float32"``/``"float16"`` when the student's forward output was, so that
            finite differences of it are rounding noise.
        precision: the same for the student's own values (found from ``mine``).
    """

    piece: str
    quantity: str
    mine: object
    references: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)
    mistakes: tuple = ()
    mine_for: dict = field(default_factory=dict)
    readings: tuple = ()
    forward_precision: str = ""
    precision: str = field(init=False, default="")

    def __post_init__(self):
        self.precision = _precision(self.mine) or next(filter(None, map(_precision, self.mine_for.values())), "")
        self.mine = _float64(self.mine)
        self.mine_for = {name: _float64(value) for name, value in self.mine_for.items()}

    def errors(self) -> dict[str, float]:
        """``{reference: relative error}``; a shape mismatch or a missing run counts as ``inf``."""
        out = {}
        for name, reference in self.references.items():
            mine = self.mine_for.get(name, self.mine)
            if isinstance(mine, StudentError) or np.shape(mine) != np.shape(reference):
                out[name] = float("inf")
            else:
                out[name] = relative_error(mine, reference)
        return out

    @property
    def status(self) -> str:
        """``"pass"``, ``"FAIL"``, ``"TODO"`` or ``"error"``."""
        if isinstance(self.mine, StudentError):
            return self.mine.kind
        errors = self.errors()
        return "pass" if all(errors[n] <= self.thresholds[n] for n in errors) else "FAIL"

    def binding(self) -> str:
        """The reference whose error is largest against its threshold (the one that fails first);
        refnn where several tie, as the headline describes the row against refnn."""
        errors = self.errors()
        ratios = {n: math.inf if math.isnan(errors[n]) else errors[n] / self.thresholds[n] for n in errors}
        top = max(ratios.values())
        # refnn and Keras differ by rounding (~1e-16): their errors tie to far better than 1e-6
        tied = [n for n in REFERENCES if n in ratios and ratios[n] >= top * (1 - 1e-6)]
        return PRIMARY if PRIMARY in tied else tied[0]

    def message(self) -> str:
        """The sentence the report opens with when this row is the first that does not pass."""
        if isinstance(self.mine, StudentError):
            return self.mine.message
        errors = self.errors()
        failing = [name for name in REFERENCES if name in errors and errors[name] > self.thresholds[name]]
        name = PRIMARY if PRIMARY in failing else failing[0]
        mine = self.mine_for.get(name, self.mine)
        if isinstance(mine, StudentError):  # the second run (Adam with ε = 0) failed
            return mine.message
        rounding = self._rounding_message(name, errors)
        if rounding:
            return rounding
        what = diagnose(mine, self.references[name], self.mistakes, self.thresholds[name], self.readings)
        against = "" if name == PRIMARY else f" (against {name})"
        if name in self.mine_for:
            against = f" (against {name}, with your run at ε = 0)"
        elif name == "finite differences" and not np.any(self.references[name]):
            against = " (against finite differences of your forward: it does not change with this input)"
        precision = self.precision or self.forward_precision
        also = f"; and your values are {precision}: compute in float64" if precision else ""
        return f"{self.piece}: {self.quantity} {what}{against}{also}"

    def _rounding_message(self, name: str, errors: dict) -> str | None:
        """The headline for float32/float16 work whose only fault is its rounding: the error against
        refnn is within √ε of that dtype (a real mistake is far larger)."""
        precision = self.precision or self.forward_precision
        if not precision:
            return None
        eps = float(np.finfo(precision).eps)
        if errors.get(PRIMARY, math.inf) > math.sqrt(eps):
            return None
        rounding = f"{precision} rounding ≈ {_power_of_ten(eps)}"
        if self.precision and name != "finite differences":
            return (f"{self.piece}: your values are {precision} ({self.quantity}); compute in float64 "
                    f"({rounding} is above the {self.thresholds[name]:.0e} threshold)")
        return (f"{self.piece}: your forward output is {precision}, so finite differences of it for {self.quantity} "
                f"are rounding noise ({rounding}, divided by h = 1e-6); compute in float64")


def _power_of_ten(x: float) -> str:
    """``1.19e-07`` → ``"1e-7"``."""
    return f"1e{math.floor(math.log10(x) + 0.5)}"


def significant_digits(first: float, *others: float) -> int:
    """The fewest significant digits, from 6 up to 17, at which ``first`` prints differently from each
    of ``others`` that differs from it (17 always tells two float64 numbers apart)."""
    differing = [v for v in others if v != first and math.isfinite(v) and math.isfinite(first)]
    return next((d for d in range(6, 17) if all(f"{first:.{d}g}" != f"{v:.{d}g}" for v in differing)), 17)


def format_value(value: float, digits: int = 6) -> str:
    """``value`` to ``digits`` significant digits; beyond 6 with its trailing zeros, so that numbers
    printed to the same digits line up (``-0.2026759`` against ``-0.2026760``)."""
    return f"{value:.{digits}g}" if digits <= 6 else f"{value:#.{digits}g}"


def error_text(mine: np.ndarray, reference: np.ndarray) -> str:
    """The relative error as the table prints it; against a reference that is zero everywhere (where
    ``relative_error`` would divide by 1e-300) the absolute one: ``"abs 2.4 (reference is 0)"``."""
    error = relative_error(mine, reference)
    if error and np.size(reference) and not np.any(reference):
        return f"abs {float(np.max(np.abs(mine))):.2g} (reference is 0)"
    return f"{error:.1e}"


def diagnose(mine: np.ndarray, reference: np.ndarray, mistakes=(), threshold: float = 1e-10, readings=()) -> str:
    """What is wrong with ``mine``, as the end of a sentence ("is 0.5× the reference").

    ``readings``: ``shape_readings`` of the piece, appended to a constant ratio they match.
    """
    mine, reference = np.asarray(mine, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if not np.all(np.isfinite(mine)):
        bad = int(np.sum(~np.isfinite(mine)))
        kind = "NaN" if np.any(np.isnan(mine)) else "inf"
        return f"contains {kind} ({bad} of {mine.size} entries are not finite)"
    for mistake in mistakes:
        if mine.shape == np.shape(mistake.value) and relative_error(mine, mistake.value) <= threshold:
            return mistake.description
    if mine.shape != reference.shape:
        return _wrong_shape(mine, reference, threshold, mistakes, readings)
    if not np.any(reference):
        at = np.unravel_index(int(np.argmax(np.abs(mine))), mine.shape) if mine.ndim else ()
        return (f"is not zero where the reference is zero everywhere: worst entry {list(map(int, at))} is "
                f"{mine[at]:.6g} (a relative error is undefined; the absolute one is {np.max(np.abs(mine)):.2g})")
    if mine.ndim == 2 and mine.shape[0] == mine.shape[1] > 1 and relative_error(mine.T, reference) <= threshold:
        return "is transposed: it equals the reference's transpose"
    return _multiple(mine, reference, threshold, readings) or _worst_entry(mine, reference, threshold)


def _wrong_shape(mine: np.ndarray, reference: np.ndarray, threshold: float, mistakes, readings) -> str:
    shapes = f"shape {mine.shape} instead of {reference.shape}"
    if mine.shape in ((1, *reference.shape), (*reference.shape, 1)):
        squeezed = mine.reshape(reference.shape)
        extra = f"has an extra axis of length 1 (keepdims=True?): {shapes}"
        if relative_error(squeezed, reference) <= threshold:
            return f"{extra}; the values are right"
        return f"{extra}, and without it {diagnose(squeezed, reference, mistakes, threshold, readings)}"
    if mine.ndim == 2 and mine.shape == reference.shape[::-1]:
        if relative_error(mine.T, reference) <= threshold:
            return f"is transposed: {shapes}"
        return f"has the transposed {shapes}"
    if mine.shape[1:] == reference.shape:
        return f"has {shapes}: one row per sample, where the batch axis should be reduced (Σ_n or mean)"
    return f"has the wrong {shapes}"


def _multiple(mine: np.ndarray, reference: np.ndarray, threshold: float, readings=()) -> str | None:
    """``"is c× the reference"`` when ``mine = c·reference`` for one constant ``c``, with the reading of
    ``c`` when it is one of ``readings`` (``"is 5× the reference (= N: a missing 1/N?)"``)."""
    norm = float(np.vdot(reference, reference))
    if norm == 0.0:
        return None
    c = float(np.vdot(mine, reference)) / norm  # the least-squares constant
    if relative_error(mine, c * reference) > threshold or abs(c - 1.0) <= threshold:
        return None
    if abs(c) <= threshold:
        return "is zero everywhere"
    if abs(c + 1.0) <= threshold:
        return "has the wrong sign: it is −1× the reference"
    reading = next((text for value, text in readings if math.isclose(c, value, rel_tol=1e-6)), None)
    return f"is {c:.4g}× the reference" + (f" ({reading})" if reading else "")


def _worst_entry(mine: np.ndarray, reference: np.ndarray, threshold: float) -> str:
    error = relative_error(mine, reference)
    index = np.unravel_index(int(np.argmax(np.abs(mine - reference))), mine.shape) if mine.ndim else ()
    yours, theirs = float(mine[index]), float(reference[index])
    digits = significant_digits(yours, theirs)
    values = f"{format_value(yours, digits)}, the reference {format_value(theirs, digits)}"
    if mine.ndim == 0:
        return f"is {values} (relative error {error:.1e} > {threshold:.0e})"
    return (f"differs from the reference: worst entry {list(map(int, index))} is {values} "
            f"(relative error {error:.1e} > {threshold:.0e})")

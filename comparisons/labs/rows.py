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
(transposed or not); the reference's transpose; a constant multiple (``0.5×``, a sign flip);
else the worst entry.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field

import numpy as np

from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL, TOLERANCES, relative_error

__all__ = ["REFERENCES", "StudentError", "Mistake", "Row", "attempt", "call_method", "as_array", "thresholds",
           "diagnose"]

#: the references of a row, in the table's order
REFERENCES = ("finite differences", "refnn", "Keras")
#: the reference a failure is described against (always available: refnn needs NumPy only)
PRIMARY = "refnn"


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


def attempt(owner: str, method: str, call, *args):
    """``call(*args)``, or the ``StudentError`` that says why it gave nothing.

    ``owner`` and ``method`` name the student's code in the message (``"Dense.backward"``).
    """
    try:
        return call(*args)
    except NotImplementedError as exc:
        return StudentError("TODO", f"{owner}.{method} is not implemented yet ({exc})")
    except Exception as exc:  # noqa: BLE001 — any failure of the student's code is reported, not raised
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{frame.filename.rsplit('/', 1)[-1]}, line {frame.lineno}"
        return StudentError("error", f"{owner}.{method} raised {type(exc).__name__}: {exc} ({where})")


def call_method(owner: str, obj, method: str, *args):
    """``obj.method(*args)`` through ``attempt``; a missing method is a ``StudentError`` too."""
    bound = getattr(obj, method, None)
    if not callable(bound):
        return StudentError("error", f"{owner} has no method {method}()")
    return attempt(owner, method, bound, *args)


def as_array(owner: str, what: str, value):
    """The student's ``value`` as a float64 array, or the ``StudentError`` that says why not."""
    if isinstance(value, StudentError):
        return value
    if value is None:
        return StudentError("error", f"{owner} gave None for {what}: a missing `return` or attribute?")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return StudentError("error", f"{owner} gave a {type(value).__name__} for {what}, not an array of numbers")


@dataclass
class Row:
    """One quantity: the student's value against each available reference.

    Attributes:
        piece, quantity: the class and the quantity, as the table names them.
        mine: the student's array, or the ``StudentError`` that replaced it.
        references: ``{reference name: array}`` (a reference that was not computed is absent).
        thresholds: ``{reference name: largest relative error that passes}``.
        mistakes: known wrong answers, tried first by ``diagnose``.
        mine_for: the student's array for one reference where it comes from another run (Adam with
            ε = 0 for Keras, see ``training_pieces``).
    """

    piece: str
    quantity: str
    mine: object
    references: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)
    mistakes: tuple = ()
    mine_for: dict = field(default_factory=dict)

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
        """The reference whose error is largest against its threshold (the one that fails first)."""
        errors = self.errors()
        return max(errors, key=lambda n: errors[n] / self.thresholds[n])

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
        what = diagnose(mine, self.references[name], self.mistakes, self.thresholds[name])
        against = "" if name == PRIMARY else f" (against {name})"
        return f"{self.piece}: {self.quantity} {what}{against}"


def diagnose(mine: np.ndarray, reference: np.ndarray, mistakes=(), threshold: float = 1e-10) -> str:
    """What is wrong with ``mine``, as the end of a sentence ("is 0.5× the reference")."""
    mine, reference = np.asarray(mine, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if not np.all(np.isfinite(mine)):
        bad = int(np.sum(~np.isfinite(mine)))
        kind = "NaN" if np.any(np.isnan(mine)) else "inf"
        return f"contains {kind} ({bad} of {mine.size} entries are not finite)"
    for mistake in mistakes:
        if mine.shape == np.shape(mistake.value) and relative_error(mine, mistake.value) <= threshold:
            return mistake.description
    if mine.shape != reference.shape:
        return _wrong_shape(mine, reference, threshold)
    if mine.ndim == 2 and mine.shape[0] == mine.shape[1] > 1 and relative_error(mine.T, reference) <= threshold:
        return "is transposed: it equals the reference's transpose"
    return _multiple(mine, reference, threshold) or _worst_entry(mine, reference, threshold)


def _wrong_shape(mine: np.ndarray, reference: np.ndarray, threshold: float) -> str:
    shapes = f"shape {mine.shape} instead of {reference.shape}"
    if mine.ndim == 2 and mine.shape == reference.shape[::-1]:
        if relative_error(mine.T, reference) <= threshold:
            return f"is transposed: {shapes}"
        return f"has the transposed {shapes}"
    if mine.shape[1:] == reference.shape:
        return f"has {shapes}: one row per sample, where the batch axis should be reduced (Σ_n or mean)"
    return f"has the wrong {shapes}"


def _multiple(mine: np.ndarray, reference: np.ndarray, threshold: float) -> str | None:
    """``"is c× the reference"`` when ``mine = c·reference`` for one constant ``c``."""
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
    return f"is {c:.4g}× the reference"


def _worst_entry(mine: np.ndarray, reference: np.ndarray, threshold: float) -> str:
    error = relative_error(mine, reference)
    if mine.ndim == 0:
        return (f"is {float(mine):.6g}, the reference {float(reference):.6g} "
                f"(relative error {error:.1e} > {threshold:.0e})")
    index = np.unravel_index(int(np.argmax(np.abs(mine - reference))), mine.shape)
    at = list(map(int, index))
    return (f"differs from the reference: worst entry {at} is {mine[index]:.6g}, the reference "
            f"{reference[index]:.6g} (relative error {error:.1e} > {threshold:.0e})")

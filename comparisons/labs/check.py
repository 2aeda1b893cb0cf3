"""``refnn-compare check FILE``: a student's lab file against finite differences, refnn and Keras.

The checker imports ``FILE``, finds the lab's classes it defines (``Dense``, ``Sigmoid``, ``Tanh``,
``Softmax``, ``MeanSquaredError``, ``CategoricalCrossentropy``, ``SGD``, ``Adam``: the names of
the skeletons in ``comparisons/labs/skeletons/``) and checks every quantity of each — outputs,
gradients, optimizer steps — against

* ``numeric``: central finite differences of the student's own forward pass or loss value,
  ``(E(w + h) − E(w − h)) / 2h`` with h = 1e-6 in float64 (gradients only);
* ``refnn``: the reference implementation (NumPy);
* ``Keras``: TensorFlow/Keras computing the same quantity live (``tf.GradientTape``, Keras's
  optimizers), float64. Off with ``--no-keras`` / ``keras=False``: then TensorFlow is not needed.

It prints one line naming the first quantity that does not pass and what is wrong with it
("Dense: bias gradient dB is 0.5× the reference", "is transposed", "is missing the bias
correction", "is not implemented yet", ...; see ``comparisons.labs.rows``), then one table, in the
manner of CS231n's gradient checks: per quantity, the student's value,
the numeric one, refnn's and Keras's at the entry where the student's is furthest from refnn's, the
relative error ``max|yours − reference| / max|reference|`` against the reference closest to its
threshold, that threshold, and pass or FAIL.

From Python: ``check("dense.py")`` returns a ``LabReport`` (``.passed``, ``.rows``, ``str()`` is the
printed text).

Exit status: 0 when every quantity passes, 1 when one does not (wrong, not implemented yet, or
raising), or when the file cannot be imported; 2 for a usage error (no such file, a file defining
none of the lab's classes) or a missing TensorFlow without ``--no-keras``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import textwrap
import traceback
import types
from dataclasses import dataclass, field

import numpy as np

from comparisons.labs.layer_pieces import DENSE_SHAPE, activation_rows, dense_rows
from comparisons.labs.rows import PRIMARY, REFERENCES, Row, StudentError, error_text, format_value, significant_digits
from comparisons.labs.training_pieces import loss_rows, optimizer_rows
from refnn.utils.text import format_table
from refnn.utils.validation import check_non_negative_int, check_positive_int

__all__ = ["PIECES", "LabImportError", "LabReport", "load", "check", "build_parser", "main"]

#: the lab's classes, in the order they are checked, and the function that checks each
PIECES = {
    "Dense": dense_rows,
    "Sigmoid": activation_rows,
    "Tanh": activation_rows,
    "Softmax": activation_rows,
    "MeanSquaredError": loss_rows,
    "CategoricalCrossentropy": loss_rows,
    "SGD": optimizer_rows,
    "Adam": optimizer_rows,
}

#: what a reader of the table needs to know about a piece's references
NOTES = {
    "CategoricalCrossentropy": "CategoricalCrossentropy is checked on logits Z, as Keras computes it for a "
                               "softmax output (CategoricalCrossentropy(from_logits=True)).",
    "SGD": "SGD: Keras keeps the velocity m ← μm − lr'·g; with lr' = lr·(1 − μ) it takes exactly the steps of "
           "the moving average V ← μV + (1 − μ)g, W ← W − lr·V (m = −lr·V). μ = float32(0.9), as Keras rounds it.",
    "Adam": "Adam: Keras adds ε to √v, Algorithm 1 to √v̂; the Keras column, marked (ε = 0 run), holds Keras's "
            "steps with ε = 0 and is compared with a second run of your Adam with ε set to 0 (not the yours "
            "column), where both are the same formula. β₁, β₂ = float32(0.9), float32(0.999), as Keras rounds them.",
}

SHORT = {"finite differences": "numeric", "refnn": "refnn", "Keras": "Keras"}
LEGEND = ("rel. error = max|yours − reference| / max|reference|, against the reference (vs) closest to its "
          "threshold;\nvalues at the entry where yours is furthest from refnn. Thresholds: numeric (central "
          "differences,\nh = 1e-6, float64) 1e-6; refnn and Keras 1e-12 for outputs and loss values, 1e-10 for "
          "gradients and steps.")


class LabImportError(Exception):
    """The student's file raised while it was imported (a syntax error, a failing import, ...)."""


def load(path) -> types.ModuleType:
    """Import the Python file at ``path`` as a module named after it (``refnn_lab_<stem>``).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not a ``.py`` file.
        LabImportError: the file raised while it was imported.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"`path` must be an existing Python file. Received: path={path!r}")
    if not path.endswith(".py"):
        raise ValueError(f"`path` must be a Python file ending in .py. Received: path={path!r}")
    stem = os.path.splitext(os.path.basename(path))[0]
    name = "refnn_lab_" + re.sub(r"\W", "_", stem)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a dataclass or pickle in the student's file looks itself up there
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)  # as `python FILE` would: the file may import its siblings
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 — whatever the file raises (even exit()) is reported
        del sys.modules[name]
        line = next((f", line {f.lineno}" for f in reversed(traceback.extract_tb(exc.__traceback__))
                     if os.path.abspath(f.filename) == os.path.abspath(path)), "")
        line = f", line {exc.lineno}" if isinstance(exc, SyntaxError) else line
        raise LabImportError(f"{path}{line} could not be imported: {type(exc).__name__}: {exc}") from exc
    finally:
        if folder in sys.path:
            sys.path.remove(folder)  # the first occurrence: the one inserted above
    return module


@dataclass
class LabReport:
    """The rows of every class checked, and how to print them."""

    source: str
    pieces: list[str]
    rows: list[Row]
    keras: bool
    seed: int
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """``True`` when every quantity passes against every reference (the exit status 0)."""
        return all(row.status == "pass" for row in self.rows)

    @property
    def first_problem(self) -> Row | None:
        """The first row that does not pass, in the table's order."""
        return next((row for row in self.rows if row.status != "pass"), None)

    def headline(self) -> str:
        """``PASS …``, or the first problem: ``FAIL  Dense: bias gradient dB is 0.5× the reference``."""
        row = self.first_problem
        if row is None:
            used = [name for name in REFERENCES if any(name in r.references for r in self.rows)]
            against = ", ".join(used[:-1]) + f" and {used[-1]}" if len(used) > 1 else used[0]
            return (f"PASS  all {len(self.rows)} quantities of {', '.join(self.pieces)} agree with {against}"
                    + ("" if self.keras else " (Keras not run)"))
        return f"{row.status.upper():<5} {row.message()}"

    def counts(self) -> str:
        """``"3 of 4 quantities pass; 1 wrong"``."""
        statuses = [row.status for row in self.rows]
        parts = [f"{statuses.count(s)} {word}" for s, word in
                 (("FAIL", "wrong"), ("TODO", "not implemented yet"), ("error", "raising an error")) if s in statuses]
        passing = f"{statuses.count('pass')} of {len(statuses)} quantities pass"
        return passing + (f"; {', '.join(parts)}" if parts else "")

    def table(self) -> str:
        """The table of every row: the values at the worst entry, the binding error, its threshold
        and the result (see the module docstring)."""
        headers = ["piece", "quantity", "entry", "yours", *(SHORT[r] for r in REFERENCES), "rel. error", "vs",
                   "threshold", "result"]
        return format_table(headers, [_cells(row) for row in self.rows])

    def __str__(self) -> str:
        notes = [textwrap.fill(note, 104) for note in self.notes]
        closing = f"{self.source} (seed {self.seed}): {self.counts()}."
        return "\n\n".join([self.headline(), self.table(), LEGEND, *notes, closing])


def _cells(row: Row) -> list[str]:
    """One line of the table: the values at the worst entry, the binding error and the result."""
    if isinstance(row.mine, StudentError):
        return [row.piece, row.quantity, "—", row.status, "—", "—", "—", "—", "—", "—", row.status]
    primary = row.references[PRIMARY]
    mine = np.asarray(row.mine)
    if mine.shape != primary.shape:
        values = [f"shape {mine.shape}", *(f"shape {np.shape(row.references[r])}" if r in row.references else "—"
                                           for r in REFERENCES)]
        index = "—"
    else:
        at = np.unravel_index(int(np.argmax(np.abs(mine - primary))), mine.shape) if mine.ndim else ()
        index = str(list(map(int, at)))
        shown = [float(row.references[r][at]) for r in REFERENCES if r in row.references]
        # a failing value that prints like its reference at 6 digits gets the digits that tell them apart
        digits = significant_digits(float(mine[at]), *shown) if row.status == "FAIL" else 6
        values = [format_value(float(mine[at]), digits), *(_reference_cell(row, r, at, digits) for r in REFERENCES)]
    name = row.binding()
    error = row.errors()[name]  # inf for a wrong shape or a failed run
    error = f"{error:.1e}" if np.isinf(error) else error_text(row.mine_for.get(name, row.mine), row.references[name])
    return [row.piece, row.quantity, index, *values, error, SHORT[name], f"{row.thresholds[name]:.0e}", row.status]


def _reference_cell(row: Row, name: str, at: tuple, digits: int) -> str:
    """A reference's value at ``at``; ``(ε = 0 run)`` where it is compared with another run of yours."""
    if name not in row.references:
        return "—"
    return format_value(float(row.references[name][at]), digits) + (" (ε = 0 run)" if name in row.mine_for else "")


def check(path_or_module, *, seed: int = 0, keras: bool = True, dense_shape=DENSE_SHAPE) -> LabReport:
    """Check every lab class that ``path_or_module`` defines.

    Args:
        path_or_module: a ``.py`` file (``str`` or path) or an imported module.
        seed: seed of the random inputs, weights, targets and gradients (the same seed, the same
            numbers).
        keras: compute the Keras column (needs TensorFlow).
        dense_shape: ``(batch, inputs, units)`` of the Dense layer checked.

    Raises:
        FileNotFoundError, ValueError: no such file, or none of the lab's classes in it.
        LabImportError: the file raised while it was imported.
        ModuleNotFoundError: ``keras=True`` without TensorFlow.
    """
    seed = check_non_negative_int("seed", seed)
    try:
        shape = tuple(check_positive_int("dense_shape", n) for n in dense_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 3:
        raise ValueError(f"`dense_shape` must be (batch, inputs, units), three positive integers. Received: "
                         f"dense_shape={dense_shape!r}")
    module = path_or_module if isinstance(path_or_module, types.ModuleType) else load(path_or_module)
    if keras and importlib.util.find_spec("tensorflow") is None:
        raise ModuleNotFoundError("The Keras column needs TensorFlow (pip install -e \".[keras]\"); "
                                  "check(..., keras=False) or --no-keras runs without it.", name="tensorflow")
    source = getattr(module, "__file__", None) or module.__name__
    pieces = [name for name in PIECES if isinstance(getattr(module, name, None), type)]
    if not pieces:
        defined = sorted(n for n, v in vars(module).items() if isinstance(v, type) and not n.startswith("_"))
        raise ValueError(f"`path` defines none of the lab's classes ({', '.join(PIECES)}). Received: "
                         f"path={source!r}, which defines {', '.join(defined) or 'no classes'}")
    rows = []
    for name in pieces:
        extra = {"shape": shape} if name == "Dense" else {}
        rows += PIECES[name](getattr(module, name), seed, keras, **extra)
    notes = [NOTES[name] for name in pieces if name in NOTES]
    return LabReport(os.path.basename(source), pieces, rows, keras, seed, notes)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``refnn-compare check FILE [--seed N] [--no-keras]``."""
    from comparisons.labs import SKELETONS

    parser = argparse.ArgumentParser(
        prog="refnn-compare check",
        description="Check a lab file — your Dense, activations, losses or optimizers — against finite "
                    "differences, refnn and TensorFlow/Keras.",
        epilog=f"Skeletons to fill in: {SKELETONS} (copy one with `python -m comparisons.labs copy dense.py`).")
    parser.add_argument("file", metavar="FILE", help="your lab file, e.g. dense.py")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random test data (default 0)")
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras column (no TensorFlow needed)")
    return parser


def main(argv=None, stream=None) -> int:
    """Run the command; returns the exit status (see the module docstring)."""
    stream = sys.stdout if stream is None else stream
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits: 0 for --help, 2 for a usage error
        return int(exc.code or 0)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        report = check(args.file, seed=args.seed, keras=not args.no_keras)
    except ModuleNotFoundError as exc:
        if exc.name not in ("tensorflow", "keras"):
            raise
        sys.stderr.write(f"refnn-compare check: {exc}\n")
        return 2
    except (FileNotFoundError, ValueError) as exc:
        sys.stderr.write(f"refnn-compare check: {exc}\n")
        return 2
    except LabImportError as exc:
        stream.write(f"ERROR {exc}\n")
        return 1
    stream.write(f"{report}\n")
    return 0 if report.passed else 1

"""The lab kit's checker names what a student got wrong — beyond the planted bugs of
``test_labs_numeric.py``: float32 work, hard-coded hyper-parameters, an extra axis, a constructor's
error, a zero reference, more known mistakes, ratios read against the batch and output sizes, the
Keras column of Adam, ties, sibling imports, copying (NumPy only: ``keras=False``)."""

from __future__ import annotations

import os
import sys
import textwrap

import numpy as np
import pytest

from comparisons.labs import __main__ as labs_main
from comparisons.labs import check as lab_check
from comparisons.labs.check import LabImportError, LabReport, build_parser, check, load
from comparisons.labs.rows import Row, diagnose, shape_readings, thresholds

from .test_labs_numeric import SOLUTIONS, planted


def written(tmp_path, source: str, name: str = "mine.py") -> str:
    """``source`` (dedented) written to ``tmp_path / name``."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return str(path)


FLOAT32_DENSE = """
    import numpy as np

    class Dense:
        def __init__(self, W, B):
            self.W, self.B = np.asarray(W, np.float32), np.asarray(B, np.float32)

        def forward(self, X):
            self.X = np.asarray(X, np.float32)
            return self.X @ self.W + self.B

        def backward(self, dY):
            dY = np.asarray(dY, np.float32)
            self.dW = self.X.T @ dY
            self.dB = dY.sum(axis=0)
            return dY @ self.W.T
"""


def test_a_correct_float32_dense_is_told_to_compute_in_float64(tmp_path):
    report = check(written(tmp_path, FLOAT32_DENSE), keras=False)
    assert report.headline() == ("FAIL  Dense: your values are float32 (output Y); compute in float64 (float32 "
                                 "rounding ≈ 1e-7 is above the 1e-12 threshold)")
    assert all(row.precision == "float32" for row in report.rows)
    cells = lab_check._cells(report.rows[0])
    yours, refnn = cells[3], cells[5]
    assert yours != refnn and len(yours) == len(refnn) > len("-0.202676")  # at 6 digits both print -0.202676
    assert yours in report.table()


def test_a_float32_forward_is_named_for_the_finite_differences_of_a_float64_gradient(tmp_path):
    source = FLOAT32_DENSE.replace("dY = np.asarray(dY, np.float32)", "dY = np.asarray(dY, np.float64)")
    kernel = check(written(tmp_path, source), keras=False).rows[1]
    assert kernel.precision == "" and kernel.forward_precision == "float32"
    assert kernel.message().startswith("Dense: your forward output is float32, so finite differences of it for "
                                       "kernel gradient dW are rounding noise")


def test_values_that_print_alike_get_the_digits_that_tell_them_apart():
    text = diagnose(np.array([1.0, 2.0 + 3e-9]), np.array([1.0, 2.0]), threshold=1e-12)
    assert text == ("differs from the reference: worst entry [1] is 2.000000003, the reference 2.000000000 "
                    "(relative error 1.5e-09 > 1e-12)")


def test_hard_coded_momentum_is_named(tmp_path):
    path = planted(tmp_path, "optimizers.py", ("V *= self.momentum", "V *= 0.9"),
                   ("V += (1.0 - self.momentum) * g", "V += (1.0 - 0.9) * g"))
    assert check(path, keras=False).headline() == (
        "FAIL  SGD: kernel steps ΔW (t = 1…5) uses 0.9 written in the code instead of the constructor's momentum — "
        "the checker passes float32(0.9) = 0.8999999762 as Keras does")


def test_hard_coded_adam_betas_are_named(tmp_path):
    path = planted(tmp_path, "optimizers.py",
                   ("self.beta_1 * m + (1.0 - self.beta_1) * g", "0.9 * m + (1.0 - 0.9) * g"),
                   ("self.beta_2 * v + (1.0 - self.beta_2) * g**2", "0.999 * v + (1.0 - 0.999) * g**2"),
                   ("m / (1.0 - self.beta_1**self.t)", "m / (1.0 - 0.9**self.t)"),
                   ("v / (1.0 - self.beta_2**self.t)", "v / (1.0 - 0.999**self.t)"))
    report = check(path, keras=False)
    assert [row.status for row in report.rows if row.piece == "SGD"] == ["pass"] * 4
    assert report.headline().endswith(
        "uses 0.9 and 0.999 written in the code instead of the constructor's beta_1 and beta_2 — the checker passes "
        "float32(0.9) = 0.8999999762 and float32(0.999) = 0.9990000129 as Keras does")


def test_a_bias_gradient_with_keepdims_is_an_extra_axis_not_a_batch_axis(tmp_path):
    kept = planted(tmp_path, "dense.py", ("self.dB = dY.sum(axis=0)", "self.dB = dY.sum(axis=0, keepdims=True)"))
    assert check(kept, keras=False).headline() == ("FAIL  Dense: bias gradient dB has an extra axis of length 1 "
                                                   "(keepdims=True?): shape (1, 3) instead of (3,); the values are "
                                                   "right")
    halved = planted(tmp_path, "dense.py", ("self.dB = dY.sum(axis=0)", "self.dB = 0.5 * dY.sum(axis=0)[:, None]"),
                     name="halved.py")
    assert check(halved, keras=False).headline().endswith(
        "has an extra axis of length 1 (keepdims=True?): shape (3, 1) instead of (3,), and without it is 0.5× the "
        "reference")


BAD_CONSTRUCTORS = """
    import numpy as np

    class Dense:
        def __init__(self, units):
            self.units = units

    class SGD:
        def __init__(self, lr=0.01, mu=0.9):
            self.lr, self.mu = lr, mu

    class Sigmoid:
        def __init__(self):
            self.slope = np.ones(3).reshape(2)
"""


def test_a_constructor_error_points_at_the_student_s_line_or_at_the_checker_s_call(tmp_path):
    path = written(tmp_path, BAD_CONSTRUCTORS)
    messages = {row.piece: row.message() for row in check(path, keras=False).rows}
    assert messages["Dense"].endswith("takes 2 positional arguments but 3 were given (the checker calls Dense(W, B))")
    assert messages["SGD"].endswith("unexpected keyword argument 'learning_rate' (the checker calls "
                                    "SGD(learning_rate=..., momentum=...))")
    line = textwrap.dedent(BAD_CONSTRUCTORS).splitlines().index("        self.slope = np.ones(3).reshape(2)") + 1
    assert messages["Sigmoid"].startswith("Sigmoid.__init__ raised ValueError: ")
    assert messages["Sigmoid"].endswith(f"(mine.py, line {line})")
    assert "rows.py" not in str(messages) and "training_pieces.py" not in str(messages)


def test_a_reference_that_is_zero_everywhere_is_shown_in_absolute_terms(tmp_path):
    path = planted(tmp_path, "dense.py", ("return self.X @ self.W + self.B", "return self.X @ self.W"))
    report = check(path, keras=False)
    bias = report.rows[2]
    assert bias.message() == ("Dense: bias gradient dB is not zero where the reference is zero everywhere: worst "
                              "entry [0] is 4.87799 (a relative error is undefined; the absolute one is 4.9) "
                              "(against finite differences of your forward: it does not change with this input)")
    line = next(line for line in report.table().splitlines() if "bias gradient" in line)
    assert "abs 4.9 (reference is 0)" in line and "e+300" not in report.table()


@pytest.mark.parametrize("solution, old, new, named", [
    ("losses.py", "return (E / E.sum(axis=1, keepdims=True) - np.asarray(y_true)) / Z.shape[0]",
     "return -np.asarray(y_true) / (E / E.sum(axis=1, keepdims=True)) / Z.shape[0]",
     "is ∂L/∂A = −y/(N·A), the gradient with respect to the probabilities A = softmax(Z); chain it through the "
     "softmax: ∂L/∂Z = (softmax(Z) − y)/N"),
    ("losses.py", "return (E / E.sum(axis=1, keepdims=True) - np.asarray(y_true)) / Z.shape[0]",
     "return -np.asarray(y_true) / (E / E.sum(axis=1, keepdims=True))",
     "is −y/A, the gradient with respect to the probabilities A = softmax(Z) (and without the 1/N"),
    ("optimizers.py", "(np.sqrt(v_hat) + self.epsilon)", "np.sqrt(v_hat + self.epsilon)",
     "adds ε inside the root, √(v̂ + ε)"),
    ("optimizers.py", "        self.t += 1\n        for key, g in grads.items():\n",
     "        for key, g in grads.items():\n            self.t += 1\n", "increments t once per parameter"),
    ("optimizers.py", "V = self.velocity.setdefault(key, np.zeros_like(params[key]))\n",
     "if key not in self.velocity:\n                self.velocity[key] = np.array(g, dtype=float)\n"
     "                params[key] -= self.learning_rate * g\n                continue\n"
     "            V = self.velocity[key]\n", "starts the moving average at V₁ = g"),
    ("activations.py", "return self.A * (dA - np.sum(dA * self.A, axis=1, keepdims=True))", "return dA * self.A",
     "Softmax: input gradient dZ is dA·A"),
    ("activations.py", "return self.A * (dA - np.sum(dA * self.A, axis=1, keepdims=True))",
     "return dA - np.sum(dA * self.A, axis=1, keepdims=True)", "Softmax: input gradient dZ misses the factor A"),
    ("activations.py", "return dA * self.A * (1.0 - self.A)", "return self.A * (1.0 - self.A)",
     "Sigmoid: input gradient dZ misses dA"),
    ("activations.py", "return dA * (1.0 - self.A**2)", "return 1.0 - self.A**2", "Tanh: input gradient dZ misses dA"),
])
def test_more_known_mistakes_are_named(tmp_path, solution, old, new, named):
    assert named in check(planted(tmp_path, solution, (old, new)), keras=False).headline()


@pytest.mark.parametrize("solution, old, new, named", [
    ("losses.py", "return 2.0 * diff / diff.size", "return 2.0 * diff / diff.shape[1]",
     "MeanSquaredError: gradient ∂L/∂ŷ is 5× the reference (= N: a missing 1/N?)"),
    ("losses.py", "return 2.0 * diff / diff.size", "return 2.0 * diff",
     "MeanSquaredError: gradient ∂L/∂ŷ is 15× the reference (= N·D: a sum where the mean belongs?)"),
    ("losses.py", "return 2.0 * diff / diff.size", "return diff / diff.size",
     "MeanSquaredError: gradient ∂L/∂ŷ is 0.5× the reference (= 1/2: the factor 2 of the square?)"),
    ("dense.py", "return dY @ self.W.T", "return dY @ self.W.T / len(dY)",
     "Dense: input gradient dX is 0.2× the reference (= 1/N: a mean where a sum belongs?)"),
])
def test_a_ratio_tied_to_the_shapes_is_read(tmp_path, solution, old, new, named):
    assert check(planted(tmp_path, solution, (old, new)), keras=False).headline() == f"FAIL  {named}"


def test_shape_readings_know_n_and_d_apart():
    reference = np.array([[1.0, -2.0], [3.0, 0.5]])
    readings = shape_readings(5, 3, square=True)
    assert diagnose(3 * reference, reference, readings=readings) == "is 3× the reference (= D: a missing 1/D?)"
    assert diagnose(reference / 3, reference, readings=readings).endswith("(= 1/D: a mean over D where a sum belongs?)")
    assert diagnose(7 * reference, reference, readings=readings) == "is 7× the reference"
    assert diagnose(2 * reference, reference, readings=shape_readings(5)) == "is 2× the reference"


def adam_row(mine, keras_run, reference) -> Row:
    """An Adam row whose Keras column is compared with a second run of the student's (ε = 0)."""
    references = {"refnn": reference, "Keras": reference.copy()}
    return Row("Adam", "kernel step ΔW (t = 1)", mine, references, thresholds("optimizer", references),
               mine_for={"Keras": keras_run})


def test_the_keras_cells_of_adam_say_they_are_compared_with_the_epsilon_0_run():
    reference = np.array([0.001, -0.002, 0.0005])
    row = adam_row(reference.copy(), 2 * reference, reference)
    cells = lab_check._cells(row)
    assert cells[6].endswith(" (ε = 0 run)") and not cells[5].endswith("run)")
    assert row.message() == "Adam: kernel step ΔW (t = 1) is 2× the reference (against Keras, with your run at ε = 0)"


def test_tied_errors_bind_to_refnn_the_reference_the_headline_names():
    reference = np.array([1.0, -2.0, 3.0])
    references = {"Keras": reference.copy(), "refnn": reference}  # Keras first: a tie went to it
    row = Row("Dense", "bias gradient dB", 0.5 * reference, references, thresholds("gradients", references))
    assert row.errors()["Keras"] == row.errors()["refnn"]
    assert row.binding() == "refnn" and lab_check._cells(row)[8] == "refnn"
    assert Row("Dense", "bias gradient dB", 0.5 * reference, {"Keras": 2 * reference, "refnn": reference},
               thresholds("gradients", references)).binding() == "Keras"


def test_a_file_importing_its_sibling_module_is_checked(tmp_path):
    folder = tmp_path / "lab"
    folder.mkdir()
    written(folder, "def matmul(a, b):\n    return a @ b\n", name="lab_helpers_for_test.py")
    path = written(folder, open(SOLUTIONS["dense.py"], encoding="utf-8").read().replace(
        "import numpy as np", "import numpy as np\nfrom lab_helpers_for_test import matmul").replace(
        "return self.X @ self.W + self.B", "return matmul(self.X, self.W) + self.B"), name="mydense.py")
    before = list(sys.path)
    assert check(path, keras=False).passed
    assert sys.path == before
    with pytest.raises(LabImportError):
        load(written(folder, "raise RuntimeError('no')\n", name="raising.py"))
    assert sys.path == before


def test_copying_into_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    destination = str(tmp_path / "no" / "such" / "dir") + os.sep
    assert labs_main.main(["copy", "dense.py", destination]) == 2
    err = capsys.readouterr().err
    assert err == (f"python -m comparisons.labs copy: cannot copy dense.py to {destination!r}: No such file or "
                   "directory\n")


def test_the_public_api_has_docstrings():
    assert all(obj.__doc__ for obj in (build_parser, LabReport.passed, LabReport.table))

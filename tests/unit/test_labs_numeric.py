"""The lab kit's checker without TensorFlow (``keras=False``): the reference solutions pass, planted
bugs are caught and named, unfinished skeletons are TODOs, bad input is refused by name.

The same checks with the Keras column are in ``tests/keras/test_labs.py``.
"""

from __future__ import annotations

import io
import os
import re

import numpy as np
import pytest

from comparisons import labs
from comparisons.labs import __main__ as labs_main
from comparisons.labs import check as lab_check
from comparisons.labs.check import LabImportError, check, load, main
from comparisons.labs.rows import diagnose

SOLUTIONS = {name: os.path.join(labs.SOLUTIONS, name) for name in labs.FILES}


def planted(tmp_path, solution: str, *edits: tuple[str, str], name: str = "bug.py") -> str:
    """The reference solution ``solution`` with each ``(old, new)`` of ``edits`` applied, written to
    ``tmp_path / name``."""
    with open(SOLUTIONS[solution], encoding="utf-8") as fh:
        text = fh.read()
    for old, new in edits:
        assert text.count(old) == 1, f"the bug's anchor {old!r} must occur once in {solution}"
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("name", labs.FILES)
def test_each_reference_solution_passes(name):
    report = check(SOLUTIONS[name], keras=False)
    assert report.passed, str(report)
    assert report.headline().startswith("PASS")
    assert all("refnn" in row.references for row in report.rows)
    gradients = [row for row in report.rows if "gradient" in row.quantity]
    assert all("finite differences" in row.references for row in gradients)
    assert bool(gradients) == (name != "optimizers.py")  # an optimizer step has no finite differences


def test_halved_bias_gradient_is_named_with_its_ratio(tmp_path):
    path = planted(tmp_path, "dense.py", ("self.dB = dY.sum(axis=0)", "self.dB = 0.5 * dY.sum(axis=0)"))
    report = check(path, keras=False)
    assert not report.passed
    assert report.headline() == "FAIL  Dense: bias gradient dB is 0.5× the reference"
    assert [row.status for row in report.rows] == ["pass", "pass", "FAIL", "pass"]


def test_transposed_kernel_gradient_has_the_transposed_shape(tmp_path):
    path = planted(tmp_path, "dense.py", ("self.dW = self.X.T @ dY", "self.dW = (self.X.T @ dY).T"))
    assert check(path, keras=False).first_problem.message() == \
        "Dense: kernel gradient dW is transposed: shape (3, 4) instead of (4, 3)"


def test_transposed_kernel_gradient_of_a_square_layer_is_named(tmp_path):
    path = planted(tmp_path, "dense.py", ("self.dW = self.X.T @ dY", "self.dW = dY.T @ self.X"))
    report = check(path, keras=False, dense_shape=(5, 4, 4))
    assert report.first_problem.message() == \
        "Dense: kernel gradient dW is transposed: it equals the reference's transpose"


def test_a_bias_gradient_not_summed_over_the_batch_is_named(tmp_path):
    path = planted(tmp_path, "dense.py", ("self.dB = dY.sum(axis=0)", "self.dB = dY"))
    message = check(path, keras=False).first_problem.message()
    assert message.startswith("Dense: bias gradient dB has shape (5, 3) instead of (3,): one row per sample")


def test_a_mean_instead_of_a_sum_is_named(tmp_path):
    path = planted(tmp_path, "dense.py", ("self.dB = dY.sum(axis=0)", "self.dB = dY.mean(axis=0)"))
    assert "is the mean of dY over the batch" in check(path, keras=False).headline()


def test_adam_without_bias_correction_is_named(tmp_path):
    path = planted(tmp_path, "optimizers.py", ("m_hat = m / (1.0 - self.beta_1**self.t)", "m_hat = m"),
                   ("v_hat = v / (1.0 - self.beta_2**self.t)", "v_hat = v"))
    report = check(path, keras=False)
    assert [row.status for row in report.rows if row.piece == "SGD"] == ["pass"] * 4
    assert report.headline() == ("FAIL  Adam: kernel steps ΔW (t = 1…5) is missing the bias correction: Adam divides m "
                                 "by 1 − β₁ᵗ and v by 1 − β₂ᵗ before the step")


@pytest.mark.parametrize("old, new, named", [
    ("m_hat = m / (1.0 - self.beta_1**self.t)", "m_hat = m", "is missing the bias correction of m"),
    ("v_hat = v / (1.0 - self.beta_2**self.t)", "v_hat = v", "is missing the bias correction of v"),
    ("(np.sqrt(v_hat) + self.epsilon)", "(np.sqrt(v) + self.epsilon) * np.sqrt(1.0 - self.beta_2**self.t)",
     "adds ε to √v (Keras's placement)"),
])
def test_adam_half_corrections_and_keras_epsilon_are_named(tmp_path, old, new, named):
    assert named in check(planted(tmp_path, "optimizers.py", (old, new)), keras=False).headline()


@pytest.mark.parametrize("old, new, named", [
    ("V += (1.0 - self.momentum) * g", "V += g", "accumulates V ← μV + g (Keras's velocity form)"),
    ("params[key] -= self.learning_rate * V", "params[key] -= self.learning_rate * g", "ignores the momentum"),
])
def test_sgd_momentum_mistakes_are_named(tmp_path, old, new, named):
    assert named in check(planted(tmp_path, "optimizers.py", (old, new)), keras=False).headline()


def test_softmax_diagonal_shortcut_is_caught(tmp_path):
    path = planted(tmp_path, "activations.py", ("return self.A * (dA - np.sum(dA * self.A, axis=1, keepdims=True))",
                                                "return dA * self.A * (1.0 - self.A)"))
    report = check(path, keras=False)
    assert [row.status for row in report.rows] == ["pass"] * 5 + ["FAIL"]
    assert report.headline().startswith("FAIL  Softmax: input gradient dZ uses the diagonal shortcut f(1 − f)")


@pytest.mark.parametrize("old, new, named", [
    ("return 2.0 * diff / diff.size", "return 2.0 * diff / diff.shape[0]", "divides by N only"),
    ("return 2.0 * diff / diff.size", "return -2.0 * diff / diff.size", "has the wrong sign"),
    ("return 2.0 * diff / diff.size", "return diff / diff.size", "is 0.5× the reference"),
    ("- np.asarray(y_true)) / Z.shape[0]", "- np.asarray(y_true))", "misses the 1/N of the batch mean"),
])
def test_loss_gradient_mistakes_are_named(tmp_path, old, new, named):
    assert named in check(planted(tmp_path, "losses.py", (old, new)), keras=False).headline()


def test_nan_is_named(tmp_path):
    path = planted(tmp_path, "activations.py", ("return dA * (1.0 - self.A**2)", "return dA * np.nan"))
    assert check(path, keras=False).headline() == \
        "FAIL  Tanh: input gradient dZ contains NaN (20 of 20 entries are not finite)"


def test_an_exception_and_a_missing_return_are_reported_not_raised(tmp_path):
    raising = planted(tmp_path, "dense.py", ("self.dW = self.X.T @ dY", "self.dW = self.X @ dY"))
    report = check(raising, keras=False)
    assert [row.status for row in report.rows] == ["pass", "error", "error", "error"]
    assert report.headline().startswith("ERROR Dense.backward raised ValueError: ")
    line = open(raising, encoding="utf-8").read().splitlines().index("        self.dW = self.X @ dY") + 1
    assert report.headline().endswith(f"(bug.py, line {line})")
    silent = planted(tmp_path, "dense.py", ("return dY @ self.W.T", "dY @ self.W.T"), name="silent.py")
    report = check(silent, keras=False)
    assert report.headline() == "ERROR Dense.backward gave None for dX: a missing `return` or attribute?"
    assert [row.status for row in report.rows] == ["pass", "pass", "pass", "error"]


def test_a_missing_method_is_reported(tmp_path):
    path = tmp_path / "half.py"
    path.write_text("class Sigmoid:\n    def forward(self, Z):\n        return Z\n", encoding="utf-8")
    report = check(str(path), keras=False)
    assert [row.status for row in report.rows] == ["FAIL", "error"]
    assert report.rows[1].message() == "Sigmoid has no method backward()"


@pytest.mark.parametrize("name", labs.FILES)
def test_unfilled_skeletons_are_todos_with_exit_status_1(name):
    path = labs.skeleton_path(name)
    report = check(path, keras=False)
    assert report.headline().startswith("TODO ") and "is not implemented yet (TODO: " in report.headline()
    assert {row.status for row in report.rows} <= {"pass", "TODO"} and not report.passed
    out = io.StringIO()
    assert main([path, "--no-keras"], stream=out) == 1
    assert "not implemented yet" in out.getvalue() and "Traceback" not in out.getvalue()


def test_the_cli_exit_statuses_and_table(tmp_path, capsys):
    out = io.StringIO()
    assert main([SOLUTIONS["dense.py"], "--no-keras"], stream=out) == 0
    text = out.getvalue()
    assert "PASS  all 4 quantities of Dense agree with finite differences and refnn (Keras not run)" in text
    header = next(line for line in text.splitlines() if line.startswith("piece"))
    assert header.split() == ["piece", "quantity", "entry", "yours", "numeric", "refnn", "Keras", "rel.", "error",
                              "vs", "threshold", "result"]
    bug = planted(tmp_path, "dense.py", ("self.dB = dY.sum(axis=0)", "self.dB = 0.5 * dY.sum(axis=0)"))
    assert main([bug, "--no-keras"], stream=io.StringIO()) == 1
    assert main([str(tmp_path / "missing.py"), "--no-keras"]) == 2
    assert "`path` must be an existing Python file. Received: path=" in capsys.readouterr().err
    assert main([]) == 2


def test_a_file_without_lab_classes_is_a_usage_error_naming_it(tmp_path, capsys):
    path = tmp_path / "mine.py"
    path.write_text("class Network:\n    pass\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"defines none of the lab's classes .*Received: path='.*mine\.py', which "
                                         r"defines Network"):
        check(str(path), keras=False)
    assert main([str(path), "--no-keras"]) == 2
    assert "mine.py" in capsys.readouterr().err


def test_a_file_that_fails_to_import_is_reported_with_its_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\n\nclass Dense:\n    def forward(self, X)\n        pass\n", encoding="utf-8")
    with pytest.raises(LabImportError, match=r"broken\.py, line 4 could not be imported: SyntaxError"):
        check(str(path), keras=False)
    out = io.StringIO()
    assert main([str(path), "--no-keras"], stream=out) == 1
    assert out.getvalue().startswith("ERROR ") and "line 4" in out.getvalue()


def test_the_student_module_is_named_after_its_file(tmp_path):
    path = tmp_path / "my-dense.py"
    path.write_text(open(SOLUTIONS["dense.py"], encoding="utf-8").read(), encoding="utf-8")
    assert load(path).__name__ == "refnn_lab_my_dense"
    with pytest.raises(ValueError, match=r"must be a Python file ending in \.py\. Received: path='.*notes\.txt'"):
        (tmp_path / "notes.txt").write_text("", encoding="utf-8")
        load(tmp_path / "notes.txt")


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer. Received: seed=-1"):
        check(SOLUTIONS["dense.py"], seed=-1, keras=False)
    for shape in ((5, 4), (5, 0, 3), 7):
        with pytest.raises(ValueError, match=r"`dense_shape` must be \(batch, inputs, units\), three positive "
                                             "integers. Received: dense_shape=" + re.escape(repr(shape))):
            check(SOLUTIONS["dense.py"], keras=False, dense_shape=shape)


def test_the_keras_column_without_tensorflow_is_a_clear_error(monkeypatch, capsys):
    real = lab_check.importlib.util.find_spec
    monkeypatch.setattr(lab_check.importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorflow" else real(name, *a))
    with pytest.raises(ModuleNotFoundError, match="needs TensorFlow"):
        check(SOLUTIONS["dense.py"])
    assert main([SOLUTIONS["dense.py"]]) == 2
    assert "--no-keras" in capsys.readouterr().err


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others():
    first, again = (check(SOLUTIONS["losses.py"], keras=False, seed=3).table() for _ in range(2))
    assert first == again
    assert check(SOLUTIONS["losses.py"], keras=False, seed=4).table() != first


def test_a_module_object_is_checked_like_its_file():
    module = load(SOLUTIONS["activations.py"])
    assert check(module, keras=False).passed


def test_diagnose_names_a_constant_multiple_a_sign_and_the_worst_entry():
    reference = np.array([[1.0, -2.0], [3.0, 0.5]])
    assert diagnose(3 * reference, reference) == "is 3× the reference"
    assert diagnose(-reference, reference) == "has the wrong sign: it is −1× the reference"
    assert diagnose(np.zeros_like(reference), reference) == "is zero everywhere"
    wrong = reference.copy()
    wrong[1, 0] = 2.0
    assert diagnose(wrong, reference) == ("differs from the reference: worst entry [1, 0] is 2, the reference 3 "
                                          "(relative error 3.3e-01 > 1e-10)")
    assert diagnose(np.array(2.0), np.array(1.5)).startswith("is 1.333× the reference")


def test_skeletons_are_copied_and_never_overwrite(tmp_path, capsys):
    target = labs.copy_skeleton("dense", str(tmp_path))
    assert open(target, encoding="utf-8").read() == open(labs.skeleton_path("dense.py"), encoding="utf-8").read()
    with pytest.raises(FileExistsError, match="already holds a file"):
        labs.copy_skeleton("dense.py", str(tmp_path))
    with pytest.raises(ValueError, match=r"`name` must be one of the lab's files .*Received: name='conv.py'"):
        labs.skeleton_path("conv.py")
    assert labs_main.main(["copy", "losses.py", str(tmp_path / "my_losses.py")]) == 0
    assert "refnn-compare check" in capsys.readouterr().out
    assert labs_main.main(["copy", "losses.py", str(tmp_path / "my_losses.py")]) == 2
    assert labs_main.main(["list"]) == 0
    assert capsys.readouterr().out.split() == [labs.skeleton_path(name) for name in labs.FILES]

"""The lab kit's checker with its Keras column: the reference solutions agree with finite
differences, refnn and TensorFlow/Keras; planted bugs are caught on every column and named; the
``refnn-compare check`` command's exit statuses and table.

The checks that need no TensorFlow are in ``tests/unit/test_labs_numeric.py``.
"""

from __future__ import annotations

import io
import os

import pytest

from comparisons import cli, labs
from comparisons.labs.check import check

SOLUTIONS = {name: os.path.join(labs.SOLUTIONS, name) for name in labs.FILES}


def planted(tmp_path, solution: str, *edits: tuple[str, str]) -> str:
    """The reference solution with each ``(old, new)`` of ``edits`` applied, written to ``tmp_path``."""
    with open(SOLUTIONS[solution], encoding="utf-8") as fh:
        text = fh.read()
    for old, new in edits:
        assert text.count(old) == 1, f"the bug's anchor {old!r} must occur once in {solution}"
        text = text.replace(old, new)
    path = tmp_path / "bug.py"
    path.write_text(text, encoding="utf-8")
    return str(path)


def keras_errors(report) -> list[float]:
    return [row.errors()["Keras"] for row in report.rows]


@pytest.mark.parametrize("name", labs.FILES)
def test_each_reference_solution_agrees_with_keras(name):
    report = check(SOLUTIONS[name])
    assert report.passed, str(report)
    # every row has its Keras column, within the float64 contract: for SGD this is the live proof
    # that Keras's velocity with lr·(1 − μ) takes the moving average's steps, for Adam that ε = 0
    # makes Keras's placement and Algorithm 1's the same
    assert all("Keras" in row.references and row.errors()["Keras"] <= row.thresholds["Keras"] for row in report.rows)
    assert report.headline().endswith("refnn and Keras")


def test_halved_bias_gradient_fails_on_every_column(tmp_path):
    report = check(planted(tmp_path, "dense.py", ("self.dB = dY.sum(axis=0)", "self.dB = 0.5 * dY.sum(axis=0)")))
    assert report.headline() == "FAIL  Dense: bias gradient dB is 0.5× the reference"
    bias = report.rows[2]
    assert bias.errors() == pytest.approx({"finite differences": 0.5, "refnn": 0.5, "Keras": 0.5}, rel=1e-6)


def test_transposed_kernel_gradient_of_a_square_layer(tmp_path):
    report = check(planted(tmp_path, "dense.py", ("self.dW = self.X.T @ dY", "self.dW = dY.T @ self.X")),
                   dense_shape=(6, 3, 3))
    assert report.headline() == "FAIL  Dense: kernel gradient dW is transposed: it equals the reference's transpose"
    assert [row.status for row in report.rows] == ["pass", "FAIL", "pass", "pass"]


def test_adam_without_bias_correction_fails_against_keras_too(tmp_path):
    report = check(planted(tmp_path, "optimizers.py", ("m_hat = m / (1.0 - self.beta_1**self.t)", "m_hat = m"),
                           ("v_hat = v / (1.0 - self.beta_2**self.t)", "v_hat = v")))
    assert "Adam: kernel steps ΔW (t = 1…5) is missing the bias correction" in report.headline()
    adam = [row for row in report.rows if row.piece == "Adam"]
    assert all(row.errors()["Keras"] > 0.1 for row in adam)
    assert max(keras_errors(report)[:4]) <= 1e-10  # SGD, untouched, still agrees


def test_softmax_diagonal_shortcut_fails_against_keras(tmp_path):
    report = check(planted(tmp_path, "activations.py",
                           ("return self.A * (dA - np.sum(dA * self.A, axis=1, keepdims=True))",
                            "return dA * self.A * (1.0 - self.A)")))
    assert report.headline().startswith("FAIL  Softmax: input gradient dZ uses the diagonal shortcut f(1 − f)")
    assert keras_errors(report)[-1] > 0.1


def test_sgd_in_keras_s_own_velocity_form_is_named(tmp_path):
    report = check(planted(tmp_path, "optimizers.py", ("V += (1.0 - self.momentum) * g", "V += g")))
    assert "accumulates V ← μV + g (Keras's velocity form)" in report.headline()
    assert "every step is 1/(1 − μ) = 10× too large" in report.headline()


@pytest.mark.parametrize("name", labs.FILES)
def test_skeletons_are_todos_through_the_cli(name, capsys):
    assert cli.main(["check", labs.skeleton_path(name)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("TODO ") and "is not implemented yet (TODO: " in out
    assert "Traceback" not in out


def test_cli_exit_statuses_and_table(tmp_path, capsys):
    assert cli.main(["check", SOLUTIONS["dense.py"]]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "PASS  all 4 quantities of Dense agree with finite differences, refnn and Keras"
    assert lines[2].split() == ["piece", "quantity", "entry", "yours", "numeric", "refnn", "Keras", "rel.", "error",
                                "vs", "threshold", "result"]
    assert [line.split()[-1] for line in lines[4:8]] == ["pass"] * 4
    assert lines[-1] == "dense.py (seed 0): 4 of 4 quantities pass."
    bug = planted(tmp_path, "dense.py", ("self.dB = dY.sum(axis=0)", "self.dB = 0.5 * dY.sum(axis=0)"))
    assert cli.main(["check", bug]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "FAIL  Dense: bias gradient dB is 0.5× the reference"
    assert out.splitlines()[-1] == "bug.py (seed 0): 3 of 4 quantities pass; 1 wrong."
    assert cli.main(["check", str(tmp_path / "nothing.py")]) == 2
    assert "Received: path=" in capsys.readouterr().err
    assert cli.main(["check"]) == 2


def test_main_writes_to_a_stream():
    from comparisons.labs.check import main

    out = io.StringIO()
    assert main([SOLUTIONS["losses.py"], "--seed", "7"], stream=out) == 0
    assert out.getvalue().splitlines()[-1] == "losses.py (seed 7): 4 of 4 quantities pass."


def test_adam_s_keras_cells_are_marked_as_the_epsilon_0_run(tmp_path):
    report = check(planted(tmp_path, "optimizers.py", ("(np.sqrt(v_hat) + self.epsilon)",
                                                       "np.sqrt(v_hat + self.epsilon)")))
    assert "adds ε inside the root, √(v̂ + ε)" in report.headline()
    lines = report.table().splitlines()
    assert all("(ε = 0 run)" in line for line in lines if line.startswith("Adam "))
    assert not any("(ε = 0 run)" in line for line in lines if line.startswith("SGD "))
    # ε = 0 in the second run hides the slip: against Keras it passes, and the column says why
    assert all(row.errors()["Keras"] <= row.thresholds["Keras"] for row in report.rows)

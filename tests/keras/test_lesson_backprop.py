"""The dense-layer walk-through (``refnn-compare lesson backprop``): refnn's layer, refnn's graph and
TensorFlow's GradientTape agree on every quantity, and the numbers shown obey the lecture's formulas."""

from __future__ import annotations

import numpy as np
import pytest

from comparisons import cli
from comparisons.lessons.backprop import ACTIVATIONS, T, X, measure
from refnn.utils.tolerance import TOLERANCES, relative_error

RTOL = TOLERANCES["gradients"]["float64"]


@pytest.fixture(scope="module", params=sorted(ACTIVATIONS))
def walk(request):
    return measure(request.param)


def test_refnn_graph_and_tensorflow_agree(walk):
    assert walk.passed, [(q.symbol, q.error) for q in walk.quantities]
    for q in walk.quantities:
        assert q.tensorflow is not None and q.error <= RTOL, q.symbol


def test_the_shown_numbers_obey_the_lectures_formulas(walk):
    v = {q.symbol: q.refnn for q in walk.quantities}
    n, d = T.shape
    assert np.array_equal(v["X"], X)
    np.testing.assert_allclose(v["Z"], X @ v["W"] + v["B"], rtol=1e-15)
    np.testing.assert_allclose(v["E"], np.mean((v["Y"] - T) ** 2), rtol=1e-15)
    np.testing.assert_allclose(v["dY"], 2 * (v["Y"] - T) / (n * d), rtol=1e-15)
    assert relative_error(v["dW"], X.T @ v["dZ"]) <= 1e-15          # STEP 2
    assert relative_error(v["dB"], v["dZ"].sum(axis=0)) <= 1e-15    # STEP 3
    assert relative_error(v["dX"], v["dZ"] @ v["W"].T) <= 1e-15
    np.testing.assert_allclose(v["W after"], v["W"] - walk.learning_rate * v["dW"], rtol=1e-15)
    np.testing.assert_allclose(v["B after"], v["B"] - walk.learning_rate * v["dB"], rtol=1e-15)
    y, dy = v["Y"], v["dY"]
    step1 = {"sigmoid": lambda: y * (1 - y) * dy, "tanh": lambda: (1 - y * y) * dy,
             "relu": lambda: (v["Z"] > 0) * dy, "linear": lambda: dy,
             "softmax": lambda: np.stack([(np.diag(r) - np.outer(r, r)) @ g for r, g in zip(y, dy)])}
    assert relative_error(v["dZ"], step1[walk.activation]()) <= 1e-15  # STEP 1


def test_the_softmax_case_shows_its_jacobian():
    """J_1 three ways, each from its side's own VJP: refnn's Softmax.backward, the graph's softmax
    op, TensorFlow's batch_jacobian — and all three equal the lecture's diag(Y) − Y Yᵀ."""
    walk = measure("softmax")
    jacobian = walk["J_1"]
    y = walk["Y"].refnn[0]
    assert relative_error(jacobian.refnn, np.diag(y) - np.outer(y, y)) <= 1e-15
    assert jacobian.step == "STEP 1" and jacobian.error <= RTOL
    np.testing.assert_allclose(jacobian.tensorflow.sum(axis=0), 0, atol=1e-15)  # columns sum to 0


def test_the_command_prints_the_table_and_writes_a_self_contained_page(tmp_path, capsys):
    assert cli.main(["lesson", "backprop", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for needle in ("STEP 1", "STEP 2", "STEP 3", "dZ = σ′(Z) ⊙ dY", "dW = Xᵀ dZ", "dB = Σ_n dZ_n",
                   "J_1", "refnn, its computation graph and TensorFlow: agree"):
        assert needle in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg", "index.html", "walkthrough.txt"]
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "<img" not in page and "http" not in page.replace(
        "http://www.w3.org/2000/svg", "")


def test_without_tensorflow_only_two_sides_are_claimed(tmp_path, capsys):
    assert cli.main(["lesson", "backprop", "--no-tensorflow", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "refnn and its computation graph (TensorFlow not run): agree" in out and "(not run)" in out
    assert "TensorFlow: agree" not in out


def test_usage_errors_exit_2(tmp_path):
    assert cli.main(["lesson", "nosuchlesson"]) == 2
    for bad in (["--activation", "elu"], ["--learning-rate", "-1"], ["--learning-rate", "nan"], ["--seed", "-5"]):
        assert cli.main(["lesson", "backprop", *bad, "--out", str(tmp_path)]) == 2, bad
    (tmp_path / "file").write_text("keep me")
    assert cli.main(["lesson", "backprop", "--out", str(tmp_path / "file")]) == 2
    assert (tmp_path / "file").read_text() == "keep me"
    with pytest.raises(ValueError, match="`activation` must be one of .* Received: activation='elu'"):
        measure("elu")
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer. Received: seed=-5"):
        measure(seed=-5)


def test_the_walk_through_is_a_section_of_the_main_report(quick_report):
    section = quick_report["sections"]["lesson-backprop"]
    assert [c.passed for c in section.checks] == [True] * 4
    assert {c.kind for c in section.checks} == {"keras", "refnn"}
    assert [p.name for p in section.plots] == ["backprop_graph_sigmoid", "backprop_graph_softmax"]
    html = (quick_report["out"] / "index.html").read_text(encoding="utf-8")
    assert html.index('id="lesson-backprop"') < html.index('id="appendix"')
    assert (quick_report["out"] / "backprop_graph_softmax.svg").read_text(encoding="utf-8").startswith("<?xml")

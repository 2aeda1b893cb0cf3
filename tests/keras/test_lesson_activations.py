"""The ``activations`` lesson: refnn and Keras agree on f, f′, the softmax Jacobian and every loss's
gradient; the numbers shown obey the lecture's formulas; the diagonal shortcut trains worse; the page
renders with its figures embedded."""

from __future__ import annotations

import numpy as np
import pytest

from comparisons import lessons
from comparisons.lessons import activations
from comparisons.report import Report, write
from refnn.utils.tolerance import TOLERANCES, relative_error


@pytest.fixture(scope="module")
def measured(quick_report):
    """``measure(quick=True, seed=0)``'s numbers, from the session's ``refnn-compare --quick``
    (tests/conftest.py: measured once for the report and these tests)."""
    return quick_report["sections"]["lesson-activations"].data


def test_activation_values_and_derivatives_match_keras_and_the_formulas(measured):
    x = np.asarray(measured["x"])
    assert 0.0 in x and x[0] == -5.0 and x[-1] == 5.0
    for name, a in measured["activations"].items():
        assert a["f_error"] <= TOLERANCES["forward"]["float64"], name
        assert a["df_error"] <= TOLERANCES["gradients"]["float64"], name
    f = {n: np.asarray(a["refnn"]["f"]) for n, a in measured["activations"].items()}
    df = {n: np.asarray(a["refnn"]["df"]) for n, a in measured["activations"].items()}
    np.testing.assert_allclose(df["sigmoid"], f["sigmoid"] * (1 - f["sigmoid"]), rtol=1e-15)
    np.testing.assert_allclose(df["tanh"], 1 - np.tanh(x) ** 2, rtol=1e-14)
    np.testing.assert_array_equal(df["relu"], (x > 0).astype(float))
    assert measured["activations"]["relu"]["df_at_zero"] == {"refnn": 0.0, "keras": 0.0}


def test_the_softmax_jacobian_is_full_and_the_diagonal_drops_the_coupling(measured):
    sm = measured["softmax"]
    s = np.asarray(sm["s"])
    jacobian = np.asarray(sm["jacobian"]["refnn"])
    assert relative_error(jacobian, np.diag(s) - np.outer(s, s)) <= 1e-15
    assert sm["jacobian_error"] <= TOLERANCES["gradients"]["float64"]
    np.testing.assert_allclose(sm["column_sums"], 0, atol=1e-15)
    np.testing.assert_allclose(sm["jacobian"]["diagonal"], np.diag(s * (1 - s)), rtol=1e-15)
    np.testing.assert_allclose(np.diag(sm["jacobian"]["difference"]), 0, atol=1e-16)
    y = np.eye(len(s))[sm["target"]]
    g = sm["gradient"]
    np.testing.assert_allclose(g["exact"], s - y, rtol=1e-14, atol=1e-16)
    assert sm["gradient_error"] <= TOLERANCES["gradients"]["float64"]
    # the +1 of Keras's renormalised crossentropy vanishes through J, not through the diagonal
    np.testing.assert_allclose(g["exact_keras_loss"], g["exact"], rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(g["diagonal"], -y * (1 - s), atol=1e-16)
    assert np.count_nonzero(g["diagonal"]) == 1 and g["exact"][0] > 0.5  # the wrong winner is only pushed down by J
    np.testing.assert_allclose(g["diagonal_keras_loss"], s * (1 - s) * (1 - y / s), rtol=1e-14)


def test_each_loss_and_its_gradient_match_keras_and_clip_at_epsilon(measured):
    for name, loss in measured["losses"].items():
        assert loss["value_error"] <= TOLERANCES["forward"]["float64"], name
        assert loss["gradient_error"] <= TOLERANCES["gradients"]["float64"], name
    mse = measured["losses"]["MSE"]
    np.testing.assert_allclose(mse["refnn"]["gradient"], 2 * (np.asarray(mse["prediction"]) - 1.0), atol=1e-15)
    for name in ("BCE", "CCE"):
        loss = measured["losses"][name]
        p, value = np.asarray(loss["prediction"]), np.asarray(loss["refnn"]["value"])
        gradient = np.asarray(loss["keras"]["gradient"])
        below = p < 1e-7
        assert below.any() and (p > 1 - 1e-7).any()
        np.testing.assert_allclose(value[below], -np.log(1e-7), rtol=1e-12)  # levels off at −log ε
        assert np.all(gradient[below] == 0) and np.all(gradient[p > 1 - 1e-7] == 0)
        inside = (p > 1e-6) & (p < 0.5)
        np.testing.assert_allclose(value[inside], np.asarray(loss["textbook"]["value"])[inside], rtol=1e-12)
    cce = measured["losses"]["CCE"]
    p = np.asarray(cce["prediction"])
    inside = (p > 1e-7) & (p < 1 - 1e-7)
    np.testing.assert_allclose(np.asarray(cce["refnn"]["gradient"])[inside], -1 / p[inside] + 1, rtol=1e-9)


def test_the_diagonal_shortcut_trains_worse_and_the_exact_run_matches_keras(measured):
    tr = measured["training"]
    assert tr["same_initial_weights"] and tr["passed"]
    assert tr["max_rel"] <= TOLERANCES["training"]["float64"]
    exact, diagonal, notes = (tr[k]["refnn"] for k in ("exact", "diagonal", "diagonal_notes"))
    assert len(exact["loss"]) == len(diagonal["loss"]) == len(notes["loss"]) == tr["epochs"]
    assert exact["loss"][-1] < exact["loss"][0] and diagonal["loss"][-1] < diagonal["loss"][0]
    assert exact["loss"][-1] < 0.5 * diagonal["loss"][-1]
    assert notes["accuracy"][-1] < 0.3 < 0.9 < exact["accuracy"][-1]
    np.testing.assert_allclose(tr["exact"]["keras"]["loss"], exact["loss"], rtol=TOLERANCES["training"]["float64"])
    assert "Softmax(derivative='diagonal')" in tr["bridge_refusal"]


def test_the_section_renders_with_its_figures_and_checks(measured, tmp_path):
    section = activations.section(measured)
    assert section.key == "lesson-activations" and section.part == "lesson"
    assert type(section.blocks[0]).__name__ == "Formula"
    assert len(section.checks) == 11 and all(c.passed for c in section.checks)
    write(Report("activations", [section]), tmp_path)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.count("data:image/svg+xml;base64") == 4
    for needle in ("ReLU′(0) = 0", "diag(s) − s sᵀ", "−log 1e-7 = 16.1", "Softmax(derivative="):
        assert needle in page
    assert "**" not in page


def test_the_command_writes_the_page_and_exits_0(tmp_path, capsys):
    assert lessons.main(["activations", "--quick", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "index.html").exists()
    out = capsys.readouterr().out
    assert "Activations and losses" in out and "Page:" in out

"""The initialisation lesson (``refnn-compare lesson initialization``): symmetric starts keep every hidden
unit identical in refnn and in Keras, large weights saturate and small ones collapse, Glorot shrinks a
ReLU network's signal by ~1/√2 per layer while He keeps it, and refnn's initializers draw from the
distributions Keras's do — each claim on the numbers the page shows (``measure(quick=True)``)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from comparisons import lessons
from comparisons.lessons import initialization
from comparisons.report import Formula, Report, write
from refnn.utils.tolerance import TOLERANCES, relative_error


@pytest.fixture(scope="module")
def measured(quick_report):
    """``measure(quick=True, seed=0)``'s numbers, from the session's ``refnn-compare --quick``
    (tests/conftest.py: measured once for the report and these tests)."""
    return quick_report["sections"]["lesson-initialization"].data


def test_symmetric_starts_keep_every_hidden_unit_identical_in_both_frameworks(measured):
    cases = measured["symmetry"]["cases"]
    for case in ("zeros", "constant"):
        assert cases[case]["start_spread"] == [0.0, 0.0]
        for side in ("refnn", "keras"):
            assert max(cases[case]["spread"][side]) <= 1e-12, (case, side, cases[case]["spread"][side])
        hidden = np.asarray(cases[case]["hidden_1"])
        assert hidden.shape == (12, initialization.SYMMETRY_HIDDEN[0])
        assert np.ptp(hidden, axis=1).max() <= 1e-12  # every column of the heatmap the same
    # the constant start did train (its loss fell), in lockstep; the random start's units differ
    loss = cases["constant"]["history"]["refnn"]["loss"]
    assert loss[-1] < loss[0] - 0.3
    assert min(cases["random"]["spread"]["refnn"]) > 0.1
    assert np.ptp(np.asarray(cases["random"]["hidden_1"]), axis=1).min() > 0.1


def test_symmetric_starts_stay_poor_while_the_random_start_learns(measured):
    sym = measured["symmetry"]
    acc = {case: c["test_accuracy"] for case, c in sym["cases"].items()}
    for side in ("refnn", "keras"):
        assert acc["zeros"][side] <= sym["chance"] + 0.05
        assert acc["constant"][side] <= 0.6
        assert acc["random"][side] >= 0.85
    assert all(a["refnn"] == a["keras"] for a in acc.values())


def test_refnn_and_keras_agree_within_the_contract(measured):
    errors, tolerances = measured["errors"], measured["tolerances"]
    assert tolerances == {"training": TOLERANCES["training"]["float64"],
                          "activations": TOLERANCES["forward"]["float64"],
                          "gradients": TOLERANCES["gradients"]["float64"]}
    for key, error in errors.items():
        assert error <= tolerances[key], (key, error)
    assert all(c["passed"] for c in measured["symmetry"]["cases"].values())
    for part in ("saturation", "depth"):
        for cases in measured[part]["cases"].values():
            for c in cases.values():
                assert relative_error(c["std"]["refnn"], c["std"]["keras"]) <= 1e-12


def test_large_weights_saturate_small_weights_collapse(measured):
    sat = measured["saturation"]
    small, glorot, large = initialization.SCALES
    tanh, sigmoid = sat["cases"]["tanh"], sat["cases"]["sigmoid"]
    centre = sat["bins"] // 2
    for cases in (tanh, sigmoid):
        for c in cases.values():
            assert all(math.isclose(sum(h), 1.0) for h in c["histograms"])  # every activation within the bounds
        assert cases[large]["saturated"][-1] >= 0.4
        assert cases[glorot]["saturated"][-1] <= 0.01
        assert cases[small]["saturated"][-1] == 0.0
        assert sum(cases[small]["histograms"][-1][centre - 1:centre + 2]) >= 0.95  # piled up at 0 (tanh) or ½
    # tanh's signal dies by ×~0.1 per layer; sigmoid's gradient vanishes toward the input
    assert tanh[small]["std"]["refnn"][-1] <= 1e-3 * tanh[small]["std"]["refnn"][0]
    for name in (small, glorot):
        norms = sigmoid[name]["grad_norm"]["refnn"]
        assert norms[0] <= 1e-2 * norms[-1]
    assert all(n <= 1e-4 for n in tanh[small]["grad_norm"]["refnn"])


def test_glorot_shrinks_a_relu_signal_by_one_over_root_two_and_he_keeps_it(measured):
    relu = measured["depth"]["cases"]["relu"]
    glorot, he = relu["Glorot uniform"], relu["He normal"]
    assert abs(glorot["ratio_per_layer"] - math.sqrt(0.5)) <= 0.06
    assert abs(he["ratio_per_layer"] - 1.0) <= 0.1
    # the backpropagated signal: Glorot loses ~√2 per layer toward the input, He keeps its size
    assert glorot["grad_std"]["refnn"][0] <= 0.25 * glorot["grad_std"]["refnn"][-1]
    assert 0.5 <= he["grad_std"]["refnn"][0] / he["grad_std"]["refnn"][-1] <= 2.0
    tanh = measured["depth"]["cases"]["tanh"]
    assert tanh["He normal"]["std"]["refnn"][-1] > tanh["Glorot uniform"]["std"]["refnn"][-1]


def test_refnn_and_keras_initializers_draw_the_same_distributions(measured):
    ini = measured["initializers"]
    n = int(np.prod(ini["shape"]))
    for name, k in ini["kinds"].items():
        for side in ("refnn", "keras"):
            stats = k[side]
            assert abs(stats["std"] - k["formula_std"]) <= 0.02 * k["formula_std"], (name, side)
            assert abs(stats["mean"]) <= 5 * k["formula_std"] / math.sqrt(n), (name, side)
            assert stats["max_abs"] <= k["bound"] and stats["max_abs"] >= 0.98 * k["bound"], (name, side)
        assert k["ks"] <= k["ks_critical_1pct"], name


def test_the_section_renders_formula_first_with_every_figure_embedded(measured, tmp_path):
    section = initialization.section(measured)
    assert section.key == "lesson-initialization" and section.part == "lesson"
    assert isinstance(section.blocks[0], Formula) and "2 / (fan_in + fan_out)" in section.blocks[0].text
    names = [p.name for p in section.plots]
    assert len(names) == len(set(names)) == 7 and all(n.startswith("initialization-") for n in names)
    assert [c.passed for c in section.checks] == [True, True, True]
    write(Report("initialization", [section]), str(tmp_path))
    page = (tmp_path / "index.html").read_text()
    assert page.count("data:image/svg+xml;base64") == 7
    assert "**" not in page and "<strong>" in page


def test_the_cli_writes_the_page_and_exits_0(measured, tmp_path, monkeypatch):
    """The command's whole path — options, ``runner``, the page, the exit status — on the numbers
    ``measured`` already holds (measuring twice would double this file's time; ``measure`` itself is
    what the tests above check)."""
    calls = []

    def measure_once(quick=False, seed=0):
        calls.append((quick, seed))
        return measured

    monkeypatch.setattr(initialization, "measure", measure_once)
    stream = io.StringIO()
    assert lessons.main(["initialization", "--quick", "--out", str(tmp_path)], stream=stream) == 0
    assert calls == [(True, 0)]
    assert "data:image/svg+xml;base64" in (tmp_path / "index.html").read_text()
    assert initialization.TITLE in stream.getvalue() and "Page:" in stream.getvalue()

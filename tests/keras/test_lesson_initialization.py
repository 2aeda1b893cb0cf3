"""The initialisation lesson (``refnn-compare lesson initialization``): symmetric starts keep every hidden
unit identical in refnn and in Keras, large weights saturate and small ones collapse, Glorot shrinks a
ReLU network's signal by ~1/√2 per layer while He keeps it, and refnn's initializers draw from the
distributions Keras's do — each claim on the numbers the page shows (``measure(quick=True)``)."""

from __future__ import annotations

import copy
import io
import math

import numpy as np
import pytest

from comparisons import lessons
from comparisons.lessons import initialization
from comparisons.report import Formula, Report, write
from refnn.utils.tolerance import TOLERANCES, relative_error

SMALL, GLOROT, LARGE = initialization.SCALES


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


def _layerwise_cases(measured) -> dict:
    return {f"{act}, {name}": c for part in ("saturation", "depth")
            for act, cases in measured[part]["cases"].items() for name, c in cases.items()}


def test_refnn_and_keras_agree_within_the_contract(measured):
    errors, tolerances = measured["errors"], measured["tolerances"]
    assert tolerances == {"training": TOLERANCES["training"]["float64"],
                          "activations": TOLERANCES["forward"]["float64"],
                          "activations_large_weights": TOLERANCES["gradients"]["float64"],
                          "gradients": TOLERANCES["gradients"]["float64"]}
    for key, error in errors.items():
        assert error <= tolerances[key], (key, error)
    assert all(c["passed"] for c in measured["symmetry"]["cases"].values())
    # every network in exactly one activation check: the large-σ (ill-conditioned) ones apart, by design
    large = [f"{act}, {LARGE}" for act in initialization.BOUNDS]
    networks, cases = measured["networks"], _layerwise_cases(measured)
    assert networks["activations_large_weights"] == large
    assert sorted(networks["activations"] + large) == sorted(networks["gradients"]) == sorted(cases)
    for key in ("activations", "activations_large_weights"):
        for name in networks[key]:
            c = cases[name]
            assert max(c["activation_errors"]) == c["errors"]["activations"] <= tolerances[key], name
            assert relative_error(c["std"]["refnn"], c["std"]["keras"]) <= tolerances[key], name


def test_measure_rejects_a_bad_seed_naming_it():
    for seed in (-1, 1.5, "0", None):
        with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer.*seed="):
            initialization.measure(quick=True, seed=seed)


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
    # the one-layer backward factor g·RMS f′(z) the page quotes: > 1 where the large tanh gradient grows
    # toward the input, < 1 for sigmoid with Glorot's σ (f′ ≤ ¼), where it shrinks
    big, sig = tanh[large], sigmoid[glorot]
    assert big["grad_norm"]["refnn"][0] > big["grad_norm"]["refnn"][-1]
    assert big["gain"] * np.mean(big["slope_rms"]) > 1.5
    assert sig["gain"] * np.mean(sig["slope_rms"]) <= 0.25
    assert all(0.0 <= r <= 1.0 for cases in (tanh, sigmoid) for c in cases.values() for r in c["slope_rms"])


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
    assert [c.passed for c in section.checks] == [True, True, True, True]
    networks = measured["networks"]
    assert f"{len(networks['activations'])} deep networks" in section.checks[1].what
    assert f"{len(networks['activations_large_weights'])} deep networks with 10× Glorot" in section.checks[2].what
    assert section.checks[2].tolerance == {"float64": TOLERANCES["gradients"]["float64"]}
    assert f"the same {len(networks['gradients'])} networks" in section.checks[3].what
    write(Report("initialization", [section]), str(tmp_path))
    page = (tmp_path / "index.html").read_text()
    assert page.count("data:image/svg+xml;base64") == 7
    assert "**" not in page and "<strong>" in page


def _text(measured) -> str:
    return " ".join(b for b in initialization.section(measured).blocks if isinstance(b, str))


def test_the_text_follows_the_measured_numbers(measured):
    text = _text(measured)
    assert "the units are still identical" in text and "no more than one unit" not in text
    assert "harmonic mean" in text and "half of its pre-activations" in text
    assert "grows* toward the input" in text and "pass it on multiplied by the large weights" in text
    units = next(f for f in initialization.section(measured).plots if f.name == "initialization-symmetry-units")
    assert "16 copies of one unit" in units.caption
    # had the symmetric starts drifted apart, or the large tanh gradient shrunk, the page says so
    changed = copy.deepcopy(measured)
    changed["symmetry"]["cases"]["constant"]["spread"]["keras"] = [0.0, 3e-16]
    large = changed["saturation"]["cases"]["tanh"][LARGE]
    large["grad_norm"]["refnn"] = large["grad_norm"]["refnn"][::-1]
    changed["symmetry"]["cases"]["zeros"]["hidden_1"][0][3] += 1e-3
    text = _text(changed)
    assert "still identical" not in text and "drifted apart" in text
    units = next(f for f in initialization.section(changed).plots if f.name == "initialization-symmetry-units")
    assert "copies" not in units.caption and "differ by at most 0.001" in units.caption
    assert "shrinks* toward the input" in text and "pass it on multiplied" not in text
    assert "alone does not explain the trend" in text  # its measured slope says ×~2.6 per layer
    large["slope_rms"] = [0.05] * len(large["slope_rms"])  # had it also saturated more (×0.5 per layer)
    assert "block more of it than the large weights amplify" in _text(changed)


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

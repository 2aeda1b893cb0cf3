"""The ``optimizers`` lesson: refnn and Keras walk the same 2-D paths, the paths have the shapes the
lesson describes (zig-zag, overshoot, per-coordinate scaling, sign-only steps), the two momentum
forms meet at η_keras = η_ema(1 − μ), the training curves agree, and the page renders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from comparisons import lessons
from comparisons.lessons import optimizers as lesson
from comparisons.lessons.optimizers_page import first_steps, sign_flips
from comparisons.report import KERAS, PORT, Figure, Formula, Plot, Report, Table, write
from refnn.utils.tolerance import TOLERANCES

PATH_TOL = TOLERANCES["optimizer"]["float64"]
TRAINING_TOL = TOLERANCES["training"]["float64"]


@pytest.fixture(scope="module")
def measured(quick_report):
    """``measure(quick=True)``'s numbers, from the session's ``refnn-compare --quick`` (tests/conftest.py),
    through JSON as report.json stores them: the page must be drawn from these numbers alone."""
    return json.loads(json.dumps(quick_report["sections"]["lesson-optimizers"].data))


def test_refnn_and_keras_walk_the_same_paths(measured):
    for key, surface in measured["surfaces"].items():
        assert surface["steps"] == lesson.STEPS[key][True]
        assert list(surface["runs"]) == list(lesson.ORDER)
        for label, run in surface["runs"].items():
            ours, theirs = np.asarray(run["refnn"]["path"]), np.asarray(run["keras"]["path"])
            assert ours.shape == theirs.shape == (surface["steps"] + 1, 2)
            assert np.array_equal(ours[0], surface["start"]) and np.array_equal(theirs[0], surface["start"])
            assert run["max_rel"] <= PATH_TOL, (key, label)
            assert run["refnn"]["final_f"] < run["refnn"]["start_f"], (key, label)  # every optimizer descends
            assert run["refnn"]["final_f"] == pytest.approx(run["keras"]["final_f"], rel=1e-9)
            plugin = run["keras_optimizer"].startswith("keras_bridge.plugins.")
            assert plugin == (label == "Rprop") and run["ported"] == plugin
            if not plugin:
                assert run["keras_optimizer"].startswith("keras.optimizers.")


def test_sgd_zigzags_across_the_valley_and_momentum_overshoots(measured):
    runs = measured["surfaces"]["quadratic"]["runs"]
    sgd = np.asarray(runs["SGD"]["refnn"]["path"])
    assert sign_flips(sgd.tolist()) == 20  # y changes sign on every one of the first 20 steps
    assert np.all(np.diff(sgd[:, 0]) > 0) and sgd[:, 0].max() < 0  # x creeps towards 0, never past it
    momentum = np.asarray(runs["momentum"]["refnn"]["path"])
    assert momentum[:, 0].max() > 0.5  # carried past the minimum x = 0


def test_adaptive_methods_scale_each_coordinate_and_rprop_uses_signs(measured):
    surface = measured["surfaces"]["quadratic"]
    first = first_steps(surface)
    gx, gy = first["gradient"]
    assert (gx, gy) == (9.0, 60.0)  # ∇f at (−9, 3) with a = 1, b = 20
    dx, dy = first["steps"]["SGD"]
    assert dy / dx == pytest.approx(gy / gx, rel=1e-12)  # SGD steps along the gradient
    for label in ("RMSprop", "Adam", "Adagrad", "Rprop"):
        dx, dy = first["steps"][label]
        assert dy / dx == pytest.approx(1.0, rel=1e-3), label  # per coordinate: as long in x as in y
    delta0 = surface["runs"]["Rprop"]["hyper"]["learning_rate"]
    assert first["steps"]["Rprop"] == (delta0, delta0)  # Rprop's first step is exactly ±Δ₀
    eta = surface["runs"]["Adam"]["hyper"]["learning_rate"]
    # Adam's first step is η·sign(g) up to ε and Keras's float32 β₂ in √(1 − β₂ᵗ)
    assert first["steps"]["Adam"] == pytest.approx((eta, eta), rel=1e-4)


def test_the_two_momentum_forms_meet_at_the_mapped_rate(measured):
    forms = measured["momentum"]
    mu_keras = float(np.float32(forms["mu"]))  # Keras stores μ in float32, also in float64 mode
    assert forms["eta_keras"] == pytest.approx(forms["eta"] * (1.0 - mu_keras), rel=1e-15)
    assert forms["mapped_max_rel"] <= PATH_TOL and max(forms["distance_mapped"]) < 1e-12
    assert max(forms["distance_naive"]) > 1.0  # the same η: another path
    assert forms["velocity_max_rel"] <= PATH_TOL  # refnn's velocity form is Keras's at the same η


def test_the_training_curves_agree_and_fall(measured):
    training = measured["training"]
    assert training["epochs"] == lesson.EPOCHS[True] and list(training["runs"]) == list(lesson.ORDER)
    for label, run in training["runs"].items():
        assert len(run["refnn"]) == len(run["keras"]) == training["epochs"]
        assert run["max_rel"] <= TRAINING_TOL and run["passed"], label
        assert run["refnn"][-1] < run["refnn"][0], label


def test_the_textbook_presets_take_hyper_parameters(measured):
    calls = {row[0]: row for row in measured["presets"]}
    _, textbook, keras_preset = calls["get('sgd', convention='textbook', learning_rate=0.1, momentum=0.9)"]
    assert "momentum=0.9" in textbook and "momentum_form='ema'" in textbook and "learning_rate=0.1" in textbook
    assert "momentum_form='velocity'" in keras_preset
    assert "momentum_form='ema'" in measured["surfaces"]["quadratic"]["runs"]["momentum"]["refnn_optimizer"]


def test_the_section_renders_with_its_checks(measured, tmp_path):
    section = lesson.section(measured)
    assert section.key == "lesson-optimizers" and isinstance(section.blocks[0], Formula)
    figures = [b.name for b in section.blocks if isinstance(b, (Figure, Plot))]
    assert figures == ["optimizers_paths_quadratic", "optimizers_paths_rosenbrock", "optimizers_momentum_forms",
                       "optimizers_training"]
    assert sum(isinstance(b, Table) for b in section.blocks) == 4
    assert all(check.passed for check in section.checks)
    kinds = {check.what: check.kind for check in section.checks}
    assert kinds["optimizer paths: Rprop (quadratic, Rosenbrock)"] == PORT
    assert kinds["optimizer paths: Adam (quadratic, Rosenbrock)"] == KERAS
    assert [d.value for d in section.differences] == [max(measured["momentum"]["distance_naive"])]
    write(Report("optimizers", [section]), str(tmp_path))
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.count("data:image/svg+xml;base64") == 4
    assert "η_keras = η_ema · (1 − μ)" in page
    assert "<strong>What the pictures show.</strong>" in page and "**What" not in page


def test_the_command_writes_the_page(measured, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(lesson, "measure", lambda quick=False, seed=0: measured)  # measured once, above
    assert lessons.main(["optimizers", "--quick", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "index.html").is_file()
    assert "comparisons within tolerance" in capsys.readouterr().out

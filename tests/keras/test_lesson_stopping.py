"""The ``stopping`` lesson: each rule stops its run for its own reason, refnn and Keras stop alike
where the rule is deterministic, and the page renders with its figures."""

from __future__ import annotations

import numpy as np
import pytest

from comparisons.lessons import main, stopping, stopping_page
from comparisons.report import KERAS, PORT, Report, write
from refnn.utils.tolerance import TOLERANCES

TOL = TOLERANCES["training"]["float64"]


@pytest.fixture(scope="module")
def measured(quick_report):
    """``measure(quick=True, seed=0)``'s numbers, from the session's ``refnn-compare --quick``
    (tests/conftest.py: measured once for the report and these tests)."""
    return quick_report["sections"]["lesson-stopping"].data


def test_a_fixed_number_of_epochs_runs_them_all_and_overfits(measured):
    run = measured["epochs"]
    epochs = measured["setup"]["epochs"]
    for side in ("refnn", "keras"):
        assert run[side]["stop_reason"] == "epochs" and run[side]["epochs_run"] == epochs
    mine = run["refnn"]
    best = mine["best_epoch"]
    assert best == int(np.argmin(mine["val_loss"])) < epochs - 1
    assert mine["val_loss"][-1] > mine["val_loss"][best]  # validation gets worse after its best epoch
    assert mine["loss"][-1] < mine["loss"][best]          # while the training loss keeps falling
    assert run["same_as_comparison"] and run["max_rel"] <= TOL


def test_the_time_limit_stops_both_sides_once_the_time_is_spent(measured):
    run = measured["time"]
    limit = run["limit"]
    for side in ("refnn", "keras"):
        assert run[side]["stop_reason"] == "time"
        assert run[side]["elapsed_at_stop"] >= limit  # never an exact epoch count: that depends on the machine
        assert run[side]["epochs_run"] >= 1
        seconds = run[side]["epoch_seconds"]
        assert np.all(np.diff(seconds) > 0)
        assert len(seconds) == 1 or seconds[-2] < limit  # every epoch but the last ended within the limit
    assert run["max_rel"] <= TOL  # the same curve on the epochs both ran


def test_early_stopping_stops_and_restores_the_same_epoch_in_refnn_and_keras(measured):
    run = measured["early_stopping"]
    mine, theirs = run["refnn"], run["keras"]
    patience = run["patience"]
    assert mine["stop_reason"] == theirs["stop_reason"] == "early stopping"
    assert run["same_stop"] and run["same_restored"]
    # each side from its own callback: refnn's EarlyStopping, Keras's keras.callbacks.EarlyStopping
    assert 0 < theirs["stopped_epoch"] == mine["stopped_epoch"]
    assert mine["epochs_run"] == theirs["epochs_run"] < measured["setup"]["epochs"]
    assert mine["restored_epoch"] == theirs["restored_epoch"] == mine["best_epoch"]
    assert theirs["restored_epoch"] == int(np.argmin(theirs["val_loss"]))
    assert mine["epochs_run"] == mine["restored_epoch"] + 1 + patience  # patience epochs after the last best
    assert mine["stopped_epoch"] == mine["epochs_run"] - 1
    assert stopping.early_stopping_best(mine["val_loss"]) == mine["restored_epoch"]
    assert run["record"]["validation_failures"][-1] == patience
    assert mine["val_loss"][mine["kept_epoch"]] == min(mine["val_loss"])
    assert run["max_rel"] <= TOL and run["weights_rel"] <= TOL and run["same_as_comparison"]


def test_the_goal_stops_at_the_first_epoch_whose_training_loss_reaches_it(measured):
    run = measured["goal"]
    goal = run["goal"]
    for side in ("refnn", "keras"):
        loss = run[side]["loss"]
        assert run[side]["stop_reason"] == "goal"
        assert loss[-1] <= goal and all(v > goal for v in loss[:-1])
    assert run["refnn"]["reached_epoch"] == run["refnn"]["epochs_run"] - 1
    assert run["same_stop"] and run["stop_error"] == 0.0 and run["max_rel"] <= TOL


def test_levenberg_marquardt_stops_by_its_gradient_or_by_mu(measured):
    lm = measured["levenberg_marquardt"]
    default, off = lm["default"], lm["no_min_grad"]
    assert default["stop_reason"] == "minimum gradient" and default["gradient_norm"][-1] < default["min_grad"]
    assert all(g >= default["min_grad"] for g in default["gradient_norm"][:-1])
    assert off["stop_reason"] == "maximum mu" and off["mu"][-1] > off["mu_max"]
    assert off["epochs_run"] > default["epochs_run"]
    # the same trajectory until the gradient test would have fired; the extra epochs gain nothing
    assert off["loss"][:default["epochs_run"]] == default["loss"]
    assert off["final_loss"] == pytest.approx(default["final_loss"], rel=1e-9)


def test_the_section_renders_with_its_figures_and_checks(measured, tmp_path):
    section = stopping.section(measured)
    assert [type(b).__name__ for b in section.blocks][:2] == ["Formula", "str"]
    assert "patience" in section.blocks[0].text and "max_fail" in section.blocks[0].text
    assert [p.name for p in section.plots] == ["stopping_runs", "stopping_training_record",
                                               "stopping_levenberg_marquardt"]
    assert [c.kind for c in section.checks] == [KERAS] * 4 + [PORT] and all(c.passed for c in section.checks)
    # the stop epoch of the Goal run is compared with our emulation, not with Keras: a consistency check
    assert "Keras side: our emulation (Keras has no such callback)" in section.checks[-1].note
    paths = write(Report("stopping", [section]), str(tmp_path))
    html = open(paths["html"], encoding="utf-8").read()
    assert html.count("data:image/svg+xml;base64") >= 3
    assert "our emulation" in html and "early stopping" in html


def test_the_levenberg_marquardt_story_claims_a_minimum_only_below_min_grad(measured):
    lm = measured["levenberg_marquardt"]
    story = stopping_page._lm_story(lm)
    assert "a minimum has been reached" in story and "< min_grad" in story
    above = {**lm, "default": {**lm["default"], "gradient_norm": lm["default"]["gradient_norm"][:-1] + [1e-3]}}
    assert "a minimum has been reached" not in stopping_page._lm_story(above)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
def test_measure_refuses_a_seed_that_is_not_a_non_negative_integer(seed):
    with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer"):
        stopping.measure(quick=True, seed=seed)


def test_the_command_writes_the_page(measured, tmp_path, monkeypatch):
    """The CLI path (parser, runner, page); the measurement is the module's, already run above."""
    calls = []
    monkeypatch.setattr(stopping, "measure", lambda quick, seed: calls.append((quick, seed)) or measured)
    assert main(["stopping", "--quick", "--out", str(tmp_path)]) == 0
    assert calls == [(True, 0)]
    assert (tmp_path / "index.html").exists()

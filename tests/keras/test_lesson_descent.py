"""The ``descent`` lesson: batch size 1, 32 and N trained in refnn and Keras on the same batches —
the curves agree, each batch size makes ⌈N/|B|⌉ updates per epoch, small batches learn most per
epoch, and the page states what the measured order by seconds is."""

from __future__ import annotations

import json
import math

import pytest

from comparisons import lessons
from comparisons.lessons import descent
from comparisons.lessons.descent_page import order_text, order_verdict
from comparisons.report import Figure, Formula, KERAS, LESSON, Report, Table, write
from refnn.utils.tolerance import TOLERANCES


@pytest.fixture(scope="module")
def measured(quick_report):
    """``measure(quick=True, seed=0)``'s numbers, from the session's ``refnn-compare --quick``
    (tests/conftest.py: measured once for the report and these tests)."""
    return quick_report["sections"]["lesson-descent"].data


def test_refnn_and_keras_train_the_same_curves(measured):
    tol = TOLERANCES["training"]["float64"]
    for run in measured["runs"]:
        assert len(run["refnn"]["loss"]) == len(run["keras"]["loss"]) == run["epochs"]
        assert run["max_rel"] <= tol, run["label"]
        assert run["refnn"]["loss"][-1] == pytest.approx(run["keras"]["loss"][-1], rel=tol)


def test_each_batch_size_makes_its_updates(measured):
    n = measured["rows"]
    assert [r["batch_size"] for r in measured["runs"]] == [1, 32, n]
    assert [r["learning_rate"] for r in measured["runs"]] == [0.01, 0.1, 0.5]
    for run in measured["runs"]:
        assert run["updates_per_epoch"] == math.ceil(n / run["batch_size"])
        assert run["updates"] == run["epochs"] * run["updates_per_epoch"]
        assert abs(run["updates"] - measured["updates"]) <= run["updates_per_epoch"] / 2  # about equal
    assert descent.epochs_for(32, 427, 5 * 427) == 152 and descent.epochs_for(427, 427, 5 * 427) == 2135


def test_training_lowers_the_loss_and_small_batches_learn_most_per_epoch(measured):
    one, mini, full = measured["runs"]
    for run in measured["runs"]:
        assert run["refnn"]["loss"][-1] < 0.5 * run["refnn"]["loss"][0]
    # after the batch-1 run's epochs, the smaller the batch the lower the loss
    e = one["epochs"]
    assert one["refnn"]["loss"][e - 1] < mini["refnn"]["loss"][e - 1] < full["refnn"]["loss"][e - 1]
    assert measured["order"]["epochs"][0] == ["1"]


def test_timing_and_the_derived_numbers(measured):
    budget, target = measured["budget"], measured["target"]
    for side in ("refnn", "keras"):
        assert budget[side] == min(r[side]["seconds"][-1] for r in measured["runs"])
    assert target == max(min(r["refnn"]["loss"]) for r in measured["runs"])
    for run in measured["runs"]:
        for side in ("refnn", "keras"):
            seconds = run[side]["seconds"]
            assert all(b > a for a, b in zip(seconds, seconds[1:])) and seconds[0] > 0
            assert run[side]["seconds_per_update"] == pytest.approx(
                run[side]["seconds_per_epoch"] / run["updates_per_epoch"])
            at_budget = run["loss_at_budget"][side]  # None: not one epoch ended within the budget
            assert at_budget is None or at_budget in run[side]["loss"]
        reach = run["reach"]
        assert run["refnn"]["loss"][reach["epoch"] - 1] <= target
        assert all(v > target for v in run["refnn"]["loss"][:reach["epoch"] - 1])
        assert reach["refnn"] == run["refnn"]["seconds"][reach["epoch"] - 1]
    # one batch-1 epoch (N updates) costs more than one full-batch epoch (one update), on both sides
    one, full = measured["runs"][0], measured["runs"][-1]
    for side in ("refnn", "keras"):
        assert one[side]["seconds_per_epoch"] > 5 * full[side]["seconds_per_epoch"]
    json.dumps(measured)


def test_the_verdict_is_computed_from_the_order():
    assert order_text([["1"], ["32", "N"]]) == "1, then 32 and N (tied)"
    assert order_verdict([["1"], ["32"], ["N"]], [["N"], ["32"], ["1"]]) == "the order flips"
    assert order_verdict([["1"], ["32", "N"]], [["N"], ["32"], ["1"]]) == "the order flips"
    assert order_verdict([["1"], ["32"], ["N"]], [["1"], ["32"], ["N"]]) == "the order stays"
    assert order_verdict([["1"], ["32"], ["N"]], [["32"], ["N"], ["1"]]) == \
        "the order changes: |B| = 32 is fastest, |B| = 1 slowest"


def test_the_section_renders_concepts_first(measured, tmp_path):
    section = descent.section(measured)
    assert section.key == "lesson-descent" and section.part == LESSON and section.title == descent.TITLE
    assert isinstance(section.blocks[0], Formula) and "W ← W − η · (1/|B|) Σ_{n∈B} ∇E_n(W)" in section.blocks[0].text
    assert isinstance(section.blocks[1], str)
    text = " ".join(b for b in section.blocks if isinstance(b, str))
    verdict = order_verdict(measured["order"]["epochs"], measured["order"]["seconds_refnn"])
    assert verdict in text and f"{measured['target']:.3g}" in text
    assert [type(b) for b in section.blocks if not isinstance(b, str)] == [Formula, Figure, Table, Table]
    assert len(section.checks) == 3 and all(c.kind == KERAS and c.passed for c in section.checks)
    write(Report("descent", [section]), str(tmp_path))
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "data:image/svg+xml;base64" in page and "<strong>" in page and "**" not in page


def test_the_command_writes_the_page(measured, tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(descent, "measure", lambda quick, seed: calls.append((quick, seed)) or measured)  # once
    assert lessons.main(["descent", "--quick", "--out", str(tmp_path)]) == 0
    assert calls == [(True, 0)]
    assert "3 of 3 comparisons within tolerance" in capsys.readouterr().out
    assert (tmp_path / "index.html").exists()

"""The overfitting lesson (``refnn-compare lesson overfitting``): the plain network overfits, the
penalty sits in ``val_loss`` and not in the data-only crossentropy, early stopping marks the same
epochs on both sides, dropout agrees with Keras in distribution, refnn equals Keras run by run —
and the page renders."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from comparisons import lessons  # noqa: E402
from comparisons.lessons import overfitting  # noqa: E402
from comparisons.report import Report, write  # noqa: E402
from refnn.utils.tolerance import TOLERANCES  # noqa: E402

TOL = TOLERANCES["training"]["float64"]


@pytest.fixture(scope="module")
def measured(quick_report):
    """``measure(quick=True, seed=0)``'s numbers, from the session's ``refnn-compare --quick``
    (tests/conftest.py: measured once for the report and these tests)."""
    return quick_report["sections"]["lesson-overfitting"].data


def _run(measured, name_start):
    return next(r for r in measured["runs"] if r["name"].startswith(name_start))


def test_refnn_equals_keras_run_by_run(measured):
    names = [r["name"] for r in measured["runs"]]
    assert names[0] == "plain" and any(n.startswith("L2") for n in names)
    assert {"early stopping", "smaller network"} <= set(names)
    for run in measured["runs"]:
        assert run["passed"] and run["max_rel"] <= TOL, (run["name"], run["history_errors"])
        assert run["refnn"]["val_categorical_crossentropy"] and run["keras"]["val_categorical_crossentropy"]


def test_the_plain_network_overfits(measured):
    h = _run(measured, "plain")["refnn"]
    train, val = h["categorical_crossentropy"], h["val_categorical_crossentropy"]
    assert train[-1] < 0.05 < val[-1] and val[-1] > 10 * train[-1]
    assert train[-1] < train[0] / 100              # it learns the training rows ...
    assert val[-1] > min(val) + 0.03                # ... while the validation crossentropy rises again


def test_the_penalty_is_in_val_loss_not_in_the_crossentropy(measured):
    l2, plain = _run(measured, "L2"), _run(measured, "plain")
    for side in ("refnn", "keras"):
        penalty = np.subtract(l2[side]["val_loss"], l2[side]["val_categorical_crossentropy"])
        unpenalised = np.subtract(plain[side]["val_loss"], plain[side]["val_categorical_crossentropy"])
        np.testing.assert_allclose(unpenalised, 0.0, atol=1e-12)  # no penalty: one number
        assert np.all(penalty > 0.01)                               # λΣw² of the current weights
        assert np.all(np.subtract(l2[side]["loss"], l2[side]["categorical_crossentropy"]) > 0.01)
    # the trap: by val_loss the L2 run looks worse than the plain one; by the data alone it does not, as much
    h, p = l2["refnn"], plain["refnn"]
    assert h["val_loss"][-1] - p["val_loss"][-1] > abs(h["val_categorical_crossentropy"][-1]
                                                       - p["val_categorical_crossentropy"][-1])


def test_early_stopping_marks_the_same_epochs_on_both_sides(measured):
    run = _run(measured, "early stopping")
    stop, patience = run["early_stopping"], run["early_stopping"]["patience"]
    assert stop["refnn"] == stop["keras"]
    mine = stop["refnn"]
    assert mine["stopped"] is not None and mine["stopped"] < measured["size"]["epochs"]
    assert mine["stopped"] == mine["best"] + patience and mine["restored"] == mine["best"]
    val_loss = run["refnn"]["val_loss"]
    assert val_loss[mine["restored"] - 1] == min(val_loss)
    # until it stops, the run is the plain run: the same weights, batches and numbers
    plain = _run(measured, "plain")["refnn"]["val_loss"][:mine["stopped"]]
    np.testing.assert_array_equal(val_loss, plain)


def test_the_smaller_network_overfits_less(measured):
    small, plain = _run(measured, "smaller network"), _run(measured, "plain")
    assert small["parameters"] < plain["parameters"] / 20

    def gap(h):
        return h["val_categorical_crossentropy"][-1] - h["categorical_crossentropy"][-1]
    assert gap(small["refnn"]) < gap(plain["refnn"])


def test_dropout_agrees_with_keras_in_distribution(measured):
    plain = _run(measured, "plain")["refnn"]
    for run in measured["dropout"]:
        mine, theirs = run["curves"]["refnn"], run["curves"]["keras"]
        n = len(run["mask_seeds"])
        assert len(mine["val_categorical_crossentropy"]) == len(theirs["val_categorical_crossentropy"]) == n >= 3
        # the masks differ: between seeds on each side, and between the frameworks for one seed
        assert len({c[-1] for c in mine["categorical_crossentropy"]}) == n
        assert len({c[-1] for c in theirs["categorical_crossentropy"]}) == n
        assert mine["categorical_crossentropy"][0] != theirs["categorical_crossentropy"][0]
        for key, a in run["agreement"].items():
            assert a["within"], (run["name"], key, a)
            assert abs(a["difference"]) <= overfitting.SE_CRITERION * a["standard_error"]
        # dropout keeps the network from fitting the training rows exactly
        assert np.mean([c[-1] for c in mine["categorical_crossentropy"]]) > 5 * plain["categorical_crossentropy"][-1]


def test_a_restarted_keras_twin_trains_as_a_fresh_one(measured):
    """The lesson trains one Keras twin per rate and restarts it for each mask seed; a fresh twin
    with the second seed's Dropout seeds trains bit for bit the same."""
    from keras_bridge import to_keras
    from keras_bridge.compare import keras_fit_in_order

    size = overfitting.SIZES[True]
    x, y, _, _ = overfitting._data(size, 0)
    run = measured["dropout"][0]
    model = overfitting.build_model(0, dropout=run["rate"], mask_seeds=run["mask_seeds"][1])
    orders = model.next_shuffle_orders(x.shape[0], size["epochs"])
    history = keras_fit_in_order(to_keras(model), x, y, orders, overfitting.BATCH).history
    restarted = run["curves"]["keras"]["categorical_crossentropy"][1]
    assert list(map(float, history["categorical_crossentropy"])) == restarted


def test_the_section_renders_concepts_first(measured, tmp_path):
    section = overfitting.section(measured)
    assert section.key == "lesson-overfitting" and section.part == "lesson"
    assert type(section.blocks[0]).__name__ == "Formula" and "λ Σ w²" in section.blocks[0].text
    assert "m ⊙ x / (1 − p)" in section.blocks[0].text
    assert len(section.checks) == len(measured["runs"]) and all(c.passed for c in section.checks)
    assert {p.name for p in section.plots} == {"overfitting_curves", "overfitting_penalty", "overfitting_dropout"}
    write(Report("overfitting", [section]), str(tmp_path))
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.count("data:image/svg+xml;base64") == 3
    for needle in ("val_categorical_crossentropy", "3 SE", "statistical", "restored"):
        assert needle in page
    assert ">FAIL" not in page and "FAILED" not in page


def test_the_command_writes_the_page(measured, tmp_path, monkeypatch, capsys):
    """``refnn-compare lesson overfitting --quick``: the numbers measured once by the fixture (the
    lesson's measurement is what the other tests check; here the command's plumbing)."""
    asked = {}

    def measure(quick=False, seed=0):
        asked.update(quick=quick, seed=seed)
        return measured
    monkeypatch.setattr(overfitting, "measure", measure)
    assert lessons.main(["overfitting", "--quick", "--out", str(tmp_path)]) == 0
    assert asked == {"quick": True, "seed": 0}
    assert (tmp_path / "index.html").exists()
    out = capsys.readouterr().out
    assert "val crossentropy (data only)" in out
    assert "|difference| ≤ 3 SE" in out

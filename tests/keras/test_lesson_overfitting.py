"""The overfitting lesson (``refnn-compare lesson overfitting``): the plain network overfits, the
penalty sits in ``val_loss`` and not in the data-only crossentropy, refnn's and Keras's own
EarlyStopping mark the same epochs, dropout is compared with Keras by Welch's t test (computed as
stated), refnn equals Keras run by run — and the page renders."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from comparisons import lessons  # noqa: E402
from comparisons.lessons import overfitting  # noqa: E402
from comparisons.report import KERAS, STATS, Report, write  # noqa: E402
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
    """Each side read from its own callback: Keras's ``keras.callbacks.EarlyStopping`` (kept by
    ``compare.training``) and refnn's ``EarlyStopping`` in refnn's ``fit`` of the same run."""
    run = _run(measured, "early stopping")
    stop, patience = run["early_stopping"], run["early_stopping"]["patience"]
    mine, theirs = stop["refnn"], stop["keras"]
    assert stop["same_as_comparison"]  # refnn's own fit is the comparison's refnn side, number for number
    for key in ("best", "stopped", "restored", "epochs_run"):
        assert theirs[key] == mine[key], key
    assert mine["stopped"] is not None and mine["stopped"] < measured["size"]["epochs"]
    assert mine["stopped"] == mine["best"] + patience == mine["epochs_run"]
    val_loss = run["refnn"]["val_loss"]
    assert val_loss[mine["best"] - 1] == min(val_loss)
    assert run["keras"]["val_loss"][theirs["best"] - 1] == min(run["keras"]["val_loss"])
    assert run["weights_error"] <= TOL  # the restored weights agree: both put back the same epoch
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
        # dropout keeps the network from fitting the training rows exactly
        assert np.mean([c[-1] for c in mine["categorical_crossentropy"]]) > 5 * plain["categorical_crossentropy"][-1]


def test_dropout_statistics_are_welch_at_the_bonferroni_corrected_level(measured):
    """The stored statistics recomputed by hand from the stored curves (not the verdict, which at
    a few seeds may fall either way by chance): SE, the Welch–Satterthwaite ν, the critical t at
    two-sided 1 % shared by the 3 quantities, the ratio, and the one STATS check per rate."""
    from scipy import stats

    checks = [c for c in overfitting.section(measured).checks if c.kind == STATS]
    assert len(checks) == len(measured["dropout"]) >= 1
    for run, check in zip(measured["dropout"], checks):
        n, m = len(run["mask_seeds"]), len(run["agreement"])
        assert run["statistics"]["level"] == 0.01 and run["statistics"]["quantities"] == m == 3
        for key, a in run["agreement"].items():
            r = np.array([c[-1] for c in run["curves"]["refnn"][key]])
            k = np.array([c[-1] for c in run["curves"]["keras"][key]])
            var_r, var_k = np.var(r, ddof=1) / n, np.var(k, ddof=1) / n
            se = np.sqrt(var_r + var_k)
            df = (var_r + var_k) ** 2 / (var_r ** 2 / (n - 1) + var_k ** 2 / (n - 1))
            critical = stats.t.ppf(1 - 0.01 / (2 * 3), df)
            assert n - 1 <= df <= 2 * (n - 1)
            assert a["standard_error"] == pytest.approx(se, rel=1e-12)
            assert a["df"] == pytest.approx(df, rel=1e-12)
            assert a["critical_t"] == pytest.approx(critical, rel=1e-12)
            assert a["ratio"] == pytest.approx(abs(r.mean() - k.mean()) / (critical * se), rel=1e-12)
        worst = max(a["ratio"] for a in run["agreement"].values())
        assert run["statistics"]["ratio"] == worst == run["agreement"][run["statistics"]["worst"]]["ratio"]
        assert check.errors == {"float64": worst} and check.tolerance == {"float64": 1.0}
        assert f"statistical comparison over {n} mask seeds per side" in check.note


def test_welch_matches_the_textbook_table():
    """Equal spreads and sizes: ν = 2(n − 1) = 6, and t* is the table's t₀.₉₉₅(6) = 3.707 at one
    quantity, t₀.₉₇₅(6) = 2.447 at 5 %; Bonferroni over 3 moves the quantile to 1 − 0.01/6."""
    from scipy import stats

    one = overfitting.welch([0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0], level=0.01, quantities=1)
    assert one["df"] == pytest.approx(6.0, rel=1e-12)
    assert one["standard_error"] == pytest.approx(np.sqrt(5 / 6), rel=1e-12)
    assert one["critical_t"] == pytest.approx(3.707, abs=5e-4)
    assert one["ratio"] == pytest.approx(1 / (one["critical_t"] * np.sqrt(5 / 6)), rel=1e-12)
    assert overfitting.welch([0, 1, 2, 3], [1, 2, 3, 4], level=0.05, quantities=1)["critical_t"] == \
        pytest.approx(2.447, abs=5e-4)
    three = overfitting.welch([0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    assert three["critical_t"] == pytest.approx(stats.t.ppf(1 - 0.01 / 6, 6), rel=1e-12)
    assert three["critical_t"] > one["critical_t"]
    # no spread on either side: ν is undefined; equal means agree, different ones do not
    assert overfitting.welch([0.5] * 3, [0.5] * 3)["ratio"] == 0.0
    assert overfitting.welch([0.5] * 3, [0.6] * 3)["ratio"] == np.inf
    assert overfitting.welch([0.5] * 3, [0.6] * 3)["df"] is None


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
def test_measure_refuses_a_seed_that_is_not_a_non_negative_integer(seed):
    with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer"):
        overfitting.measure(quick=True, seed=seed)


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
    assert [c.kind for c in section.checks] == [KERAS] * len(measured["runs"]) + [STATS] * len(measured["dropout"])
    assert all(c.passed for c in section.checks if c.kind == KERAS)
    assert {p.name for p in section.plots} == {"overfitting_curves", "overfitting_penalty", "overfitting_dropout"}
    write(Report("overfitting", [section]), str(tmp_path))
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.count("data:image/svg+xml;base64") == 3
    for needle in ("val_categorical_crossentropy", "Welch", "Bonferroni", "statistical", "restored"):
        assert needle in page


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
    assert "|difference| / (t*·SE)" in out


def test_the_story_says_only_what_the_numbers_back(measured):
    """The plain run "rises" only when its minimum comes before the last epoch; a penalised run
    "reads as worse" only when its val_loss is no lower than the plain run's."""
    from comparisons.lessons import overfitting_page

    plain = _run(measured, "plain")
    falling = {**plain, "refnn": {**plain["refnn"], "val_categorical_crossentropy":
                                  sorted(plain["refnn"]["val_categorical_crossentropy"], reverse=True)}}
    runs = [falling if r is plain else r for r in measured["runs"]]
    story = " ".join(overfitting_page._story({**measured, "runs": runs}))
    assert "rises to" not in story and "still falling" in story
    assert "rises to" in " ".join(overfitting_page._story(measured))
    penalised = [r for r in measured["runs"] if r["penalty"]]
    worse_plain = {**plain["refnn"], "val_loss": [v + 10.0 for v in plain["refnn"]["val_loss"]]}
    assert "reads as *worse*" not in overfitting_page._trap_story(penalised, worse_plain)
    assert "penalty of the weights" in overfitting_page._trap_story(penalised, worse_plain)

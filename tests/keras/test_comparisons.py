"""The comparisons suite and its CLI: ``refnn-compare --quick`` end to end in a temporary directory,
and the numbers each study reports, checked against the closed-form values they teach.

The suite runs once per module (``cli.run(["--quick", ...])``, ~20 s); the tests read its report.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

from comparisons import cli, datasets
from comparisons import report as rep
from comparisons.lessons import REPORT_LESSONS
from refnn.utils.tolerance import TOLERANCES


@pytest.fixture(scope="module")
def quick(quick_report):
    """``refnn-compare --quick`` (tests/conftest.py: once per session)."""
    return quick_report


# ---- the CLI end to end ---------------------------------------------------------------------------
def test_cli_runs_every_lesson_then_every_study_and_writes_the_report(quick):
    out, report = quick["out"], quick["report"]
    lessons = [f"lesson-{name}" for name in REPORT_LESSONS]
    assert [s.key for s in report.sections] == lessons + list(cli.STUDIES)
    assert [s.part for s in report.sections] == [rep.LESSON] * len(lessons) + [rep.EVIDENCE] * len(cli.STUDIES)
    for name in ("index.html", "report.md", "report.json"):
        assert (out / name).stat().st_size > 1000, name
    plots = [p.name for s in report.sections for p in s.plots]
    assert len(plots) >= 10
    for name in plots:
        assert b"<svg" in (out / f"{name}.svg").read_bytes()[:2000], name
    # every study reported its time, and the progress went to stderr
    assert all(s.seconds > 0 for s in report.sections)
    for key in [*REPORT_LESSONS, *cli.STUDIES]:
        assert f"{key:<12} done in" in quick["stderr"]


def test_html_is_self_contained_and_references_only_written_files(quick):
    html = (quick["out"] / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the HTML must not load network assets"
    images = re.findall(r'<img src="([^"]+)"', html)
    assert images and all(src.startswith("data:image/svg+xml;base64,") for src in images), \
        "every figure is embedded: the page stands alone"
    for section in quick["report"].sections:
        assert section.title.replace("'", "&#x27;") in html


def test_markdown_and_json_hold_the_summary(quick):
    md = (quick["out"] / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# refnn and Keras side by side: lessons, and the parity evidence")
    assert md.index("## Appendix: parity evidence") > max(md.index(f"## {s.title}") for s in quick["report"].sections
                                                           if s.part == rep.LESSON)
    assert all(f"## {s.title}" in md for s in quick["report"].sections)
    data = json.loads((quick["out"] / "report.json").read_text(encoding="utf-8"))
    assert data["passed"] is True
    assert len(data["checks"]) == len(quick["report"].checks)
    assert set(data["sections"]) == {s.key for s in quick["report"].sections}


def test_printed_summary_has_one_row_per_comparison_and_difference(quick):
    text, report = quick["stdout"], quick["report"]
    assert text.startswith(f"refnn-compare: {', '.join(REPORT_LESSONS)}, gradients, optimizers, conventions, "
                           "training, classics (quick)")
    for check in report.checks:
        assert check.what in text
        assert check.passed is True, check
    for difference in report.differences:
        assert difference.what in text and difference.size in text
    # at least one teaching row per convention item
    for prefix in ("momentum", "RMSprop", "Adam", "MSE", "BCE", "softmax", "CCE", "L2", "staircase"):
        assert any(d.what.startswith(prefix) for d in report.differences), prefix
    assert f"{len(report.checks)} of {len(report.checks)} comparisons within tolerance (" in text
    n_keras = sum(c.kind == rep.KERAS for c in report.checks)
    assert f"{n_keras} against Keras/TensorFlow" in text
    assert "Report: " in text and "index.html" in text


def test_the_suite_leaves_keras_floatx_alone(quick):
    assert keras.config.floatx() == "float32"


def test_bench_subcommand_delegates_to_the_benchmark(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", "--help"])
    assert exc.value.code == 0
    assert "refnn-compare bench" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["nonsense"])
    assert exc.value.code == 2
    assert "invalid choice: 'nonsense'" in capsys.readouterr().err


def test_options_before_and_after_the_command_are_kept():
    parser = cli.build_parser()
    args = parser.parse_args(["--quick", "--out", "x", "gradients"])
    assert (args.command, args.quick, args.out, args.seed) == ("gradients", True, "x", 0)
    args = parser.parse_args(["training", "--seed", "3"])
    assert (args.command, args.quick, args.out, args.seed) == ("training", False, cli.DEFAULT_OUT, 3)


def test_console_script_runs_one_study(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "refnn-compare")
    if not os.path.exists(script):
        pytest.skip("refnn-compare is not installed next to this interpreter (pip install -e .)")
    done = subprocess.run([script, "classics", "--quick", "--out", str(tmp_path / "r")], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "10-5-10 encoder" in done.stdout
    assert (tmp_path / "r" / "index.html").exists() and (tmp_path / "r" / "classics_encoder.svg").exists()


# ---- the numbers of each study --------------------------------------------------------------------
def test_gradients_agree_with_keras_and_finite_differences(quick):
    data = quick["sections"]["gradients"].data
    for case in ("digits", "breast_cancer", "iris", "diabetes"):
        result = data[case]
        assert len(result["rows"]) == len(result["float64"]) == len(result["float32"]) >= 7
        assert max(result["float64"]) <= TOLERANCES["gradients"]["float64"], case
        assert max(result["float32"]) <= TOLERANCES["gradients"]["float32"], case
        assert 0 < result["loss"]["float64"] < 10
        if case != "digits":  # --quick skips the 9 610-parameter finite-difference check
            assert 0 < max(result["finite_differences"].values()) <= 1e-6, case
    assert [r[:2] for r in data["digits"]["rows"][:4]] == [
        ("model", "loss"), ("dense_2", "kernel"), ("dense_2", "bias"), ("dense_2", "dE/dX")]


def test_optimizer_trajectories_agree_with_keras(quick):
    data = quick["sections"]["optimizers"].data
    for label in ("SGD momentum=0.9", "RMSprop", "Adam", "Adagrad"):
        for dtype in ("float64", "float32"):
            assert data[label][dtype]["max"] <= TOLERANCES["optimizer"][dtype], (label, dtype)
    # the textbook's EMA momentum is Keras's velocity with lr·(1−μ) at a constant lr
    assert data["SGD momentum_form=ema (→ Keras lr·(1−μ))"]["float64"]["max"] <= TOLERANCES["optimizer"]["float64"]


def test_momentum_ratio_is_one_over_one_minus_beta(quick):
    m = quick["sections"]["conventions"].data["momentum"]
    expected = 1.0 / (1.0 - float(np.float32(0.9)))  # Keras float64 rounds μ through float32
    assert m["ratio_constant"] == pytest.approx([expected, expected], rel=1e-9)
    assert np.allclose(m["ratio_mapped"], 1.0, rtol=1e-9, atol=0)
    schedule = np.asarray(m["ratio_schedule"])
    assert schedule[0] == pytest.approx(1.0, rel=1e-6)
    assert schedule[-1] > 2.0 and np.all(np.diff(schedule[5:]) > 0)  # diverging, not a constant factor


def test_rmsprop_step_sizes_and_epsilon_floor(quick):
    r = quick["sections"]["conventions"].data["rmsprop"]
    for t, v in r["step_over_lr"].items():
        assert v["keras"] == pytest.approx(1 / math.sqrt(1 - 0.9 ** t + 1e-7), rel=1e-9), t
        assert v["textbook"] == pytest.approx(1 / (math.sqrt(1 - 0.999 ** t) + 1e-8), rel=1e-9), t
    assert r["step_over_lr"][1]["keras"] == pytest.approx(3.162, abs=1e-3)
    assert r["step_over_lr"][1]["textbook"] == pytest.approx(31.62, abs=1e-2)
    for g, v in r["floor"].items():
        assert v["keras"] == pytest.approx(g / math.sqrt(g * g + 1e-7), rel=1e-6), g
        assert v["outside_sqrt"] == pytest.approx(g / (g + 1e-7), rel=1e-6), g
    assert [round(v["keras"], 4) for v in r["floor"].values()] == [0.9995, 0.9535, 0.3015]


def test_adam_epsilon_hat_difference(quick):
    a = quick["sections"]["conventions"].data["adam"]
    for g, v in a["table"].items():
        expected = (g + 1e-7) / (g + 1e-7 / math.sqrt(1 - 0.999)) - 1
        assert v["t1"] == pytest.approx(expected, rel=1e-3), g
        assert abs(v["tT"]) < abs(v["t1"]), g  # ε̂ → ε as t grows
    assert a["table"][1e-4]["t1"] == pytest.approx(-0.0297, abs=2e-4)
    assert a["table"][1e-5]["t1"] == pytest.approx(-0.233, abs=2e-3)


def test_mse_textbook_gradient_is_d_times_larger(quick):
    e = quick["sections"]["conventions"].data["mse"]
    assert (e["iris"]["D"], e["diabetes"]["D"]) == (3, 1)
    assert e["iris"]["ratio"] == pytest.approx(3.0, rel=1e-12)
    assert e["diabetes"]["ratio"] == pytest.approx(1.0, rel=1e-12)


def test_bce_saturates_in_float32_only_on_probabilities(quick):
    b = quick["sections"]["conventions"].data["bce"]
    i = b["z"].index(20.0)
    f32, f64 = b["float32"], b["float64"]
    assert math.isnan(f32["textbook"][i])  # 0/0: the textbook formula without the clip
    assert f32["textbook_clipped"][i] == 0.0 and f32["keras_probabilities"][i] == 0.0
    assert f32["keras_logits"][i] == pytest.approx(1.0, rel=1e-6)
    assert f64["textbook"][i] == pytest.approx(1 / (1 + math.exp(-20)), rel=1e-6)  # float64 not saturated
    assert 15.0 < f32["saturates_at"] < 18.0


def test_softmax_diagonal_only_derivative_is_wrong(quick):
    s = quick["sections"]["conventions"].data["softmax"]
    z = np.array([2.0, 1.0, 0.1])
    f = np.exp(z) / np.exp(z).sum()
    y = np.array([0.0, 1.0, 0.0])
    assert np.allclose(s["keras"], f - y, rtol=1e-12, atol=1e-15)
    assert np.allclose(s["full"], f - y, rtol=1e-12, atol=1e-15)
    assert np.allclose(s["diagonal"], -y * (1 - f), atol=1e-15)
    assert np.round(s["keras"], 3).tolist() == [0.659, -0.758, 0.099]
    assert s["diagonal_error"] == pytest.approx(f[0], rel=1e-12)
    assert np.allclose(s["dp_offset"], 1.0, rtol=1e-12)  # Keras's renormalisation term, N = 1


def test_l2_keras_penalty_is_twice_the_textbook_penalty(quick):
    w = quick["sections"]["conventions"].data["l2"]
    # Keras float64 rounds l2 = 0.01 through float32: 2·float32(0.01)/0.01
    assert w["value_ratio"] == pytest.approx(2 * float(np.float32(0.01)) / 0.01, rel=1e-12)
    assert w["gradient_ratio"] == pytest.approx(w["value_ratio"], rel=1e-12)
    assert 1e-10 < w["exact_factor_rel"] < 1e-7


def test_staircase_schedule_comes_one_step_late_inside_fit(quick):
    s = quick["sections"]["conventions"].data["schedules"]
    assert s["keras_fit"][41] == pytest.approx(0.1) and s["keras_eager"][41] == pytest.approx(0.05)
    assert s["twin"] == s["keras_fit"] and s["formula"][41] == 0.05
    assert s["fit_twin"] <= TOLERANCES["training"]["float64"] and s["fit_formula"] > 1e-3
    assert len(s["affected"]) == 135 and s["affected"][0] == 41


def test_conventions_checks_pass(quick):
    for check in quick["sections"]["conventions"].checks:
        assert check.passed is True, check


def test_training_curves_agree_and_exact_constants_matter(quick):
    data = quick["sections"]["training"].data
    for case in ("digits", "diabetes"):
        for dtype in ("float64", "float32"):
            run = data[case][dtype]
            assert run["max"] <= TOLERANCES["training"][dtype], (case, dtype)
            assert len(run["refnn"]["loss"]) == len(run["keras"]["val_loss"]) == 5  # --quick: 5 epochs
            assert run["refnn"]["loss"][-1] < run["refnn"]["loss"][0]
    # without Keras's float32 rounding of Adam's β's the float64 runs part by far more than rounding
    assert data["diabetes_exact_constants"]["max"] > 1e3 * max(data["diabetes"]["float64"]["max"], 1e-16)


def test_classics_reproduce_the_published_ordering(quick):
    enc = quick["sections"]["classics"].data["encoder"]["methods"]
    gd, rprop, qp = enc["gradient descent ε = 1.9"], enc["Rprop+ Δ₀ = 2"], enc["Quickprop ε = 1.5, μ = 1.75"]
    assert all(m["runs"] == 5 for m in enc.values())
    assert gd["converged"] == 5 and qp["converged"] == 5 and rprop["converged"] >= 3
    assert 60 < gd["mean"] < 300 and rprop["mean"] < 40 and qp["mean"] < 40
    assert gd["mean"] > 3 * max(rprop["mean"], qp["mean"])
    sine = quick["sections"]["classics"].data["sine"]["methods"]
    lm, rp = sine["Levenberg–Marquardt (trainlm defaults)"], sine["iRprop+ Δ₀ = 0.01"]
    assert lm["converged"] == lm["runs"] == 3 and lm["max"] < 60
    assert all(v < 0.02 for v in lm["final_sse"])
    assert rp["median"] is None or rp["median"] > 5 * lm["median"]
    assert sine["gradient descent lr = 0.005"]["converged"] == 0  # plain GD: far from the goal


# ---- the report helpers ---------------------------------------------------------------------------
def test_check_status_semantics():
    tol = {"float64": 1e-10, "float32": 1e-5}
    assert rep.Check("a", {"float64": 0.0, "float32": 1e-6}, tol).passed is True
    assert rep.Check("a", {"float64": 1e-9, "float32": 1e-6}, tol).passed is False
    assert rep.Check("a", {"float64": float("nan")}, tol).passed is False
    assert rep.Check("a", {"float64": None, "float32": None}, tol, "not compared").passed is None
    report = rep.Report("t", [rep.Section("s", "S", checks=[rep.Check("a", {"float64": None}, tol)])])
    assert report.passed
    assert "0 of 1 comparisons within tolerance, 1 not run (1 against Keras/TensorFlow)." in rep.summary_text(report)


def test_formatting():
    assert [rep.fmt_err(v) for v in (None, 0.0, 3.26e-16, float("inf"))] == ["—", "0", "3.3e-16", "inf"]
    assert [rep.fmt_num(v) for v in (3.16227, 1e-4, 31.6227)] == ["3.162", "1.000e-04", "31.62"]


def test_datasets_are_bundled_and_split(tmp_path):
    for name in datasets.NAMES:
        d = datasets.load(name, "float32", seed=0)
        assert d.x_train.dtype == np.float32 and d.x_train.shape[0] > d.x_test.shape[0] > 0
        assert d.x_train.shape[1] == d.x_test.shape[1] and d.y_train.shape[1] == d.y_test.shape[1]
    x, y = datasets.sine_problem()
    assert x.shape == y.shape == (40, 1) and y.min() >= 0.25 - 1e-12 and y.max() <= 0.75 + 1e-12
    with pytest.raises(ValueError, match=r"`name` must be one of .* Received: name='mnist'"):
        datasets.load("mnist")


def test_missing_dependency_is_reported_not_raised(monkeypatch, capsys):
    def no_sklearn(argv=None, stream=None):
        raise ModuleNotFoundError("No module named 'sklearn'", name="sklearn")

    monkeypatch.setattr(cli, "run", no_sklearn)
    assert cli.main(["classics"]) == 2
    assert "refnn-compare needs scikit-learn, which is not installed" in capsys.readouterr().err

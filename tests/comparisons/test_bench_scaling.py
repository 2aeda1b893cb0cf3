"""The scaling sweep and the bench's HTML page (``refnn-compare bench --scaling``): the quick sweep
runs, its slopes are finite, the page stands alone with its figures embedded, the figures have
labelled axes. Timings themselves are never asserted."""

import json
import math
import os
import re

import pytest

from comparisons.bench import scaling
from comparisons.bench.report import page_html, scaling_plots, write_page
from comparisons.report.plots import new_figure

FRAMEWORKS = ["gemm_floor", "refnn"]


@pytest.fixture(scope="module")
def quick_sweep():
    return scaling.run_scaling(scaling.QUICK, FRAMEWORKS, log=lambda *a, **k: None)


def test_fit_slope_recovers_a_power_law_over_its_regime_only():
    sizes = [1, 2, 4, 8, 16, 32]
    times = [3.0 / s if s <= 4 else 0.75 for s in sizes]  # −1, then flat
    assert scaling.fit_slope(sizes, times, (1, 4)) == pytest.approx(-1.0, abs=1e-12)
    assert scaling.fit_slope(sizes, times, (8, 1 << 30)) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(scaling.fit_slope(sizes, times, (32, 64)))  # one point: no slope


def test_the_quick_sweep_times_every_point_and_fits_finite_slopes(quick_sweep):
    assert [r["framework"] for r in quick_sweep["rows"]] == FRAMEWORKS and not quick_sweep["skipped"]
    for row in quick_sweep["rows"]:
        assert len(row["batch_s"]) == len(scaling.QUICK.batch_sizes)
        assert len(row["width_s"]) == len(scaling.QUICK.widths)
        assert all(t > 0 for t in row["batch_s"] + row["width_s"])
        assert set(row["slopes"]) == {"small B", "large B", "width"}
        assert all(math.isfinite(v) for v in row["slopes"].values()), row["slopes"]
    table = scaling.scaling_markdown(quick_sweep)
    assert "| refnn |" in table and "slope vs width (w ≥ 32)" in table
    assert "Why mini-batches" in scaling.why_mini_batches(quick_sweep)


def test_repeated_sweeps_keep_every_points_fastest_time():
    spec = scaling.ScalingSpec(n_rows=64, n_features=8, batch_sizes=[8, 16], fixed_width=8, widths=[8, 16],
                               fixed_batch=16, epochs=2, batch_fits={"small B": (8, 16), "large B": (16, 16)},
                               width_fit=(8, 16))
    result = scaling.run_scaling(spec, ["gemm_floor"], repeats=2, log=lambda *a, **k: None)
    (row,) = result["rows"]
    assert result["repeats"] == 2 and len(row["batch_s"]) == 2 and len(row["width_s"]) == 2
    assert math.isfinite(row["slopes"]["small B"]) and math.isnan(row["slopes"]["large B"])


def test_the_figures_have_labelled_log_axes_and_every_framework_in_the_legend(quick_sweep):
    for plot in scaling_plots(quick_sweep):
        fig = new_figure(*plot.size)
        plot.draw(fig)
        ax = fig.axes[0]
        assert "time per epoch (ms)" == ax.get_ylabel() and ax.get_xlabel()
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert [lab.split(":")[0] for lab in labels] == FRAMEWORKS and all("slope" in lab for lab in labels)


def test_the_page_is_self_contained_with_the_bench_table_targets_and_figures(quick_sweep, tmp_path):
    pytest.importorskip("sklearn")
    from comparisons import bench

    result = bench.run(workloads=["W1"], frameworks=["gemm_floor", "refnn"], log=lambda *a, **k: None)
    bench.write(result, str(tmp_path))
    paths = write_page(str(tmp_path), quick_sweep)
    page = open(paths["html"], encoding="utf-8").read()
    assert paths["html"] == os.path.join(str(tmp_path), "bench", "index.html")
    assert "http" not in page.replace('lang="en"', "")  # nothing fetched, nothing linked
    assert len(re.findall(r'<img src="data:image/svg\+xml;base64,', page)) == 2
    assert not re.search(r'src="(?!data:)', page)
    assert "| W1 |" not in page and "<td>W1</td>" in page and "GEMM floor" in page  # tables as HTML
    assert "Why mini-batches" in page
    assert '<td class="not-run">not run</td>' in page  # W2 and W3 were not run: not a failure
    assert sorted(os.path.basename(p) for p in paths["figures"]) == [
        "scaling_batch.png", "scaling_batch.svg", "scaling_width.png", "scaling_width.svg"]


def test_the_levenberg_marquardt_cost_joins_the_page(tmp_path):
    from comparisons.bench.report import run_lm_cost

    lm_cost = run_lm_cost(quick=True)
    page = open(write_page(str(tmp_path), lm_cost=lm_cost)["html"], encoding="utf-8").read()
    assert "Levenberg–Marquardt: cost against the parameter count" in page and 'id="fig-lm_cost"' in page
    assert "No scaling sweep yet" in page and "No bench table yet" in page


def test_the_page_says_how_to_fill_what_is_missing():
    page = page_html([("Time per epoch", ["No bench table yet: run `refnn-compare bench`."])], {}, {})
    assert "<code>refnn-compare bench</code>" in page


def test_the_cli_writes_the_sweep_and_the_page_and_rejects_bad_sizes(tmp_path, capsys):
    from comparisons.bench.driver import main

    out = str(tmp_path)
    assert main(["--scaling", "--quick", "--out", out, "--scaling-frameworks", "gemm_floor",
                 "--batch-sizes", "4", "8", "--widths", "8", "16"]) == 0
    saved = json.load(open(os.path.join(out, "scaling.json")))
    assert saved["spec"]["batch_sizes"] == [4, 8] and saved["rows"][0]["framework"] == "gemm_floor"
    assert os.path.exists(os.path.join(out, "bench", "index.html"))
    with pytest.raises(SystemExit):
        main(["--scaling", "--quick", "--out", out, "--batch-sizes", "0", "4"])
    assert "--batch-sizes must be positive integers. Received: [0, 4]" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--scaling", "--quick", "--out", out, "--scaling-frameworks", "caffe"])
    assert "Received: ['caffe']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--scaling", "--quick", "--out", out, "--repeats", "0"])
    assert "--repeats must be a positive integer. Received: --repeats=0" in capsys.readouterr().err

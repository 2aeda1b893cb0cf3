"""The Levenberg–Marquardt cost sweep runs, its numbers are positive and its memory grows with P
(timings themselves are never asserted). NumPy and refnn only."""

import math

from comparisons.bench import lm_cost
from refnn.optimizers.levenberg_marquardt import largest_lm_model, lm_step_memory_bytes


def test_quick_sweep_runs_and_memory_grows_with_the_parameter_count():
    rows = lm_cost.lm_cost_sweep(quick=True)
    assert [r["params"] for r in rows] == sorted(r["params"] for r in rows) and len(rows) == 3
    for row in rows:
        assert {"params", "seconds", "peak_mb", "estimate_mb", "width", "tries"} <= set(row)
        assert row["seconds"] > 0 and row["peak_mb"] > 0 and row["tries"] >= 1
        assert row["params"] == row["width"] * (lm_cost.N_INPUTS + 2) + 1
        assert row["estimate_mb"] == lm_step_memory_bytes(200, 1, row["params"]) / 1e6
    peaks = [r["peak_mb"] for r in rows]
    assert peaks == sorted(peaks) and peaks[-1] > 2 * peaks[0]
    slopes = lm_cost.lm_cost_slopes(rows)
    assert set(slopes) == {"seconds", "peak_mb"} and all(math.isfinite(v) for v in slopes.values())
    assert 0.5 < slopes["peak_mb"] < 2.5  # between the Jacobian's P and the normal equations' P²


def test_counts_beyond_the_limit_are_not_run_and_are_listed():
    limit = 10**6
    largest = largest_lm_model(200, 1, limit)
    assert lm_step_memory_bytes(200, 1, largest) <= limit < lm_step_memory_bytes(200, 1, largest + 1)
    counts = (40, 100, 2000)
    rows = lm_cost.lm_cost_sweep(counts, quick=True, max_memory_bytes=limit)
    assert [r["params"] for r in rows] == [37, 97]
    text = lm_cost.lm_cost_markdown(rows, 200, counts, max_memory_bytes=limit)
    assert f"P = {largest:,}" in text and "Refused (not run): P = 2,005" in text
    assert "LevenbergMarquardt's refusal: *LevenbergMarquardt would need about" in text
    assert "| 97 | 8 |" in text and "Slopes against P" in text


def test_slopes_of_exact_powers():
    rows = [{"params": p, "seconds": 1e-9 * p**3, "peak_mb": 1e-6 * p**2} for p in (100, 200, 400, 800)]
    slopes = lm_cost.lm_cost_slopes(rows)
    assert abs(slopes["seconds"] - 3) < 1e-9 and abs(slopes["peak_mb"] - 2) < 1e-9
    assert math.isnan(lm_cost.lm_cost_slopes(rows[:1])["seconds"])

"""The benchmark harness runs end to end (timings themselves are never asserted). It needs
scikit-learn (the W1 data), not TensorFlow."""

import json

import pytest

pytest.importorskip("sklearn")

from comparisons import bench  # noqa: E402


def test_small_sweep_writes_a_table_and_targets(tmp_path):
    result = bench.run(workloads=["W1"], frameworks=["gemm_floor", "refnn"], repeats=2, log=lambda *a, **k: None)
    assert {(r["framework"], r["workload"]) for r in result.rows} == {("gemm_floor", "W1"), ("refnn", "W1")}
    refnn_row = result.get("refnn", "W1")
    assert refnn_row["ms_per_epoch"] > 0 and refnn_row["training_memory_mb"] > refnn_row["params_mb"]
    names = [name for name, _, _ in result.targets()]
    assert "W1 refnn ≤ 1.15× numpy_lean" in names and "W1 refnn peak memory ≤ 2× (data + params)" in names
    md, js = bench.write(result, str(tmp_path))
    assert "| W1 | refnn |" in open(md).read()
    assert json.load(open(js))["environment"]["repeats"] == 2


def test_the_profile_finds_every_phase_of_the_training_loop():
    """Each phase matches refnn's files by name: a module moved (activations.py became a package)
    must not leave a phase silently at zero."""
    from comparisons.bench.profile import PHASES, profile_epoch

    phases, plain, floor = profile_epoch("W1")
    assert all(phases[name] > 0 for name in PHASES), phases
    assert plain > 0 and floor > 0

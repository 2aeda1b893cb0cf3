"""``numpy_lean``, the bench's bare NumPy loop, trains exactly what refnn's ``fit`` trains, and the
bench's targets say met / not met / not measured. Timings are never asserted. Needs scikit-learn
(the W1 data), not TensorFlow."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from comparisons.bench.driver import BenchResult  # noqa: E402
from comparisons.bench.lean import LeanMLP  # noqa: E402
from comparisons.bench.workers import run_worker  # noqa: E402
from comparisons.bench.workloads import WORKLOADS, make_data, refnn_model, targets  # noqa: E402

# Both sides are float32 and do the same operations, but not always in the same order (the bias
# gradient's row sum, the softmax's normalisation, refnn's loss pipeline): each step differs by a
# few float32 ulps, which Adam's division by √v + ε carries into the weights. Measured over 5 W1
# epochs (280 steps): losses 1.2e-8 relative, weights 9e-8 absolute (|w| ≤ 0.5, 3 ulps). The
# tolerances sit ~10× above that and far below what any real difference in the steps gives
# (ε = 1e-8 instead of 1e-7 alone moves the weights by ~1e-5, see the last test).
LOSS_RTOL = 1e-6
WEIGHT_ATOL = 1e-6
EPOCHS = 5


def _refnn_and_lean(epsilon=None):
    x, labels = make_data("W1")
    y = targets(labels)
    batch_size = WORKLOADS["W1"]["batch_size"]
    model = refnn_model(x, WORKLOADS["W1"]["hidden"])
    lean = LeanMLP.from_refnn(model)
    if epsilon is not None:
        lean.epsilon = lean.dtype.type(epsilon)
    orders = model.next_shuffle_orders(x.shape[0], EPOCHS)
    refnn_losses = model.fit(x, y, epochs=EPOCHS, batch_size=batch_size, shuffle=True, verbose=0).history["loss"]
    lean_losses = [lean.train_epoch(x, y, labels, order, batch_size) for order in orders]
    return model, lean, np.array(refnn_losses), np.array(lean_losses)


def test_lean_loop_starts_from_the_refnn_models_weights():
    x, _ = make_data("W1")
    model = refnn_model(x, WORKLOADS["W1"]["hidden"])
    lean = LeanMLP.from_refnn(model)
    for ours, theirs in zip(lean.get_weights(), model.get_weights()):
        assert ours.dtype == np.float32 and np.array_equal(ours, theirs)


def test_lean_loop_trains_the_same_loss_curve_and_weights_as_refnn_fit():
    model, lean, refnn_losses, lean_losses = _refnn_and_lean()
    assert refnn_losses[-1] < 0.5 * refnn_losses[0]  # it learns: the comparison is not of two flat lines
    np.testing.assert_allclose(lean_losses, refnn_losses, rtol=LOSS_RTOL, atol=0)
    for ours, theirs in zip(lean.get_weights(), model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=WEIGHT_ATOL)


def test_lean_loop_block_by_block_trains_what_refnn_fit_trains():
    """A network of more parameters (100,234) than one block (65,536 float32): both Adams run block by
    block, refnn's through its optimizer pipeline, the lean loop on its own slices."""
    x, labels = make_data("W1")
    y = targets(labels)
    model = refnn_model(x, (512, 128))
    lean = LeanMLP.from_refnn(model)
    orders = model.next_shuffle_orders(x.shape[0], 2)
    refnn_losses = model.fit(x, y, epochs=2, batch_size=64, shuffle=True, verbose=0).history["loss"]
    lean_losses = [lean.train_epoch(x, y, labels, order, 64) for order in orders]
    assert len(lean.blocks) == len(model.optimizer._packed.blocks) == 2
    np.testing.assert_allclose(lean_losses, refnn_losses, rtol=LOSS_RTOL, atol=0)
    for ours, theirs in zip(lean.get_weights(), model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=WEIGHT_ATOL)


def test_a_different_adam_epsilon_is_caught_by_the_tolerance():
    """The tolerance can tell: a change in Adam's ε (1e-7 → 1e-8) breaks it."""
    model, lean, _, _ = _refnn_and_lean(epsilon=1e-8)
    deviation = max(np.max(np.abs(a - b)) for a, b in zip(lean.get_weights(), model.get_weights()))
    assert deviation > 10 * WEIGHT_ATOL


def test_lean_worker_reports_the_same_fields_as_the_refnn_worker():
    row = run_worker("numpy_lean", "W1")
    assert row["framework"] == "numpy_lean" and len(row["epoch_times_s"]) == WORKLOADS["W1"]["epochs"]
    assert row["ms_per_epoch"] > 0 and row["training_memory_mb"] > row["params_mb"] > 0
    assert {"peak_rss_mb", "rss_before_training_mb", "data_mb"} <= set(row)


def _row(framework, workload, ms):
    return {"framework": framework, "workload": workload, "ms_per_epoch": ms, "peak_rss_mb": 1.0,
            "data_mb": 1.0, "params_mb": 1.0, "training_memory_mb": 0.5}


def test_targets_say_met_not_met_and_not_measured():
    rows = [_row("refnn", "W1", 1.1), _row("numpy_lean", "W1", 1.0), _row("keras", "W1", 12.0),
            _row("sklearn", "W1", 3.0), _row("refnn", "W2", 170.0), _row("gemm_floor", "W2", 100.0)]
    targets_ = {name: (met, value) for name, met, value in BenchResult(rows=rows).targets()}
    assert targets_["W1 refnn faster than Keras and scikit-learn"][0]
    assert targets_["W1 refnn ≤ 1.15× numpy_lean"] == (True, "1.10×")
    assert targets_["W1 refnn ≥ 10× faster than Keras"] == (True, "10.9×")
    assert targets_["W2 refnn ≤ 1.6× GEMM floor"] == (False, "1.70×")
    for name in ("W2 refnn faster than Keras and scikit-learn", "W3 refnn ≤ 1.25× GEMM floor",
                 "W3 refnn peak memory ≤ 2× (data + params)"):
        assert targets_[name] == (False, "not measured")
    assert targets_["W1 refnn peak memory ≤ 2× (data + params)"][0]
    assert len(targets_) == 3 + 1 + 1 + 2 + 3


def test_table_shows_every_cell_against_numpy_lean():
    rows = [_row("numpy_lean", "W1", 2.0), _row("refnn", "W1", 2.2), _row("gemm_floor", "W1", 1.0)]
    table = BenchResult(rows=rows).to_markdown()
    assert "× numpy_lean" in table.splitlines()[0]
    assert "| W1 | refnn | 2.2 | 2.20 | 1.10 | 1.00 | 1 |" in table

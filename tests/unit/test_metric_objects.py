"""Metric objects: the protocol (reset/update/result), hand-computed values, sample weights,
accumulation over batches, names from ``get``, bad arguments, and save/load of compiled metrics."""

import math

import numpy as np
import pytest

import refnn
from refnn import layers, metrics, optimizers


def accumulate(metric, y, p, w=None, splits=(0, 3, 7, None)):
    """Feed rows in several batches; return the result."""
    metric.reset_state()
    for start, stop in zip(splits[:-1], splits[1:]):
        metric.update_state(y[start:stop], p[start:stop], None if w is None else w[start:stop])
    return metric.result()


def binary_data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 1)) > 0.5).astype(float)
    p = np.round(rng.random((n, 1)), 1)  # ties, and values on the grid
    return y, p, rng.random(n)


# ---- the protocol -------------------------------------------------------------------------------
def test_mean_metric_is_weighted_total_over_count():
    m = metrics.Metric("f", lambda y, p: np.abs(p - y)[:, 0])
    y, p = np.zeros((3, 1)), np.array([[1.0], [2.0], [4.0]])
    assert m.result() == 0.0  # count 0: divide_no_nan
    m.update_state(y, p, np.array([1.0, 0.0, 3.0]))
    assert m.total == 13.0 and m.count == 4.0 and m.result() == 13.0 / 4
    m.update_state(y[:1], p[:1])
    assert m.result() == 14.0 / 5
    m.reset_state()
    assert (m.total, m.count, m.result()) == (0.0, 0.0, 0.0)


def test_scalar_function_adds_one_value_per_call_and_refuses_weights():
    m = metrics.get(lambda y, p: float(np.sum(p)))
    assert m.name == "lambda" and m.direction is None
    m.update_state(np.zeros((2, 1)), np.ones((2, 1)))
    m.update_state(np.zeros((3, 1)), np.ones((3, 1)))
    assert m.result() == 2.5  # (2 + 3) / 2 calls
    with pytest.raises(ValueError, match="one scalar"):
        m.update_state(np.zeros((2, 1)), np.ones((2, 1)), np.ones(2))


def test_custom_function_metric_name_and_values():
    def meanAbsDiff(y_true, y_pred):
        return np.mean(np.abs(y_pred - y_true), axis=-1)

    m = metrics.get(meanAbsDiff)
    assert m.name == "mean_abs_diff" and m.direction is None  # Keras: to_snake_case(__name__)
    np.testing.assert_array_equal(m(np.zeros((2, 2)), np.array([[1.0, 3.0], [2.0, 2.0]])), [2.0, 2.0])


@pytest.mark.parametrize("factory", [
    lambda: metrics.AUC(), lambda: metrics.AUC(curve="PR"), lambda: metrics.Precision(),
    lambda: metrics.Recall(thresholds=[0.0, 0.5, 1.0]), lambda: metrics.RootMeanSquaredError(),
    lambda: metrics.BinaryAccuracy(threshold=0.3), lambda: metrics.MeanSquaredError(),
])
def test_batches_accumulate_like_one_call_and_reset(factory):
    y, p, w = binary_data(20)
    whole = factory()
    whole.update_state(y, p, w)
    split = factory()
    np.testing.assert_allclose(accumulate(split, y, p, w, (0, 5, 6, 13, None)), whole.result(), rtol=1e-13)
    split.reset_state()
    split.update_state(y[:4], p[:4])
    fresh = factory()
    fresh.update_state(y[:4], p[:4])
    np.testing.assert_allclose(split.result(), fresh.result(), rtol=1e-13)


def test_stateful_metrics_have_no_per_sample_values():
    for m in (metrics.AUC(), metrics.Precision(), metrics.RootMeanSquaredError()):
        with pytest.raises(TypeError, match="update_state"):
            m(np.zeros((2, 1)), np.zeros((2, 1)))


# ---- hand-computed values ------------------------------------------------------------------------
def test_accuracies_by_hand():
    y = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], float)
    p = np.array([[0.2, 0.5, 0.3], [0.3, 0.4, 0.3], [0.1, 0.1, 0.8]])
    assert accumulate(metrics.CategoricalAccuracy(), y, p) == pytest.approx(2 / 3)
    assert accumulate(metrics.SparseCategoricalAccuracy(), np.array([1, 0, 2]), p) == pytest.approx(2 / 3)
    assert accumulate(metrics.TopKCategoricalAccuracy(k=2), y, p) == 1.0
    assert accumulate(metrics.SparseTopKCategoricalAccuracy(k=1), np.array([1, 0, 2]), p) == pytest.approx(2 / 3)
    ba = metrics.BinaryAccuracy(threshold=0.3)
    ba.update_state(np.array([[1.0], [0.0], [0.0]]), np.array([[0.35], [0.3], [0.9]]))
    assert ba.result() == pytest.approx(2 / 3)  # 0.3 > 0.3 is false


def test_top_k_counts_ties_at_the_boundary_in():
    # target class 2 ties with class 0 for the 1st place: fewer than k=1 classes strictly above → in
    assert metrics.top_k_categorical_accuracy(np.array([[0, 0, 1.0]]), np.array([[0.4, 0.2, 0.4]]), k=1)[0] == 1
    assert metrics.sparse_top_k_categorical_accuracy(np.array([1]), np.array([[0.5, 0.2, 0.3]]), k=2)[0] == 0


def test_rmse_is_root_of_weighted_mean_square():
    y = np.zeros((2, 2))
    p = np.array([[3.0, 3.0], [0.0, 4.0]])  # per-sample mean squares 9 and 8
    m = metrics.RootMeanSquaredError()
    m.update_state(y, p, np.array([1.0, 3.0]))
    assert m.result() == pytest.approx(math.sqrt((9 + 3 * 8) / 4), rel=1e-15)
    assert m.name == "root_mean_squared_error" and m.direction == "down"


def test_precision_recall_by_hand_and_class_id_top_k():
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[0.9], [0.6], [0.4], [0.5]])  # 0.5 is not > 0.5
    assert accumulate(metrics.Precision(), y, p) == 0.5
    assert accumulate(metrics.Recall(), y, p) == 0.5
    np.testing.assert_array_equal(accumulate(metrics.Recall(thresholds=[0.3, 0.95]), y, p), [1.0, 0.0])
    y3 = np.array([[0, 1, 0], [0, 0, 1], [0, 1, 0]], float)
    p3 = np.array([[0.1, 0.7, 0.2], [0.2, 0.6, 0.2], [0.5, 0.3, 0.2]])
    assert accumulate(metrics.Precision(class_id=1), y3, p3) == 0.5
    assert accumulate(metrics.Recall(class_id=1), y3, p3) == 0.5
    assert accumulate(metrics.Precision(top_k=1), y3, p3) == pytest.approx(1 / 3)


def test_zero_over_zero_is_zero():
    y, p = np.zeros((3, 1)), np.full((3, 1), 0.1)
    assert accumulate(metrics.Precision(), y, p) == 0.0
    assert accumulate(metrics.Recall(), y, p) == 0.0
    assert accumulate(metrics.AUC(), y, p) == 0.0  # no positives: TPR is 0 everywhere
    assert accumulate(metrics.AUC(), np.ones((3, 1)), p) == 0.0  # no negatives


def test_auc_separable_and_constant_predictions():
    y = np.array([[0.0], [0.0], [1.0], [1.0]])
    assert accumulate(metrics.AUC(), y, np.array([[0.1], [0.2], [0.8], [0.9]])) == pytest.approx(1.0, abs=1e-15)
    assert accumulate(metrics.AUC(), y, np.full((4, 1), 0.5)) == pytest.approx(0.5, abs=1e-15)
    assert accumulate(metrics.AUC(curve="PR", summation_method="majoring"), y,
                      np.array([[0.1], [0.2], [0.8], [0.9]])) == pytest.approx(1.0, abs=1e-15)


def test_auc_threshold_grid_has_epsilon_end_points():
    auc = metrics.AUC(num_thresholds=3)
    assert auc.thresholds == [-1e-7, 0.5, 1 + 1e-7]
    assert metrics.AUC(thresholds=[0.7, 0.2]).thresholds == [-1e-7, 0.2, 0.7, 1 + 1e-7]


def test_crossentropy_metric_objects_match_functions_and_take_logits():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 3))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = np.eye(3)[[0, 2, 1, 1, 0]]
    cce = metrics.CategoricalCrossentropy()
    assert cce.fused_activation == "softmax" and cce.direction == "down"
    cce.update_state(y, z, from_logits=True)
    expected = np.mean(-np.log(p[np.arange(5), [0, 2, 1, 1, 0]]))
    assert cce.result() == pytest.approx(expected, rel=1e-13)
    logits_cce = metrics.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    assert logits_cce.fused_activation is None
    smoothed = metrics.CategoricalCrossentropy(label_smoothing=0.1)
    assert accumulate(logits_cce, y, z) == pytest.approx(accumulate(smoothed, y, p), rel=1e-12)


# ---- names and bad arguments ----------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("auc", metrics.AUC), ("AUC", metrics.AUC), ("precision", metrics.Precision), ("recall", metrics.Recall),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
    ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
    ("root_mean_squared_error", metrics.RootMeanSquaredError), ("mse", metrics.MeanSquaredError),
    ("BinaryAccuracy", metrics.BinaryAccuracy), ("categorical_crossentropy", metrics.CategoricalCrossentropy),
])
def test_get_names_like_keras(name, cls):
    m = metrics.get(name)
    assert type(m) is cls and m.name == name  # Keras: the string is the logs key


def test_get_classes_and_objects():
    assert metrics.get(metrics.AUC).name == "auc"
    auc = metrics.AUC(curve="PR")
    assert metrics.get(auc) is auc
    assert metrics.get("accuracy").direction == "up"


@pytest.mark.parametrize("make, match", [
    (lambda: metrics.get("f2_score"), "f2_score"),
    (lambda: metrics.AUC(num_thresholds=1), "num_thresholds=1"),
    (lambda: metrics.AUC(curve="XY"), "curve"),
    (lambda: metrics.AUC(summation_method="mid"), "summation_method"),
    (lambda: metrics.AUC(multi_label=True), "multi_label=True"),
    (lambda: metrics.Precision(thresholds=[0.5, 1.5]), "thresholds"),
    (lambda: metrics.Recall(top_k=0), "top_k"),
    (lambda: metrics.Precision(class_id=-1), "class_id"),
    (lambda: metrics.TopKCategoricalAccuracy(k=0), "k"),
    (lambda: metrics.BinaryAccuracy(threshold="half"), "threshold"),
    (lambda: metrics.Metric("m", fn=3), "fn"),
])
def test_bad_arguments_are_named(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_bad_update_arguments_are_named():
    with pytest.raises(ValueError, match="sample_weight"):
        metrics.MeanSquaredError().update_state(np.zeros((3, 1)), np.zeros((3, 1)), np.ones(2))
    with pytest.raises(ValueError, match="y_true.shape"):
        metrics.AUC().update_state(np.array([0, 1]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="class_id"):
        metrics.Precision(class_id=5).update_state(np.zeros((2, 3)), np.zeros((2, 3)))


# ---- serialisation and save/load -----------------------------------------------------------------
def test_serialize_round_trip_keeps_options():
    for m in (metrics.AUC(curve="PR", num_thresholds=50, name="pr"), metrics.Precision(thresholds=0.3, class_id=1),
              metrics.TopKCategoricalAccuracy(k=2), metrics.BinaryCrossentropy(label_smoothing=0.2)):
        back = metrics.deserialize(metrics.serialize(m))
        assert type(back) is type(m) and back.get_config() == m.get_config()


def test_saved_model_keeps_metric_objects(tmp_path):
    model = refnn.Sequential([layers.Dense(3, activation="softmax")], input_dim=4, seed=0)
    compiled = ["accuracy", "auc", metrics.AUC(curve="PR", name="pr_auc"), metrics.Precision(class_id=2),
                metrics.TopKCategoricalAccuracy(k=2), metrics.CategoricalCrossentropy(label_smoothing=0.1)]
    model.compile(optimizers.SGD(0.1), "categorical_crossentropy", metrics=compiled)
    path = tmp_path / "m.refnn"
    model.save(path)
    loaded = refnn.load_model(path)
    for before, after in zip(model.metrics, loaded.metrics):
        assert type(after) is type(before) and after.get_config() == before.get_config()
    assert [m.name for m in loaded.metrics] == ["accuracy", "auc", "pr_auc", "precision",
                                                "top_k_categorical_accuracy", "categorical_crossentropy"]

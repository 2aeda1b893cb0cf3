"""Metric objects against Keras, both sides live, float64: the same targets, predictions and sample
weights, fed in 3 batches (a partial accumulation), then ``result()``; ≤ 1e-12 relative.

Keras computes a metric in its ``dtype`` (``floatx``: float64 here, checked on AUC's variables);
refnn always in float64. The data has ties and predictions exactly on AUC's threshold grid
(``i/(T − 1)``), at 0 and 1, and outside [0, 1], where Keras's bucketing and its direct comparison
``p > t`` differ — refnn copies which one Keras uses.
"""

import re

import keras
import numpy as np
import pytest

from refnn import metrics as rm

K = keras.metrics
SPLITS = (0, 7, 8, 30)  # three batches, one of a single row


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def dataset(kind: str, seed: int = 0):
    """``(y_true, y_pred, sample_weight)`` with 30 rows."""
    rng = np.random.default_rng(seed)
    n = SPLITS[-1]
    w = rng.random(n) * 2
    w[3] = 0.0
    if kind == "binary":  # probabilities with ties and grid points
        p = np.round(rng.random((n, 1)), 2)
        p[:6, 0] = [0.0, 1.0, 0.5, 17 * 1.0 / 199, 1 * 1.0 / 199, 198 * 1.0 / 199]
        p[6:9, 0] = [1.0 / 3, 0.25, 0.75]
        return (rng.random((n, 1)) > 0.5).astype(float), p, w
    if kind in ("all_positive", "all_negative"):  # an empty class: 0/0 ratios
        return np.full((n, 1), 1.0 if kind == "all_positive" else 0.0), np.round(rng.random((n, 1)), 1), w
    if kind == "outside":  # predictions outside [0, 1]
        return (rng.random((n, 1)) > 0.4).astype(float), rng.normal(0.5, 0.7, (n, 1)), w
    if kind == "logits":
        return (rng.random((n, 1)) > 0.5).astype(float), rng.normal(0, 3, (n, 1)), w
    if kind == "multilabel":
        return (rng.random((n, 3)) > 0.5).astype(float), np.round(rng.random((n, 3)), 1), w
    if kind in ("onehot", "sparse", "onehot_logits", "sparse_logits"):
        ids = rng.integers(0, 7, n)
        z = rng.normal(0, 2, (n, 7))
        z[:5] = np.round(z[:5])  # ties in the scores
        z[5] = 0.0
        y = ids if kind.startswith("sparse") else np.eye(7)[ids]
        return y, (z if kind.endswith("logits") else _softmax(z)), w
    if kind == "regression":
        return rng.standard_normal((n, 3)), rng.standard_normal((n, 3)), w
    raise ValueError(kind)


CASES = [
    ("binary_accuracy", lambda: K.BinaryAccuracy(), lambda: rm.BinaryAccuracy(), "binary"),
    ("binary_accuracy_t", lambda: K.BinaryAccuracy(threshold=0.33), lambda: rm.BinaryAccuracy(threshold=0.33),
     "multilabel"),
    ("categorical_accuracy", K.CategoricalAccuracy, rm.CategoricalAccuracy, "onehot"),
    ("sparse_categorical_accuracy", K.SparseCategoricalAccuracy, rm.SparseCategoricalAccuracy, "sparse"),
    ("mse", K.MeanSquaredError, rm.MeanSquaredError, "regression"),
    ("mae", K.MeanAbsoluteError, rm.MeanAbsoluteError, "regression"),
    ("rmse", K.RootMeanSquaredError, rm.RootMeanSquaredError, "regression"),
    ("cce", lambda: K.CategoricalCrossentropy(label_smoothing=0.1),
     lambda: rm.CategoricalCrossentropy(label_smoothing=0.1), "onehot"),
    ("cce_logits", lambda: K.CategoricalCrossentropy(from_logits=True),
     lambda: rm.CategoricalCrossentropy(from_logits=True), "onehot_logits"),
    ("bce", lambda: K.BinaryCrossentropy(label_smoothing=0.2), lambda: rm.BinaryCrossentropy(label_smoothing=0.2),
     "multilabel"),
    ("bce_logits", lambda: K.BinaryCrossentropy(from_logits=True), lambda: rm.BinaryCrossentropy(from_logits=True),
     "logits"),
    ("scce", K.SparseCategoricalCrossentropy, rm.SparseCategoricalCrossentropy, "sparse"),
    ("scce_logits", lambda: K.SparseCategoricalCrossentropy(from_logits=True),
     lambda: rm.SparseCategoricalCrossentropy(from_logits=True), "sparse_logits"),
]
AUC_OPTIONS = [
    {}, {"curve": "PR"}, {"summation_method": "minoring"}, {"summation_method": "majoring"},
    {"curve": "PR", "summation_method": "minoring"}, {"curve": "PR", "summation_method": "majoring"},
    {"curve": "PRGAIN"}, {"num_thresholds": 7}, {"num_thresholds": 2}, {"thresholds": [0.1, 0.5, 0.9, 0.33]},
    {"thresholds": [0.25, 0.5, 0.75]},
]
for options in AUC_OPTIONS:
    for kind in ("binary", "outside", "multilabel"):
        CASES.append((f"auc_{options}_{kind}", lambda o=options: K.AUC(**o), lambda o=options: rm.AUC(**o), kind))
for options in ({}, {"curve": "PR"}, {"curve": "PR", "summation_method": "majoring"}, {"curve": "PRGAIN"}):
    for kind in ("all_positive", "all_negative"):
        CASES.append((f"auc_{options}_{kind}", lambda o=options: K.AUC(**o), lambda o=options: rm.AUC(**o), kind))
for name in ("Precision", "Recall"):
    for kind in ("all_positive", "all_negative"):
        CASES.append((f"{name}_{kind}", getattr(K, name), getattr(rm, name), kind))
CASES.append(("auc_logits", lambda: K.AUC(from_logits=True), lambda: rm.AUC(from_logits=True), "logits"))
PR_OPTIONS = [{}, {"thresholds": 0.33}, {"thresholds": [0.2, 0.5, 0.8]}, {"thresholds": [0.0, 0.5, 1.0]},
              {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}]
for name in ("Precision", "Recall"):
    for options in PR_OPTIONS:
        for kind in ("binary", "outside", "multilabel"):
            CASES.append((f"{name}_{options}_{kind}", lambda n=name, o=options: getattr(K, n)(**o),
                          lambda n=name, o=options: getattr(rm, n)(**o), kind))
    for options in ({"class_id": 1}, {"top_k": 2}, {"top_k": 1, "class_id": 2}, {"class_id": 0, "thresholds": 0.1}):
        CASES.append((f"{name}_{options}", lambda n=name, o=options: getattr(K, n)(**o),
                      lambda n=name, o=options: getattr(rm, n)(**o), "multilabel"))


def feed(metric, y, p, w):
    for start, stop in zip(SPLITS[:-1], SPLITS[1:]):
        metric.update_state(y[start:stop], p[start:stop], sample_weight=w[start:stop])
    return np.asarray(metric.result(), dtype=np.float64)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unweighted"])
def test_metric_matches_keras(float64, case, weighted):
    _, keras_factory, refnn_factory, kind = case
    y, p, w = dataset(kind)
    w = w if weighted else np.ones_like(w)
    ours = feed(refnn_factory(), y, p, w)
    theirs = feed(keras_factory(), y, p, w)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    # Keras makes default names unique per session ("auc", then "auc_1", ...); refnn keeps the first
    assert refnn_factory().name == re.sub(r"_\d+$", "", keras_factory().name)


@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize("sparse", [False, True], ids=["onehot", "sparse"])
def test_top_k_matches_keras(float64, k, sparse):
    """TensorFlow's ``InTopKV2`` kernel exists for float32 only, so Keras's top-k metrics fail under
    floatx float64. The per-sample matches are computed by Keras's function in float32 on
    predictions exactly representable in float32 (multiples of 1/64, with ties), then averaged by
    Keras's float64 ``Mean``; refnn's metric must give the same matches and the same mean."""
    y, p, w = dataset("sparse" if sparse else "onehot")
    p = np.round(p * 64) / 64
    keras_fn = K.sparse_top_k_categorical_accuracy if sparse else K.top_k_categorical_accuracy
    ours_fn = rm.sparse_top_k_categorical_accuracy if sparse else rm.top_k_categorical_accuracy
    keras_matches = np.asarray(keras_fn(y.astype("int32" if sparse else "float32"), p.astype("float32"), k=k))
    np.testing.assert_array_equal(ours_fn(y, p, k), keras_matches)
    mean = K.Mean()
    ours = (rm.SparseTopKCategoricalAccuracy if sparse else rm.TopKCategoricalAccuracy)(k=k)
    for start, stop in zip(SPLITS[:-1], SPLITS[1:]):
        mean.update_state(keras_matches[start:stop], sample_weight=w[start:stop])
        ours.update_state(y[start:stop], p[start:stop], w[start:stop])
    assert ours.result() == pytest.approx(float(mean.result()), rel=1e-13)


def test_keras_counts_auc_in_floatx(float64):
    auc = K.AUC()
    assert auc.true_positives.dtype == "float64" and K.Precision().true_positives.dtype == "float64"


def test_auc_grid_ties_are_bucketed_like_keras(float64):
    """p exactly on a grid point i/(T−1): Keras's bucket ceil(p·(T−1)) − 1 may disagree with p > t_i;
    refnn follows the bucket."""
    grid = np.array([i * 1.0 / 199 for i in range(200)])[:, None]
    y = (np.arange(200) % 3 == 0).astype(float)[:, None]
    ours, theirs = rm.AUC(), K.AUC()
    ours.update_state(y, grid)
    theirs.update_state(y, grid)
    np.testing.assert_array_equal(ours.true_positives, np.asarray(theirs.true_positives))
    np.testing.assert_array_equal(ours.false_positives, np.asarray(theirs.false_positives))
    assert ours.result() == pytest.approx(float(theirs.result()), rel=1e-13)


def test_custom_function_metric_like_mean_metric_wrapper(float64):
    def abs_error(y_true, y_pred):
        return np.mean(np.abs(np.asarray(y_pred) - np.asarray(y_true)), axis=-1)

    y, p, w = dataset("regression")
    np.testing.assert_allclose(feed(rm.get(abs_error), y, p, w), feed(K.MeanMetricWrapper(abs_error), y, p, w),
                               rtol=1e-12)
    assert rm.get(abs_error).name == "abs_error"


def test_scalar_function_metric_like_keras(float64):
    """A function returning one value per batch: Keras's Mean adds it with count 1 (per call);
    with per-sample weights Keras fails to broadcast, and refnn refuses."""
    def batch_max(y_true, y_pred):
        return np.max(np.asarray(y_pred))

    y, p, w = dataset("regression")
    ours, theirs = rm.get(batch_max), K.MeanMetricWrapper(batch_max)
    for start, stop in zip(SPLITS[:-1], SPLITS[1:]):
        ours.update_state(y[start:stop], p[start:stop])
        theirs.update_state(y[start:stop], p[start:stop])
    assert ours.result() == pytest.approx(float(theirs.result()), rel=1e-13)
    with pytest.raises(Exception):
        theirs.update_state(y[:4], p[:4], sample_weight=w[:4])
    with pytest.raises(ValueError, match="one scalar"):
        ours.update_state(y[:4], p[:4], sample_weight=w[:4])


@pytest.mark.parametrize("name", ["auc", "AUC", "precision", "recall", "top_k_categorical_accuracy",
                                  "sparse_top_k_categorical_accuracy", "root_mean_squared_error", "mse",
                                  "binary_accuracy", "categorical_crossentropy", "BinaryAccuracy"])
def test_names_resolve_to_the_same_class(float64, name):
    theirs = keras.metrics.get(name)
    ours = rm.get(name)
    assert type(ours).__name__ == type(theirs).__name__ and ours.name == name


BRIDGED = [
    lambda: rm.get("accuracy"), lambda: rm.get("auc"), lambda: rm.AUC(curve="PR", summation_method="minoring"),
    lambda: rm.AUC(thresholds=[0.2, 0.6], name="auc_2t"), lambda: rm.Precision(class_id=1, thresholds=0.4),
    lambda: rm.Recall(top_k=2, name="recall_at_2"), lambda: rm.TopKCategoricalAccuracy(k=2),
    lambda: rm.SparseTopKCategoricalAccuracy(k=3, name="t3"), lambda: rm.RootMeanSquaredError(),
    lambda: rm.BinaryAccuracy(threshold=0.3), lambda: rm.CategoricalCrossentropy(label_smoothing=0.1),
    lambda: rm.BinaryCrossentropy(from_logits=True), lambda: rm.get("mse"), lambda: rm.MeanAbsoluteError(name="m"),
]


def test_bridge_maps_metric_objects_both_ways_with_options(float64):
    from keras_bridge.losses import metrics_from_keras, metrics_to_keras

    ours = [make() for make in BRIDGED]
    keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
    keras_model.compile("sgd", "categorical_crossentropy", metrics=metrics_to_keras(ours))
    specs = keras_model.get_compile_config()["metrics"]
    assert specs[:2] == ["accuracy", "auc"]  # names stay names
    back = metrics_from_keras(specs)
    for before, after in zip(ours, back, strict=True):
        assert type(after) is type(before) and after.get_config() == before.get_config()


def test_bridge_sets_aside_options_refnn_lacks(float64):
    from keras_bridge.errors import NotMappableError
    from keras_bridge.losses import metrics_from_keras

    keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="sigmoid")])
    keras_model.compile("sgd", "binary_crossentropy",
                        metrics=[K.AUC(multi_label=True), K.F1Score(), "mape", K.AUC(name="plain")])
    set_aside = []
    mapped = metrics_from_keras(keras_model.get_compile_config()["metrics"], set_aside)
    assert [m.name for m in mapped] == ["plain"] and len(set_aside) == 3
    with pytest.raises(NotMappableError, match="AUC"):
        metrics_from_keras(keras_model.get_compile_config()["metrics"])


@pytest.mark.parametrize("name", ["auc", "precision", "recall", "root_mean_squared_error", "mse",
                                  "binary_accuracy", "categorical_crossentropy"])
def test_result_before_any_update_is_zero_like_keras(float64, name):
    assert rm.get(name).result() == float(keras.metrics.get(name).result()) == 0.0  # divide_no_nan


def test_fit_history_of_metric_objects_matches_keras():
    """The compiled metric objects through a whole fit: refnn's model, its Keras twin (metrics mapped
    by keras_bridge), every epoch's history compared live."""
    import refnn
    from keras_bridge import compare
    from refnn import layers

    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 4))
    y = np.eye(6)[rng.integers(0, 6, 60)]
    model = refnn.Sequential([layers.Dense(6, activation="softmax")], input_dim=4, seed=0)
    model.compile("sgd", "categorical_crossentropy", metrics=[
        "accuracy", "auc", rm.Precision(class_id=1), "recall", rm.AUC(curve="PR", name="prauc"),
        "root_mean_squared_error", rm.CategoricalCrossentropy(label_smoothing=0.1), rm.Recall(top_k=2, name="r2")])
    result = compare.training(model, x, y, epochs=3, batch_size=16)
    rows = {r.quantity: r for r in result.rows if r.layer == "history"}
    assert {"auc", "precision", "recall", "prauc", "root_mean_squared_error", "r2"} <= set(rows)
    for row in rows.values():
        assert row.max_rel <= 1e-12 and not row.known_difference, row


@pytest.mark.parametrize("make", [lambda m: m.AUC(), lambda m: m.AUC(thresholds=[0.1, 0.33, 0.9]),
                                  lambda m: m.Precision(thresholds=[0.0, 0.5, 1.0]), lambda m: m.Recall(0.33)],
                         ids=["auc", "auc_thresholds", "precision_even", "recall_033"])
def test_counts_in_the_models_dtype_match_keras_exactly(floatx, make):
    """float32 predictions are bucketed and compared in float32, as Keras does in floatx float32: the
    (unweighted, integer) counts are equal exactly in both dtypes."""
    y, p, _ = dataset("binary")
    grid = np.array([[i * 1.0 / 199] for i in range(200)] + [[0.33], [0.1], [0.9]])
    y = np.concatenate([y, (np.arange(203) % 3 == 0)[:, None].astype(float)])
    p = np.concatenate([p, grid]).astype(floatx)
    ours, theirs = make(rm), make(K)
    ours.update_state(y, p)
    theirs.update_state(y.astype(floatx), p)
    np.testing.assert_array_equal(ours.true_positives, np.asarray(theirs.true_positives))
    counts = "false_positives" if hasattr(theirs, "false_positives") else "false_negatives"
    np.testing.assert_array_equal(getattr(ours, counts), np.asarray(getattr(theirs, counts)))

"""Losses: Keras's values, reductions and clipping; gradients by finite differences."""

import numpy as np
import pytest

from refnn import losses
from refnn.utils.gradcheck import numerical_gradient
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL, relative_error


def _probabilities(rng, n, k):
    p = rng.uniform(0.05, 1.0, (n, k))
    return p / p.sum(1, keepdims=True)


def _grad_error(loss, y, p, sample_weight=None):
    analytic = loss.gradient(y, p, sample_weight)
    numeric = numerical_gradient(lambda: loss(y, p, sample_weight), p)
    return relative_error(analytic, numeric)


CASES = {
    "mse": (losses.MeanSquaredError(), "real"),
    "mae": (losses.MeanAbsoluteError(), "real"),
    "sse": (losses.SumSquaredError(), "real"),
    "bce": (losses.BinaryCrossentropy(), "binary"),
    "bce_smooth": (losses.BinaryCrossentropy(label_smoothing=0.2), "binary"),
    "bce_logits": (losses.BinaryCrossentropy(from_logits=True), "binary_logits"),
    "cce": (losses.CategoricalCrossentropy(), "onehot"),
    "cce_unnormalised": (losses.CategoricalCrossentropy(), "onehot_unnormalised"),
    "cce_smooth": (losses.CategoricalCrossentropy(label_smoothing=0.1), "onehot"),
    "cce_logits": (losses.CategoricalCrossentropy(from_logits=True), "onehot_logits"),
    "cce_soft_targets_logits": (losses.CategoricalCrossentropy(from_logits=True), "soft_logits"),
    "scce": (losses.SparseCategoricalCrossentropy(), "sparse"),
    "scce_logits": (losses.SparseCategoricalCrossentropy(from_logits=True), "sparse_logits"),
}


def _data(kind, rng, n):
    k = 4
    if kind == "real":
        return rng.standard_normal((n, 3)), rng.standard_normal((n, 3)) + 0.01
    if kind == "binary":
        return rng.integers(0, 2, (n, 3)).astype(float), rng.uniform(0.05, 0.95, (n, 3))
    if kind == "binary_logits":
        return rng.integers(0, 2, (n, 3)).astype(float), rng.standard_normal((n, 3)) * 3
    labels = rng.integers(0, k, n)
    onehot = np.eye(k)[labels]
    if kind == "onehot":
        return onehot, _probabilities(rng, n, k)
    if kind == "onehot_unnormalised":
        return onehot, rng.uniform(0.05, 1.0, (n, k))
    if kind == "onehot_logits":
        return onehot, rng.standard_normal((n, k)) * 3
    if kind == "soft_logits":
        return rng.uniform(0, 1, (n, k)), rng.standard_normal((n, k))
    if kind == "sparse":
        return labels, _probabilities(rng, n, k)
    return labels, rng.standard_normal((n, k)) * 3


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("n", [1, 5])
def test_gradient_matches_finite_differences(name, n, rng):
    loss, kind = CASES[name]
    y, p = _data(kind, rng, n)
    assert _grad_error(loss, y, p) <= FINITE_DIFFERENCE_RTOL


@pytest.mark.parametrize("name", ["mse", "bce", "cce", "scce_logits"])
def test_sample_weights_and_reductions(name, rng):
    loss, kind = CASES[name]
    y, p = _data(kind, rng, 6)
    w = np.array([1.0, 3.0, 0.0, 0.5, 2.0, 1.0])
    per_sample = type(loss)(**{k: v for k, v in loss.get_config().items() if k != "reduction"},
                            reduction="none")(y, p)
    # Keras: divide by the number of samples, never by Σw.
    assert loss(y, p, w) == pytest.approx(np.sum(per_sample * w) / 6, rel=1e-14)
    summed = type(loss)(**{k: v for k, v in loss.get_config().items() if k != "reduction"}, reduction="sum")
    assert summed(y, p) == pytest.approx(np.sum(per_sample), rel=1e-14)
    assert _grad_error(loss, y, p, w) <= FINITE_DIFFERENCE_RTOL


def test_mse_is_the_global_mean_and_its_gradient(rng):
    y, p = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert losses.get("mse")(y, p) == pytest.approx(np.mean((p - y) ** 2), rel=1e-14)
    np.testing.assert_allclose(losses.get("mse").gradient(y, p), 2 * (p - y) / 12, rtol=1e-14)


def test_sse_is_half_the_sum_of_squares(rng):
    y, p = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    assert losses.get("sse")(y, p) == pytest.approx(0.5 * np.sum((p - y) ** 2), rel=1e-14)
    np.testing.assert_allclose(losses.get("sse").gradient(y, p), p - y, rtol=1e-15)


def test_rank_one_targets_are_reconciled():
    y = np.array([0.0, 1.0, 1.0])
    p = np.array([[0.2], [0.7], [0.9]])
    a = losses.BinaryCrossentropy()(y, p)
    b = losses.BinaryCrossentropy()(y[:, None], p)
    assert a == b
    assert losses.BinaryCrossentropy().gradient(y, p).shape == (3, 1)


class TestKerasNumbers:
    """Values measured from Keras 3 (docs/keras-numerics.md); the formulas are restated, not copied."""

    def test_cce_renormalises_then_clips(self):
        # [0.5, 0.5, 0] with target class 2 → −log(1e-7)
        value = losses.CategoricalCrossentropy()([[0, 0, 1.0]], [[0.5, 0.5, 0.0]])
        assert value == pytest.approx(-np.log(1e-7), rel=1e-15)
        # float32: a perfect prediction costs −log(float32(1 − 1e-7)) = 1.1920929e-7, not 0
        value32 = losses.CategoricalCrossentropy()(np.float32([[1, 0, 0]]), np.float32([[1, 0, 0]]))
        assert value32 == pytest.approx(1.1920929e-07, rel=1e-6)

    def test_scce_clips_then_renormalises(self):
        value32 = losses.SparseCategoricalCrossentropy()([0], np.float32([[1, 0, 0]]))
        assert value32 == pytest.approx(2.3841855e-07, rel=1e-6)

    def test_bce_clip_bounds_are_asymmetric_in_float32(self):
        y, p = [[1.0, 0.0], [1.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]
        assert losses.BinaryCrossentropy()(np.float32(y), np.float32(p)) == pytest.approx(3.9855962, rel=1e-6)
        assert losses.BinaryCrossentropy()(np.float64(y), np.float64(p)) == pytest.approx(4.0295240, rel=1e-7)

    def test_logits_path_has_no_clip(self):
        value = losses.CategoricalCrossentropy(from_logits=True)([[0, 0, 1.0]], [[30.0, 0.0, -30.0]])
        assert value == pytest.approx(60.0, rel=1e-14)

    def test_clipped_probabilities_have_zero_gradient(self):
        g = losses.BinaryCrossentropy().gradient([[1.0, 0.0]], [[1e-9, 1.0]])
        np.testing.assert_array_equal(g, [[0.0, 0.0]])

    def test_cce_probability_gradient_has_the_plus_one_term(self):
        # one-hot y and Σp = 1: ∂ℓ/∂p = (−y/p + 1)/N
        p = np.array([[0.2, 0.3, 0.5]])
        g = losses.CategoricalCrossentropy().gradient([[0, 1.0, 0]], p)
        np.testing.assert_allclose(g, [[1.0, 1 - 1 / 0.3, 1.0]], rtol=1e-14)


def test_extreme_logits_give_finite_values_and_gradients():
    z = np.array([[1000.0, -1000.0, 0.0]])
    for loss, y in [(losses.CategoricalCrossentropy(from_logits=True), [[0, 1.0, 0]]),
                    (losses.SparseCategoricalCrossentropy(from_logits=True), [1]),
                    (losses.BinaryCrossentropy(from_logits=True), [[0.0, 1.0, 1.0]])]:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            value, grad = loss.value_and_gradient(y, z)
        assert np.isfinite(value) and np.all(np.isfinite(grad))


class TestErrors:
    def test_unknown_name(self):
        with pytest.raises(ValueError, match=r"Unknown loss.*Received: loss='hinge2'"):
            losses.get("hinge2")

    def test_shape_mismatch_echoes_shapes(self):
        with pytest.raises(ValueError, match=r"y_true.shape=\(2, 3\), y_pred.shape=\(2, 2\)"):
            losses.get("mse")(np.zeros((2, 3)), np.zeros((2, 2)))

    def test_bad_label_smoothing(self):
        with pytest.raises(ValueError, match=r"`label_smoothing` must be a float in \[0.0, 1.0\]. Received: label_smoothing=1.5"):
            losses.CategoricalCrossentropy(label_smoothing=1.5)

    def test_bad_reduction(self):
        with pytest.raises(ValueError, match=r"Received: reduction='avg'"):
            losses.MeanSquaredError(reduction="avg")

    def test_sparse_labels_out_of_range(self):
        with pytest.raises(ValueError, match=r"class ids in \[0, 3\). Received: y_true value 3"):
            losses.SparseCategoricalCrossentropy()([0, 3], np.full((2, 3), 1 / 3))

    def test_sample_weight_length(self):
        with pytest.raises(ValueError, match=r"`sample_weight` must have one entry per sample"):
            losses.get("mse")(np.zeros((2, 1)), np.zeros((2, 1)), sample_weight=[1.0, 2.0, 3.0])

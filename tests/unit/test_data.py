"""Data helpers: one-hot encoding, train/test splits (scikit-learn's refusals), Keras's
validation split, batches."""

import numpy as np
import pytest

from refnn.utils.data import batches, one_hot, split_validation, train_test_split


def test_one_hot():
    np.testing.assert_array_equal(one_hot([0, 2], 3), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(one_hot(np.array([[1], [0]])), [[0, 1], [1, 0]])
    assert one_hot([], 4).shape == (0, 4)
    assert one_hot([1.0, 0.0], 2, dtype="float32").dtype == np.float32


@pytest.mark.parametrize("labels, num_classes, match", [
    ([], None, r"`labels` is empty, so the number of classes is unknown: pass `num_classes`"),
    ([0, -1], None, r"`labels` must hold non-negative integers. Received: labels value -1"),
    ([0, 1.5], None, r"`labels` must hold non-negative integers. Received: labels value 1.5"),
    ([0, 3], 3, r"`labels` must hold integer class ids in \[0, 3\). Received: labels value 3"),
    ([0, 1], 0, r"`num_classes` must be a positive integer. Received: num_classes=0"),
])
def test_one_hot_refusals(labels, num_classes, match):
    with pytest.raises(ValueError, match=match):
        one_hot(labels, num_classes)


def test_train_test_split_is_seeded_and_keeps_rows_together():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    a = train_test_split(x, y, 0.3, seed=1)
    b = train_test_split(x, y, 0.3, seed=1)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    x_train, x_test, y_train, y_test = a
    assert len(x_test) == 3 and len(x_train) == 7
    np.testing.assert_array_equal(x_train[:, 0] / 2, y_train)  # rows stay paired
    assert sorted(np.concatenate([y_train, y_test])) == list(range(10))


def test_stratified_split_keeps_the_class_proportions():
    y = np.repeat([0, 1, 2], [20, 40, 60])
    _, _, _, y_test = train_test_split(np.zeros((120, 1)), y, 0.25, seed=0, stratify=True)
    assert np.bincount(y_test).tolist() == [5, 10, 15]


def test_split_refusals_are_scikit_learns():
    with pytest.raises(ValueError, match=r"Found input variables with inconsistent numbers of samples: \[3, 4\]"):
        train_test_split(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"With n_samples=3, test_size=0.1 and train_size=None, the resulting "
                                         r"test set will be empty"):
        train_test_split(np.zeros((3, 2)), np.zeros(3), 0.1)
    with pytest.raises(ValueError, match=r"the resulting train set will be empty"):
        train_test_split(np.zeros((3, 2)), np.zeros(3), 0.9)
    with pytest.raises(ValueError, match=r"The test_size = 0 should be greater or equal to the number of classes = 2"):
        train_test_split(np.zeros((4, 1)), np.array([0, 0, 1, 1]), 0.25, stratify=True)
    with pytest.raises(ValueError, match=r"`test_size` must be a float in \(0.0, 1.0\). Received: test_size=1.0"):
        train_test_split(np.zeros((4, 1)), np.zeros(4), 1.0)


def test_split_validation_takes_the_last_rows():
    x, y = np.arange(10.0)[:, None], np.arange(10)
    x_train, y_train, x_val, y_val = split_validation(x, y, 0.25)
    # Keras: the first ⌊10·(1 − 0.25)⌋ = 7 rows train, the last 3 validate
    assert y_train.tolist() == list(range(7)) and y_val.tolist() == [7, 8, 9]
    with pytest.raises(ValueError, match=r"leaves an empty training or validation set for 2 rows"):
        split_validation(x[:2], y[:2], 0.6)  # ⌊2·0.4⌋ = 0 training rows


def test_batches_end_with_the_partial_batch():
    assert [(s.start, s.stop) for s in batches(10, 4)] == [(0, 4), (4, 8), (8, 10)]

"""The data the comparisons run on: scikit-learn's bundled sets and two classic synthetic problems.

Nothing is downloaded: ``load_digits``, ``load_iris``, ``load_wine``, ``load_breast_cancer`` and
``load_diabetes`` ship inside scikit-learn. Each ``load(name)`` returns a fixed, seeded split
(75 % train, 25 % test, stratified for classification) with the preprocessing a course would use:

=============== ============ ========= =================================================
name            samples × in outputs   preprocessing
=============== ============ ========= =================================================
digits          1797 × 64    10 (one-hot) pixels / 16 → [0, 1] (``comparisons.demo``'s split)
iris            150 × 4      3 (one-hot)  standardised with the training mean and std
wine            178 × 13     3 (one-hot)  standardised
breast_cancer   569 × 30     1 (0/1)      standardised
diabetes        442 × 10     1 (real)     inputs as shipped (centred, scaled); the target
                                          standardised with the training mean and std
=============== ============ ========= =================================================

The classic problems of ``docs/algorithms.md``:

* ``encoder(10)``: the 10-5-10 encoder — ten one-hot patterns, each its own target.
* ``sine_problem()``: Hagan & Menhaj's ``t = ½ + ¼·sin(3πp)`` on 40 points of ``p ∈ [−1, 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from refnn.utils.data import one_hot, train_test_split

__all__ = ["Dataset", "NAMES", "load", "encoder", "sine_problem"]

NAMES = ("digits", "iris", "wine", "breast_cancer", "diabetes")


@dataclass(frozen=True)
class Dataset:
    """A train/test split ready for a network.

    Attributes:
        name: one of ``NAMES``.
        task: ``"multiclass"`` (one-hot targets), ``"binary"`` (0/1 column) or ``"regression"``.
        x_train, y_train, x_test, y_test: 2-D arrays of the requested dtype.
        description: one line for reports.
    """

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    description: str

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.y_train.shape[1]


def _standardise(train: np.ndarray, test: np.ndarray):
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def load(name: str, dtype="float64", seed: int = 0) -> Dataset:
    """Load a bundled scikit-learn data set, split with ``seed`` and preprocessed (see the module
    docstring).

    Raises:
        ValueError: an unknown ``name``.
    """
    from sklearn import datasets as skd

    if name not in NAMES:
        raise ValueError(f"`name` must be one of {list(NAMES)}. Received: name={name!r}")
    dtype = np.dtype(dtype)
    if name == "digits":
        from comparisons.demo import load_digits_split

        x_tr, x_te, y_tr, y_te = load_digits_split(seed, dtype)
        return Dataset(name, "multiclass", x_tr, y_tr, x_te, y_te,
                       "scikit-learn digits: 8×8 images, pixels / 16, 10 classes one-hot")
    if name == "diabetes":
        bunch = skd.load_diabetes()
        x_tr, x_te, y_tr, y_te = train_test_split(bunch.data, bunch.target.reshape(-1, 1), 0.25, seed)
        y_tr, y_te = _standardise(y_tr, y_te)
        return Dataset(name, "regression", x_tr.astype(dtype), y_tr.astype(dtype), x_te.astype(dtype),
                       y_te.astype(dtype), "scikit-learn diabetes: 10 inputs, disease progression "
                       "(standardised)")
    loader = {"iris": skd.load_iris, "wine": skd.load_wine, "breast_cancer": skd.load_breast_cancer}[name]
    bunch = loader()
    if name == "breast_cancer":
        y, task, what = bunch.target.reshape(-1, 1).astype(np.float64), "binary", "malignant/benign (0/1)"
    else:
        k = int(bunch.target.max()) + 1
        y, task, what = one_hot(bunch.target, k), "multiclass", f"{k} classes one-hot"
    x_tr, x_te, y_tr, y_te = train_test_split(bunch.data, y, 0.25, seed, stratify=True)
    x_tr, x_te = _standardise(x_tr, x_te)
    return Dataset(name, task, x_tr.astype(dtype), y_tr.astype(dtype), x_te.astype(dtype),
                   y_te.astype(dtype),
                   f"scikit-learn {name}: {bunch.data.shape[1]} standardised inputs, {what}")


def encoder(n: int = 10, dtype="float64") -> tuple[np.ndarray, np.ndarray]:
    """The n-m-n encoder problem: inputs and targets are the ``n`` one-hot patterns (0/1)."""
    eye = np.eye(n, dtype=dtype)
    return eye, eye.copy()


def sine_problem(n: int = 40, dtype="float64") -> tuple[np.ndarray, np.ndarray]:
    """``p`` evenly spaced on ``[−1, 1]`` and ``t = ½ + ¼·sin(3πp)`` (Hagan & Menhaj 1994), both
    ``(n, 1)``."""
    p = np.linspace(-1.0, 1.0, n).reshape(-1, 1)
    return p.astype(dtype), (0.5 + 0.25 * np.sin(3.0 * np.pi * p)).astype(dtype)

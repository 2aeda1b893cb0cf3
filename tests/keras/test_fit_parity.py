"""``fit`` curves, refnn vs Keras, on scikit-learn's bundled data sets, through ``compare.training``.

Each case trains the same network from the same weights on both sides for 20 epochs (batch size 1
for 3 epochs) with refnn's batch order handed to Keras (``compare.training``), and compares every
epoch's ``loss``, metrics, ``val_*`` and the final weights: float64 ≤ TOLERANCES["training"]["float64"],
float32 ≤ TOLERANCES["training"]["float32"]. Together the cases cover SGD, momentum, Nesterov, RMSprop, Adam and
Adagrad; mini-batches with a partial final batch, batch size 1 and the full batch; softmax + CCE,
softmax + SCCE, sigmoid + BCE, linear + MSE; L1/L2 penalties; ``validation_split``.

Data: digits, iris, breast_cancer, diabetes (``sklearn.datasets.load_*``), standardised, rows
subsampled with a fixed seed so the suite stays fast.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("keras")
datasets = pytest.importorskip("sklearn.datasets")

import refnn  # noqa: E402
from keras_bridge import compare  # noqa: E402
from refnn import callbacks, layers, optimizers, regularizers  # noqa: E402
from refnn.utils.data import one_hot  # noqa: E402
from refnn.utils.tolerance import TOLERANCES  # noqa: E402

pytestmark = pytest.mark.slow
DTYPES = ["float64", "float32"]


def _standardize(a: np.ndarray) -> np.ndarray:
    std = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _load(name: str, rows: int, seed: int = 0):
    data = getattr(datasets, f"load_{name}")()
    order = np.random.default_rng(seed).permutation(data.data.shape[0])[:rows]
    x = _standardize(data.data[order].astype(np.float64))
    target = data.target[order]
    if name == "digits":
        y = one_hot(target, 10)
    elif name == "iris":
        y = target.astype(np.int64)  # class ids: sparse categorical crossentropy
    elif name == "breast_cancer":
        y = target.astype(np.float64)[:, None]
    else:  # diabetes: regression
        y = _standardize(target.astype(np.float64)[:, None])
    return x, y


# id: (data set, rows, model args, loss, metrics, optimizer factory, fit args)
CASES = {
    "digits-adam-minibatch": (
        "digits", 190, (16, "relu", 10, "softmax", None), "categorical_crossentropy", ["accuracy"],
        lambda: optimizers.Adam(0.01), dict(epochs=20, batch_size=32, validation_split=0.2)),
    "digits-adagrad-l1-minibatch": (
        "digits", 190, (16, "tanh", 10, "softmax", regularizers.L1(1e-3)), "categorical_crossentropy", [],
        lambda: optimizers.Adagrad(0.05), dict(epochs=20, batch_size=64)),
    "iris-sgd-batch1": (
        "iris", 150, (8, "tanh", 3, "softmax", None), "sparse_categorical_crossentropy", ["accuracy"],
        lambda: optimizers.SGD(0.02), dict(epochs=3, batch_size=1)),
    "iris-momentum-minibatch": (
        "iris", 150, (8, "relu", 3, "softmax", None), "sparse_categorical_crossentropy", [],
        lambda: optimizers.SGD(0.05, momentum=0.9), dict(epochs=20, batch_size=16, validation_split=0.2)),
    "breast_cancer-rmsprop-fullbatch": (
        "breast_cancer", 300, (8, "relu", 1, "sigmoid", None), "binary_crossentropy", ["accuracy"],
        lambda: optimizers.RMSprop(0.01), dict(epochs=20, batch_size=240, validation_split=0.2)),
    "diabetes-nesterov-l2-minibatch": (
        "diabetes", 300, (8, "tanh", 1, None, regularizers.L2(1e-3)), "mse", ["mae"],
        lambda: optimizers.SGD(0.01, momentum=0.9, nesterov=True),
        dict(epochs=20, batch_size=50, validation_split=0.1)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CASES))
def test_fit_curves_match_keras(case, dtype):
    name, rows, model_args, loss, metrics, make_optimizer, fit_args = CASES[case]
    x, y = _load(name, rows)
    hidden, activation, out_units, out_activation, regularizer = model_args
    model = refnn.Sequential(
        [layers.Dense(hidden, activation=activation, kernel_regularizer=regularizer),
         layers.Dense(out_units, activation=out_activation)],
        input_dim=x.shape[1], seed=7, dtype=dtype)
    model.compile(make_optimizer(), loss, metrics=metrics)
    result = compare.training(model, x, y, shuffle=True, **fit_args)
    result.assert_passed()
    assert result.rows[0].rtol == 0.0 and result.refnn_epochs == fit_args["epochs"]
    assert {row.rtol for row in result.rows[1:]} == {TOLERANCES["training"][dtype]}
    # the curves are real training runs: the loss went down
    assert result.keras_history["loss"][-1] < result.keras_history["loss"][0]
    n_train = int(rows * (1 - fit_args.get("validation_split", 0.0)))
    if fit_args["batch_size"] not in (1, n_train):
        assert n_train % fit_args["batch_size"] != 0, "the case must have a partial final batch"


@pytest.mark.parametrize("dtype", DTYPES)
def test_early_stopping_restore_best_weights_stops_at_the_same_epoch(dtype):
    x, y = _load("diabetes", 200, seed=1)
    model = refnn.Sequential([layers.Dense(16, activation="tanh"), layers.Dense(1)],
                             input_dim=x.shape[1], seed=3, dtype=dtype)
    model.compile(optimizers.Adam(0.05), "mse")  # a large step: val_loss turns up early
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    result = compare.training(model, x, y, epochs=30, batch_size=16, validation_split=0.25,
                              callbacks=[stop])
    result.assert_passed()
    assert 2 < result.refnn_epochs == result.keras_epochs < 30  # stopped early, on both sides
    # restored weights are those of the best epoch, not the last: the final-weight rows passed,
    # and the best val_loss is not the last epoch's
    val = result.keras_history["val_loss"]
    assert int(np.argmin(val)) == len(val) - 3

"""L1/L2 penalties in ``fit``: refnn's training curves against Keras's ``fit``, live.

The Keras twin is built here from refnn's architecture and ``get_weights()``; both train with SGD,
``shuffle=False`` and ``validation_split=0.25`` (the last rows), so ``loss`` (penalties included,
averaged over batches), ``val_loss`` (penalties included, end-of-epoch weights) and the final
weights must agree to ``TOLERANCES["training"]``.

Keras rounds L1/L2 coefficients through float32 even in float64 mode (docs/keras-numerics.md), so
the main cases use coefficients that float32 represents exactly (powers of two). The last test
shows the rounding with 0.01: refnn with the exact 0.01 drifts from Keras float64 by ~1e-9
relative; refnn with ``float(np.float32(0.01))`` agrees to rounding.
"""

import keras
import numpy as np
import pytest

import refnn
from refnn import layers, optimizers, regularizers
from refnn.utils.tolerance import TOLERANCES, relative_error

EPOCHS = 20

# refnn regularizer → Keras regularizer, per case (kernel and bias of the hidden layer; output kernel)
CASES = {
    "l2": dict(hidden_kernel=("L2", dict(l2=2.0**-7)), hidden_bias=("L2", dict(l2=2.0**-5)),
               output_kernel=("L2", dict(l2=2.0**-6))),
    "l1": dict(hidden_kernel=("L1", dict(l1=2.0**-8)), hidden_bias=("L1", dict(l1=2.0**-7)),
               output_kernel=("L1", dict(l1=2.0**-6))),
    "l1l2": dict(hidden_kernel=("L1L2", dict(l1=2.0**-9, l2=2.0**-7)), hidden_bias=None,
                 output_kernel=("L1L2", dict(l1=2.0**-7, l2=2.0**-8))),
}


def make(spec, lib):
    if spec is None:
        return None
    name, kwargs = spec
    return getattr(lib, name)(**kwargs)


def data(dtype, n=40):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((n, 4)).astype(dtype)
    y = np.stack([np.sin(x[:, 0]) + 0.5 * x[:, 1], x[:, 2] * x[:, 3]], axis=1).astype(dtype)
    return x, y


def train_both(case, floatx, lr=0.1):
    x, y = data(floatx)
    model = refnn.Sequential([
        layers.Dense(8, activation="tanh", kernel_regularizer=make(case["hidden_kernel"], regularizers),
                     bias_regularizer=make(case["hidden_bias"], regularizers)),
        layers.Dense(2, kernel_regularizer=make(case["output_kernel"], regularizers)),
    ], input_dim=4, seed=11, dtype=floatx)
    # non-zero biases, so that bias penalties matter from the first step
    weights = model.get_weights()
    weights[1] = np.linspace(-0.3, 0.3, 8).astype(floatx)
    model.set_weights(weights)
    model.compile(optimizers.SGD(learning_rate=lr), "mse")

    kmodel = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(8, activation="tanh", kernel_regularizer=make(case["hidden_kernel"], keras.regularizers),
                           bias_regularizer=make(case["hidden_bias"], keras.regularizers)),
        keras.layers.Dense(2, kernel_regularizer=make(case["output_kernel"], keras.regularizers)),
    ])
    kmodel.set_weights(model.get_weights())
    kmodel.compile(keras.optimizers.SGD(learning_rate=lr), "mse")

    kwargs = dict(epochs=EPOCHS, batch_size=8, shuffle=False, validation_split=0.25, verbose=0)
    mine = model.fit(x, y, **kwargs).history
    theirs = kmodel.fit(x, y, **kwargs).history
    return model, kmodel, mine, theirs


def curve_errors(model, kmodel, mine, theirs):
    errors = {key: relative_error(mine[key], theirs[key]) for key in ("loss", "val_loss")}
    for i, (a, b) in enumerate(zip(model.get_weights(), kmodel.get_weights())):
        errors[f"weights[{i}]"] = relative_error(a, b)
    return errors


@pytest.mark.parametrize("case_id", list(CASES))
def test_regularized_fit_matches_keras(case_id, floatx):
    model, kmodel, mine, theirs = train_both(CASES[case_id], floatx)
    assert len(mine["loss"]) == len(theirs["loss"]) == EPOCHS
    errors = curve_errors(model, kmodel, mine, theirs)
    worst = max(errors, key=errors.get)
    assert errors[worst] <= TOLERANCES["training"][floatx], f"{case_id} {floatx}: {worst} differs by {errors[worst]:.3e}: {errors}"
    # the penalties matter: they are far more than the tolerance of the reported loss
    assert model.regularization_loss() > 1e3 * TOLERANCES["training"][floatx] * mine["loss"][-1]
    print(f"{case_id} {floatx}: " + ", ".join(f"{k} {v:.1e}" for k, v in errors.items()))


def test_keras_rounds_the_coefficient_through_float32(float64):
    """L2(0.01): Keras float64 uses float32(0.01) = 0.009999999776482582."""
    exact = {"hidden_kernel": ("L2", dict(l2=0.01)), "hidden_bias": None, "output_kernel": ("L2", dict(l2=0.01))}
    rounded_value = float(np.float32(0.01))
    rounded = {"hidden_kernel": ("L2", dict(l2=rounded_value)), "hidden_bias": None,
               "output_kernel": ("L2", dict(l2=rounded_value))}
    model, kmodel, mine, theirs = train_both(exact, "float64")
    exact_errors = curve_errors(model, kmodel, mine, theirs)
    # refnn with the exact 0.01 against Keras's 0.01: a real, if small, difference
    assert max(exact_errors.values()) > 1e-12, exact_errors

    x, y = data("float64")
    model_r = refnn.Sequential([
        layers.Dense(8, activation="tanh", kernel_regularizer=make(rounded["hidden_kernel"], regularizers)),
        layers.Dense(2, kernel_regularizer=make(rounded["output_kernel"], regularizers)),
    ], input_dim=4, seed=11, dtype="float64")
    weights = model_r.get_weights()
    weights[1] = np.linspace(-0.3, 0.3, 8)
    model_r.set_weights(weights)
    model_r.compile(optimizers.SGD(learning_rate=0.1), "mse")
    mine_r = model_r.fit(x, y, epochs=EPOCHS, batch_size=8, shuffle=False, validation_split=0.25, verbose=0).history
    rounded_errors = curve_errors(model_r, kmodel, mine_r, theirs)
    # with Keras's float32-rounded coefficient the runs agree to float64 rounding
    assert max(rounded_errors.values()) < 1e-13, rounded_errors
    assert max(rounded_errors.values()) < 1e-3 * max(exact_errors.values())
    print(f"exact 0.01: {max(exact_errors.values()):.1e}, float32(0.01): {max(rounded_errors.values()):.1e}")

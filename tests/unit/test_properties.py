"""Properties every model keeps, on random small models (hypothesis; cases in ``properties.py``).

Each property runs ``PROPERTIES[name]`` examples under the ``ci`` profile (``tests/conftest.py``:
derandomised, so every run tries the same cases; ``HYPOTHESIS_PROFILE=explore`` draws new ones,
ten times as many). A failure prints the drawn ``Case``/``Training`` — the whole reproducer.

Round-off classes are excluded by construction, never by a looser tolerance: finite differences
run on models whose biases start away from 0 (no ReLU sits on its kink), and the training
properties compare a run with itself, so they hold bit for bit.
"""

from __future__ import annotations

import copy
import os
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refnn
from refnn.utils.gradcheck import model_gradients
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL, max_abs_difference, relative_error

from .properties import OPTIMIZERS, cases, same_weights, trainings

_SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "explore" else 1

#: property → examples per run (``ci`` profile)
PROPERTIES = {
    "gradients equal finite differences": 300,
    "predict does not depend on batch_size": 200,
    "the same seed trains bit for bit": 150,
    "fit(a) then fit(b) is fit(a + b)": 150,
    "round trips continue training identically": 150,
    "optimizers stay finite on extreme gradients": 300,
}


def examples(name: str):
    return settings(max_examples=PROPERTIES[name] * _SCALE)


# ---- mathematics ----------------------------------------------------------------------------------
@examples("gradients equal finite differences")
@given(case=cases())
def test_gradients_equal_finite_differences(case):
    """Backpropagation (regularisation included) equals central differences of the loss.

    Central differences in float64 carry round-off ≈ ε·|E|/h ≈ 2e-10·|E| per entry, so a tensor
    whose gradient is below 1e-3·max(1, |E|) is held to FINITE_DIFFERENCE_RTOL of that floor
    (an absolute 1e-9·|E|) rather than of its own tiny scale."""
    model = case.model(dropout=False, random_biases=True)
    x, y = case.data()
    loss, analytic, numeric = model_gradients(model, x, y)
    floor = 1e-3 * max(1.0, abs(loss))
    for path, reference in numeric.items():
        scale = max(float(np.max(np.abs(reference), initial=0.0)), floor)
        error = max_abs_difference(analytic[path], reference) / scale
        assert error <= FINITE_DIFFERENCE_RTOL, f"{path}: {error:.3e} (gradient scale {scale:.3e})"


@examples("predict does not depend on batch_size")
@given(case=cases(), batch_size=st.integers(1, 12))
def test_predict_does_not_depend_on_batch_size(case, batch_size):
    """Rows are independent in inference: batches of any size give the outputs of one batch, to
    round-off. Not bit for bit: NumPy's BLAS multiplies a one-row batch (a matrix–vector product)
    with another order of fused multiply–adds than a many-row one — ``x[:1] @ w`` and
    ``(x @ w)[:1]`` differ in the last bit — so the bound is 64 ulps of the output's scale."""
    model = case.model()
    x, _ = case.data()
    assert relative_error(model.predict(x, batch_size=batch_size), model.predict(x)) <= 64 * np.finfo(float).eps


# ---- training is a deterministic function of its inputs -------------------------------------------
@examples("the same seed trains bit for bit")
@given(training=trainings(), epochs=st.integers(1, 3))
def test_the_same_seed_trains_bit_for_bit(training, epochs):
    first, second = training.model(), training.model()
    assert training.fit(first, epochs) == training.fit(second, epochs)
    assert same_weights(first, second)


@examples("fit(a) then fit(b) is fit(a + b)")
@given(training=trainings(), a=st.integers(1, 3), b=st.integers(1, 3))
def test_two_fits_are_one_longer_fit(training, a, b):
    """The weights, the optimizer's state (moments, step count, schedule) and the random
    generators (shuffles, dropout masks) carry over from one ``fit`` to the next, as in Keras."""
    split, whole = training.model(), training.model()
    history = training.fit(split, a)
    continued = training.fit(split, b)
    expected = training.fit(whole, a + b)
    assert {k: history[k] + continued[k] for k in history} == expected
    assert same_weights(split, whole)


def _round_trip(model, how, directory):
    if how == "pickle":
        return pickle.loads(pickle.dumps(model))
    if how == "deepcopy":
        return copy.deepcopy(model)
    path = directory / f"model-{id(model)}.refnn"
    model.save(path)
    try:
        return refnn.load_model(path)
    finally:
        path.unlink()


@examples("round trips continue training identically")
@given(training=trainings(), how=st.sampled_from(["weights", "save", "deepcopy", "pickle"]),
       a=st.integers(0, 2), b=st.integers(1, 2))
def test_round_trips_continue_training_identically(training, how, a, b, tmp_path_factory):
    """``fit(a)``; a round trip; ``fit(b)`` trains as ``fit(a)``; ``fit(b)`` on the original.
    ``get_weights``/``set_weights`` (with ``set_random_state``) moves an untrained model into
    another one built with a different seed; save/load, deepcopy and pickle carry everything."""
    original = training.model()
    if how == "weights":
        other = training.model(seed=training.case.seed + 1)
        other.set_weights(original.get_weights())
        other.set_random_state(original.random_state())
    else:
        training.fit(original, a)
        other = _round_trip(original, how, tmp_path_factory.getbasetemp())
    assert training.fit(other, b) == training.fit(original, b)
    assert same_weights(other, original)


# ---- optimizers on extreme gradients ----------------------------------------------------------
GRADIENTS = {
    "zero": lambda t, size, m: np.zeros(size),
    "constant": lambda t, size, m: np.full(size, m),
    "sign-flipping": lambda t, size, m: np.full(size, m * (-1.0) ** t),
    "one entry flipping": lambda t, size, m: np.where(np.arange(size) == 0, m * (-1.0) ** t, 0.0),
    "zero then huge": lambda t, size, m: np.full(size, 0.0 if t < 3 else m),
}


@examples("optimizers stay finite on extreme gradients")
@given(name=st.sampled_from(sorted(n for n in OPTIMIZERS if n != "levenberg-marquardt")),
       pattern=st.sampled_from(sorted(GRADIENTS)), magnitude=st.sampled_from([1e-300, 1e-8, 1.0, 1e8, 1e100]),
       steps=st.integers(1, 25))
def test_optimizers_stay_finite_on_extreme_gradients(name, pattern, magnitude, steps):
    """Zero, tiny (1e-300), huge (1e100) and sign-flipping gradients never turn a weight into NaN or
    ±inf (every update rule, with clipping and schedules)."""
    optimizer = OPTIMIZERS[name]()
    params = {"w": np.linspace(-1.0, 1.0, 4)}
    for t in range(steps):
        grad = GRADIENTS[pattern](t, 4, magnitude)
        optimizer.apply(params, {"w": grad}, loss=float(np.sum(grad * grad)) if magnitude < 1e100 else 1e300)
        assert np.all(np.isfinite(params["w"])), (t, params["w"])


@pytest.mark.parametrize("scale", [0.0, 1e-150, 1e50])
def test_levenberg_marquardt_stays_finite_on_extreme_residuals(scale):
    """LM's gradient is the model's: zero, tiny and huge residuals through a sum-of-squares fit."""
    model = refnn.Sequential([refnn.layers.Dense(3, activation="tanh"), refnn.layers.Dense(1)], input_dim=2, seed=0)
    model.compile(OPTIMIZERS["levenberg-marquardt"](), "sse")
    x = np.random.default_rng(0).standard_normal((6, 2))
    model.fit(x, np.full((6, 1), scale), epochs=5, batch_size=6, verbose=0)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


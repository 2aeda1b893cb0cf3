"""Levenberg–Marquardt's memory limit: the estimate against what a step allocates, the refusal,
the largest accepted model, and that a model under the limit trains exactly as before the check.
"""

import tracemalloc

import numpy as np
import pytest

import refnn
from refnn import layers, optimizers
from refnn.optimizers.levenberg_marquardt import DEFAULT_MAX_MEMORY_BYTES, largest_lm_model, lm_step_memory_bytes

LM = optimizers.LevenbergMarquardt

# Weights after 4 epochs of the wave problem below (3 rejected tries among them), computed with
# the optimizer as it was before the memory check existed: the check must not change a bit.
WEIGHTS_BEFORE_THE_CHECK = np.array([
    0.36320060847035684, -1.0836242168262076, 0.41933649105712956, -1.29687917284639, -1.2103757906786357,
    0.07316604455707017, -0.996285932059827, -0.07705024627223342, -0.29892882586881014, 0.7234204117461353,
    0.8905525720322183, -0.49654519359067945, -0.37965316429444584, -1.6882613798969537, 0.7328829028646793,
    -0.3216748385154743, 0.6869608763958801, -0.6190382636349658, 0.20220651169948567, 1.5982774090662113,
    0.25350846151035417, -1.5390440958340452,
])
LOSSES_BEFORE_THE_CHECK = [0.4238396894926159, 0.10278852615419502, 0.08991269030024664, 0.0371447561263148]


def wave_fit(**options):
    p = np.linspace(-1.0, 1.0, 30)[:, None]
    y = np.hstack([0.5 + 0.25 * np.sin(3 * np.pi * p), np.cos(2 * p)])
    model = refnn.Sequential([layers.Dense(5, activation="tanh"), layers.Dense(2)], input_dim=1, seed=7)
    opt = LM(mu=0.01, **options)
    model.compile(optimizer=opt, loss="mse")
    history = model.fit(p, y, epochs=4, batch_size=30, verbose=0)
    return np.concatenate([a.ravel() for a in model.params.values()]), history.history["loss"], opt


def mlp(n_inputs, width, n_outputs, dtype="float64", seed=1):
    model = refnn.Sequential([layers.Dense(width, activation="tanh"), layers.Dense(n_outputs)],
                             input_dim=n_inputs, seed=seed, dtype=dtype)
    return model


def n_params(model):
    return sum(p.size for p in model.params.values())


# ---- a model under the limit: unchanged arithmetic ------------------------------------------------
@pytest.mark.parametrize("limit", [DEFAULT_MAX_MEMORY_BYTES, None, 10**6])
def test_under_the_limit_trains_exactly_as_before(limit):
    weights, losses, opt = wave_fit(max_memory_bytes=limit)
    np.testing.assert_allclose(weights, WEIGHTS_BEFORE_THE_CHECK, rtol=1e-12, atol=0)
    np.testing.assert_allclose(losses, LOSSES_BEFORE_THE_CHECK, rtol=1e-12, atol=0)
    assert opt.total_rejections == 3 and opt.iterations == 4


def test_limit_off_and_on_give_identical_weights():
    assert np.array_equal(wave_fit(max_memory_bytes=None)[0], wave_fit()[0])


# ---- the estimate against the allocations ---------------------------------------------------------
def traced_step_peak(model, x, y, opt):
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        opt.model_step(model, x, y)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("rows, width, n_outputs, dtype", [
    (100, 100, 1, "float64"),  # P = 601: the P² matrices and J about equal
    (200, 40, 1, "float64"),
    (300, 40, 2, "float32"),  # J in float32, then its float64 copy
])
def test_estimate_matches_the_traced_peak(rows, width, n_outputs, dtype):
    """tracemalloc sees every NumPy array but not the solver's LAPACK working copy (allocated by
    numpy.linalg outside Python's allocator): the traced peak is the estimate less one P² block,
    within 10 % (the forward pass's activations, not counted, are the rest)."""
    rng = np.random.default_rng(0)
    model = mlp(4, width, n_outputs, dtype)
    x = rng.standard_normal((rows, 4)).astype(dtype)
    y = rng.standard_normal((rows, n_outputs)).astype(dtype)
    opt = LM()
    model.compile(optimizer=opt, loss="mse")
    opt.model_step(model, x, y)  # warm up: first-call caches are not a step's arrays
    peak = traced_step_peak(model, x, y, opt)
    params = n_params(model)
    estimate = lm_step_memory_bytes(rows, n_outputs, params, np.dtype(dtype).itemsize)
    visible = estimate - 8 * params**2
    assert 0.9 * visible <= peak <= 1.1 * visible, (peak, visible)


def test_estimate_terms():
    r, p = 1000, 300
    assert lm_step_memory_bytes(r, 1, p) == r * p * 16 + 5 * 8 * p * p + 8 * 8 * p + 16 * r
    assert lm_step_memory_bytes(r, 1, p, itemsize=4) == r * p * 12 + 5 * 8 * p * p + 8 * 8 * p + 16 * r
    assert lm_step_memory_bytes(500, 2, p) == lm_step_memory_bytes(1000, 1, p)


# ---- the refusal ----------------------------------------------------------------------------------
def test_refusal_names_the_sizes_and_what_to_do():
    model = mlp(10, 50, 3)  # P = 10·50 + 50 + 50·3 + 3 = 703
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((400, 10)), rng.standard_normal((400, 3))
    before = [p.copy() for p in model.params.values()]
    limit = 10**7
    needed = lm_step_memory_bytes(400, 3, 703)
    model.compile(optimizer=LM(max_memory_bytes=limit), loss="mse")
    with pytest.raises(ValueError) as caught:
        model.fit(x, y, epochs=1, batch_size=400, verbose=0)
    message = str(caught.value)
    for part in ["703 parameters", "400 rows × 3 outputs", "1,200 × 703", f"{needed / 1e6:.1f} MB",
                 "max_memory_bytes=10000000", "10.0 MB", f"{largest_lm_model(400, 3, limit):,} parameters",
                 "fewer rows", "smaller model", "first-order optimizer"]:
        assert part in message, (part, message)
    for old, new in zip(before, model.params.values()):
        assert np.array_equal(old, new)


def test_refusal_in_gigabytes():
    opt = LM()
    with pytest.raises(ValueError, match=r"about 7\.20 GB .*max_memory_bytes=2147483648 \(2\.15 GB\)"):
        opt._check_memory(20_000, 1, 10_000, 8)


def test_largest_model_is_the_boundary():
    for rows, outputs, limit, itemsize in [(1000, 1, DEFAULT_MAX_MEMORY_BYTES, 8), (300, 2, 10**7, 4),
                                           (10**5, 1, DEFAULT_MAX_MEMORY_BYTES, 8)]:
        largest = largest_lm_model(rows, outputs, limit, itemsize)
        assert lm_step_memory_bytes(rows, outputs, largest, itemsize) <= limit
        assert lm_step_memory_bytes(rows, outputs, largest + 1, itemsize) > limit
        opt = LM(max_memory_bytes=limit)
        opt._check_memory(rows, outputs, largest, itemsize)
        with pytest.raises(ValueError, match="more than max_memory_bytes"):
            opt._check_memory(rows, outputs, largest + 1, itemsize)
    assert largest_lm_model(1000) == 7129  # the figure the docstring states
    assert largest_lm_model(10**9, 1, 10**6) == 0


# ---- the argument ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, -1, 1.5, "2GB", True])
def test_bad_limit_is_refused(value):
    with pytest.raises(ValueError, match=r"`max_memory_bytes` must be a positive integer. Received: "
                                         r"max_memory_bytes="):
        LM(max_memory_bytes=value)


def test_limit_in_config_only_when_not_the_default():
    assert "max_memory_bytes" not in LM().get_config()
    assert "max_memory_bytes" not in repr(LM())
    config = LM(max_memory_bytes=10**8).get_config()
    assert config["max_memory_bytes"] == 10**8
    assert LM.from_config(config).max_memory_bytes == 10**8
    assert LM.from_config(LM(max_memory_bytes=None).get_config()).max_memory_bytes is None

"""Every optimizer and option, one step from a state set by hand, against its formula.

The same named set runs for each optimizer: (a) ``test_step_from_hand_set_state`` — slots and
``iterations`` set by hand, the expected parameters *and* slots recomputed inside the test from the
update equations (written in the documented order of operations), exact equality in float64;
(b) ``test_float32_stays_float32_in_place``; (c) ``test_config_round_trip``; (d)
``test_bad_hyper_parameter_raises``; (e) convergence on a quadratic and on Rosenbrock (never the
only test). Rprop and Quickprop also have step-exact hand-worked sequences in their own files.
"""

from __future__ import annotations

import copy
import math
import re

import numpy as np
import pytest

from refnn import optimizers
from refnn.optimizers import (SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, Quickprop, RMSprop,
                              Rprop, schedules)

T = 7  # the hand-set state is that after 6 steps: this update has t = iterations + 1 = 7
LR = 0.03


def identity(x):
    return x


def to_float32(x):
    return float(np.float32(x))


# ---- state preparation (valid states: second moments positive, v ≥ a² when centered, ...) ------
def _positive(rng, shape):
    return rng.uniform(0.01, 2.0, size=shape) ** 2


def prepare_state(opt, state, rng):
    for name, slot in state.items():
        if name in ("velocity", "velocity_hat", "accumulator", "accumulated_grad",
                    "accumulated_delta_var", "norm", "step_size"):
            slot[...] = _positive(rng, slot.shape)
        elif name == "prev_grad":
            slot[...] = rng.normal(size=slot.shape)
            slot.flat[0] = 0.0  # a frozen gradient: no adaptation, no backtracking there
        else:
            slot[...] = rng.normal(size=slot.shape)
    if "average_gradient" in state:  # centered: v − a² must stay positive
        state["velocity"] += np.square(state["average_gradient"])
    if "prev_step" in state:  # Quickprop's invariant: sign(Δw) = −sign(s_prev)
        state["prev_step"][...] = -rng.uniform(0.1, 1.0, size=state["prev_step"].shape) * state["prev_slope"]
        state["prev_step"].flat[0] = 0.0


# ---- the formulas, one per optimizer; each returns (new weight, new slots) ----------------------
def sgd_expected(opt, w, g, s, lr, t, k):
    mu = k(opt.momentum)
    if not opt.momentum:
        return w - g * lr, s
    m = s["momentum"]
    if opt.momentum_form == "velocity":  # m ← m·μ − g·lr;  W ← W + m  (nesterov: W + (m·μ − g·lr))
        m = m * mu - g * lr
        w = w + (m * mu - g * lr) if opt.nesterov else w + m
    elif opt.momentum_form == "ema":  # V ← V·μ + g·(1−μ);  W ← W − V·lr  (nesterov: (V·μ + g(1−μ))·lr)
        m = m * mu + g * (1 - mu)
        w = w - (m * mu + g * (1 - mu)) * lr if opt.nesterov else w - m * lr
    else:  # pytorch: v ← v·μ + g;  W ← W − v·lr  (nesterov: (v·μ + g)·lr)
        m = m * mu + g
        w = w - (m * mu + g) * lr if opt.nesterov else w - m * lr
    return w, {"momentum": m}


def rmsprop_expected(opt, w, g, s, lr, t, k):
    rho, new = opt.rho, {}
    v = new["velocity"] = s["velocity"] * rho + np.square(g) * (1 - rho)
    c = 1 - rho ** t if opt.bias_correction else None
    den = v / c if c is not None else v
    if opt.centered:
        a = new["average_gradient"] = s["average_gradient"] * rho + g * (1 - rho)
        den = den - np.square(a / c if c is not None else a)
    if opt.epsilon_placement == "inside_sqrt":
        den = np.sqrt(den + opt.epsilon)
    else:
        den = np.sqrt(np.maximum(den, 0.0) if opt.centered else den) + opt.epsilon
    increment = (g * lr) / den
    if opt.momentum:
        b = new["momentum"] = s["momentum"] * opt.momentum + increment
        return w - b, new
    return w - increment, new


def adam_expected(opt, w, g, s, lr, t, k):
    if opt.weight_decay is not None:  # decoupled, before the step: W ← W − (W·wd)·lr
        w = w - (w * k(opt.weight_decay)) * lr
    b1, b2 = opt.beta_1, opt.beta_2
    m = s["momentum"] + (g - s["momentum"]) * (1 - b1)
    v = s["velocity"] + (np.square(g) - s["velocity"]) * (1 - b2)
    new = {"momentum": m, "velocity": v}
    if opt.amsgrad:
        v = new["velocity_hat"] = np.maximum(s["velocity_hat"], v)
    b1t, b2t = k(b1) ** t, k(b2) ** t  # Keras rounds β through float32 in the powers only
    if opt.epsilon_placement == "sqrt_v":  # α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ);  W ← W − (m·α)/(√v + ε)
        alpha = lr * math.sqrt(1 - b2t) / (1 - b1t)
        return w - (m * alpha) / (np.sqrt(v) + opt.epsilon), new
    # Algorithm 1: W ← W − (m̂·lr)/(√v̂ + ε)
    return w - ((m / (1 - b1t)) * lr) / (np.sqrt(v / (1 - b2t)) + opt.epsilon), new


def adagrad_expected(opt, w, g, s, lr, t, k):
    acc = s["accumulator"] + np.square(g)
    if opt.epsilon_placement == "inside_sqrt":
        den = np.sqrt(acc + opt.epsilon)
    else:
        den = np.sqrt(acc) + opt.epsilon
    return w - (g * lr) / den, {"accumulator": acc}


def adadelta_expected(opt, w, g, s, lr, t, k):
    rho, eps = opt.rho, opt.epsilon
    eg = s["accumulated_grad"] * rho + np.square(g) * (1 - rho)
    delta = -((np.sqrt(s["accumulated_delta_var"] + eps) * g) / np.sqrt(eg + eps))
    ed = s["accumulated_delta_var"] * rho + np.square(delta) * (1 - rho)
    return w + delta * lr, {"accumulated_grad": eg, "accumulated_delta_var": ed}


def adamax_expected(opt, w, g, s, lr, t, k):
    m = s["momentum"] + (g - s["momentum"]) * (1 - opt.beta_1)
    u = np.maximum(s["norm"] * opt.beta_2, np.abs(g))
    return w - (m * lr) / ((u + opt.epsilon) * (1 - k(opt.beta_1) ** t)), {"momentum": m, "norm": u}


def nadam_expected(opt, w, g, s, lr, t, k, u_product_before):
    b1, b2, decay = k(opt.beta_1), k(opt.beta_2), k(0.96)  # rounded in the per-variable update
    mu_t = b1 * (1 - 0.5 * decay ** t)
    mu_next = b1 * (1 - 0.5 * decay ** (t + 1))
    u_product = u_product_before * opt.beta_1 * (1 - 0.5 * 0.96 ** t)  # exact constants in Π
    m = s["momentum"] + (g - s["momentum"]) * (1 - b1)
    v = s["velocity"] + (np.square(g) - s["velocity"]) * (1 - b2)
    m_hat = (m * mu_next) / (1 - u_product * mu_next) + (g * (1 - mu_t)) / (1 - u_product)
    v_hat = v / (1 - b2 ** t)
    return w - (m_hat * lr) / (np.sqrt(v_hat) + opt.epsilon), {"momentum": m, "velocity": v}


def rprop_expected(opt, w, g, s, lr, t, k, loss_went_up=False):
    prod = s["prev_grad"] * g
    step = np.where(prod > 0, np.minimum(s["step_size"] * opt.eta_plus, opt.max_step),
                    np.where(prod < 0, np.maximum(s["step_size"] * opt.eta_minus, opt.min_step),
                             s["step_size"]))
    stored = g.copy() if opt.variant == "rprop-" else np.where(prod < 0, 0.0, g)
    new = {"step_size": step, "prev_grad": stored}
    backtrack = opt.variant == "rprop+" or (opt.variant == "irprop+" and loss_went_up)
    if "prev_param" in s:
        w = np.where((prod < 0) & backtrack, s["prev_param"], w)
        new["prev_param"] = w
    return w - np.sign(stored) * step, new


def quickprop_expected(opt, w, g, s, lr, t, k):
    """Fahlman's UPDATE_WEIGHTS, weight by weight, written as his C code branches."""
    w, g = w.ravel(), g.ravel()
    sp, d = s["prev_slope"].ravel(), s["prev_step"].ravel()
    mu = opt.max_growth
    shrink = mu / (1.0 + mu)
    new_w, new_d, new_s = np.empty_like(w), np.empty_like(w), np.empty_like(w)
    for i in range(w.size):
        slope = w[i] * opt.decay + g[i] if opt.decay else g[i]
        if d[i] > 0:
            step = -lr * slope if slope < 0 else 0.0
            step += mu * d[i] if slope < shrink * sp[i] else slope / (sp[i] - slope) * d[i]
        elif d[i] < 0:
            step = -lr * slope if slope > 0 else 0.0
            step += mu * d[i] if slope > shrink * sp[i] else slope / (sp[i] - slope) * d[i]
        else:
            step = -lr * slope + 0.0
        new_w[i], new_d[i], new_s[i] = w[i] + step, step, slope
    shape = s["prev_step"].shape
    return new_w.reshape(shape), {"prev_slope": new_s.reshape(shape), "prev_step": new_d.reshape(shape)}


# (id, factory, formula)
RULES = [
    ("sgd", lambda: SGD(LR), sgd_expected),
    ("sgd-momentum", lambda: SGD(LR, momentum=0.9), sgd_expected),
    ("sgd-momentum-keras_float32", lambda: SGD(LR, momentum=0.9, keras_float32_constants=True), sgd_expected),
    ("sgd-nesterov", lambda: SGD(LR, momentum=0.9, nesterov=True), sgd_expected),
    ("sgd-ema", lambda: SGD(LR, momentum=0.8, momentum_form="ema"), sgd_expected),
    ("sgd-ema-nesterov", lambda: SGD(LR, momentum=0.8, momentum_form="ema", nesterov=True), sgd_expected),
    ("sgd-trace", lambda: SGD(LR, momentum=0.7, momentum_form="trace"), sgd_expected),
    ("sgd-trace-nesterov", lambda: SGD(LR, momentum=0.7, momentum_form="trace", nesterov=True),
     sgd_expected),
    ("rmsprop", lambda: RMSprop(LR), rmsprop_expected),
    ("rmsprop-momentum", lambda: RMSprop(LR, momentum=0.9), rmsprop_expected),
    ("rmsprop-centered", lambda: RMSprop(LR, centered=True, epsilon=0.5), rmsprop_expected),
    ("rmsprop-outside_sqrt", lambda: RMSprop(LR, epsilon_placement="outside_sqrt"), rmsprop_expected),
    ("rmsprop-outside-centered-momentum",
     lambda: RMSprop(LR, rho=0.95, momentum=0.5, centered=True, epsilon_placement="outside_sqrt"),
     rmsprop_expected),
    ("rmsprop-outside-bias_correction-momentum",
     lambda: RMSprop(LR, rho=0.95, momentum=0.5, epsilon_placement="outside_sqrt", bias_correction=True),
     rmsprop_expected),
    ("rmsprop-inside-bias_correction", lambda: RMSprop(LR, bias_correction=True), rmsprop_expected),
    ("adam", lambda: Adam(LR), adam_expected),
    ("adam-keras_float32", lambda: Adam(LR, keras_float32_constants=True), adam_expected),
    ("adam-amsgrad", lambda: Adam(LR, amsgrad=True, epsilon=0.1), adam_expected),
    ("adam-textbook", lambda: Adam(LR, epsilon=1e-8, epsilon_placement="sqrt_v_hat"), adam_expected),
    ("adam-textbook-amsgrad", lambda: Adam(LR, amsgrad=True, epsilon_placement="sqrt_v_hat"), adam_expected),
    ("adamw", lambda: AdamW(LR, weight_decay=0.1), adam_expected),
    ("adamw-keras_float32", lambda: AdamW(LR, keras_float32_constants=True), adam_expected),
    ("adagrad", lambda: Adagrad(LR), adagrad_expected),
    ("adagrad-outside_sqrt", lambda: Adagrad(LR, epsilon=0.01, epsilon_placement="outside_sqrt"),
     adagrad_expected),
    ("adadelta", lambda: Adadelta(LR, rho=0.9, epsilon=1e-3), adadelta_expected),
    ("adamax", lambda: Adamax(LR), adamax_expected),
    ("adamax-keras_float32", lambda: Adamax(LR, keras_float32_constants=True), adamax_expected),
    ("nadam", lambda: Nadam(LR), nadam_expected),
    ("nadam-keras_float32", lambda: Nadam(LR, keras_float32_constants=True), nadam_expected),
    ("rprop+", lambda: Rprop("rprop+", max_step=1.5, min_step=0.05), rprop_expected),
    ("rprop-", lambda: Rprop("rprop-", max_step=1.5, min_step=0.05), rprop_expected),
    ("irprop-", lambda: Rprop("irprop-", max_step=1.5, min_step=0.05), rprop_expected),
    ("irprop+", lambda: Rprop("irprop+", max_step=1.5, min_step=0.05), rprop_expected),
    ("quickprop", lambda: Quickprop(LR), quickprop_expected),
    ("quickprop-decay", lambda: Quickprop(LR, max_growth=1.5, decay=0.01), quickprop_expected),
]


def _hand_set(opt, seed=0):
    rng = np.random.default_rng(seed)
    params = {"dense_0/kernel": rng.normal(size=(3, 4)), "dense_0/bias": rng.normal(size=(4,)),
              "dense_1/kernel": rng.normal(size=(4, 2))}
    grads = {path: rng.normal(size=p.shape) for path, p in params.items()}
    grads["dense_0/bias"] *= 1e-4  # tiny gradients, where the ε conventions matter
    opt.build(params)
    for state in opt.state.values():
        prepare_state(opt, state, rng)
    opt.iterations = T - 1
    if isinstance(opt, Nadam):
        opt.u_product = np.float64(0.35)
    return params, grads


@pytest.mark.parametrize("rule_id, factory, formula", RULES, ids=[r[0] for r in RULES])
def test_step_from_hand_set_state(rule_id, factory, formula):
    opt = factory()
    params, grads = _hand_set(opt)
    before, state_before = copy.deepcopy(params), copy.deepcopy(opt.state)
    k = to_float32 if opt.keras_float32_constants else identity
    extra = {}
    if isinstance(opt, Nadam):
        extra["u_product_before"] = opt.u_product
    if isinstance(opt, Rprop) and opt.variant == "irprop+":
        opt.previous_loss = 1.0
        extra["loss_went_up"] = True
    opt.apply(params, grads, loss=2.0)
    lr = opt.learning_rate if not isinstance(opt, Rprop) else None
    assert opt.iterations == T
    for path in params:
        w, slots = formula(opt, before[path], grads[path], state_before[path], lr, T, k, **extra)
        np.testing.assert_array_equal(params[path], w, err_msg=f"{rule_id}: {path}")
        for name, expected in slots.items():
            np.testing.assert_array_equal(opt.state[path][name], expected,
                                          err_msg=f"{rule_id}: {path} slot {name!r}")
        assert set(slots) | {"prev_param"} >= set(opt.state[path]), rule_id


def test_irprop_plus_does_not_backtrack_when_the_loss_went_down():
    opt = Rprop("irprop+", max_step=1.5, min_step=0.05)
    params, grads = _hand_set(opt)
    before, state_before = copy.deepcopy(params), copy.deepcopy(opt.state)
    opt.previous_loss = 3.0
    opt.apply(params, grads, loss=2.0)
    for path in params:
        w, _ = rprop_expected(opt, before[path], grads[path], state_before[path], None, T, identity,
                              loss_went_up=False)
        np.testing.assert_array_equal(params[path], w)
    assert opt.previous_loss == 2.0


def test_nadam_updates_its_shared_product_once_per_apply():
    opt = Nadam(LR)
    params, grads = _hand_set(opt)
    opt.apply(params, grads)
    # Π ← Π·β₁·(1 − ½·0.96⁷), once, although three parameters were updated
    assert opt.u_product == 0.35 * 0.9 * (1 - 0.5 * 0.96 ** T)


def test_adagrad_initial_accumulator_is_rounded_only_with_the_flag():
    param = {"w": np.zeros(3)}
    exact, rounded = Adagrad(), Adagrad(keras_float32_constants=True)
    exact.build(param)
    rounded.build(param)
    assert np.all(exact.state["w"]["accumulator"] == 0.1)
    assert np.all(rounded.state["w"]["accumulator"] == float(np.float32(0.1)))


# ---- (b) dtype and in-place -----------------------------------------------------------------
FACTORIES = [(rule_id, factory) for rule_id, factory, _ in RULES]


@pytest.mark.parametrize("rule_id, factory", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_float32_stays_float32_in_place(rule_id, factory):
    opt = factory()
    rng = np.random.default_rng(3)
    params = {"a/kernel": rng.normal(size=(3, 2)).astype(np.float32), "a/bias": np.ones(2, np.float32)}
    arrays = dict(params)
    for step in range(4):
        grads = {path: rng.normal(size=p.shape) for path, p in params.items()}  # float64 gradients
        slots = {path: dict(state) for path, state in opt.state.items()}
        opt.apply(params, grads, loss=1.0 / (step + 1))
        for path, p in params.items():
            assert p is arrays[path] and p.dtype == np.float32, rule_id
            assert all(arr.dtype == np.float32 for arr in opt.state[path].values()), rule_id
            # slots are updated in place, never replaced
            for name, arr in slots.get(path, {}).items():
                assert opt.state[path][name] is arr, (rule_id, name)


# ---- (c) config ------------------------------------------------------------------------------
@pytest.mark.parametrize("rule_id, factory", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_config_round_trip(rule_id, factory):
    opt = factory()
    config = opt.get_config()
    twin = type(opt).from_config(config)
    assert twin.get_config() == config
    assert optimizers.get({"class_name": type(opt).__name__, "config": config}).get_config() == config
    # and the twin computes the same steps
    p1, g = _hand_set(opt, seed=5)
    p2, _ = _hand_set(twin, seed=5)
    for _ in range(3):
        opt.apply(p1, g, loss=1.0)
        twin.apply(p2, g, loss=1.0)
    for path in p1:
        np.testing.assert_array_equal(p1[path], p2[path])


def test_config_round_trip_with_a_schedule():
    opt = Adam(learning_rate=schedules.ExponentialDecay(0.05, 10, 0.9, staircase=True), clipnorm=1.0)
    config = opt.get_config()
    assert config["learning_rate"] == {
        "class_name": "ExponentialDecay",
        "config": {"initial_learning_rate": 0.05, "decay_steps": 10, "decay_rate": 0.9,
                   "staircase": True, "name": "ExponentialDecay"}}
    twin = Adam.from_config(config)
    assert isinstance(twin.learning_rate, schedules.ExponentialDecay)
    assert twin.get_config() == config


# ---- (d) bad hyper-parameters ----------------------------------------------------------------
def _interval(name, value, interval):
    return re.escape(f"`{name}` must be a float in {interval}. Received: {name}={value!r}")


BAD = [
    (SGD, {"momentum": 1.5}, ValueError, _interval("momentum", 1.5, "[0.0, 1.0]")),
    (SGD, {"momentum": -0.1}, ValueError, _interval("momentum", -0.1, "[0.0, 1.0]")),
    (SGD, {"nesterov": "yes"}, TypeError, "`nesterov` must be a bool. Received: nesterov='yes'"),
    (SGD, {"momentum_form": "nesterov"}, ValueError, "`momentum_form` must be one of .*momentum_form='nesterov'"),
    (SGD, {"learning_rate": -1.0}, ValueError, _interval("learning_rate", -1.0, "(0.0, inf)")),
    (SGD, {"learning_rate": 0.0}, ValueError, "`learning_rate` must be a float"),
    (RMSprop, {"rho": 1.0}, ValueError, _interval("rho", 1.0, "[0.0, 1.0)")),
    (RMSprop, {"momentum": 2.0}, ValueError, _interval("momentum", 2.0, "[0.0, 1.0]")),
    (RMSprop, {"epsilon": -1e-7}, ValueError, _interval("epsilon", -1e-7, "[0.0, inf)")),
    (RMSprop, {"centered": 1}, TypeError, "`centered` must be a bool"),
    (RMSprop, {"epsilon_placement": "middle"}, ValueError, "`epsilon_placement` must be one of"),
    (RMSprop, {"bias_correction": "no"}, TypeError, "`bias_correction` must be a bool"),
    # at t = 1 the corrected v − a² is g² − g² = 0: the first step would be lr·g/ε
    (RMSprop, {"centered": True, "bias_correction": True}, ValueError,
     r"`centered=True` with `bias_correction=True` is refused: at t = 1 .*lr·g/ε"),
    (Adam, {"beta_1": 1.0}, ValueError, _interval("beta_1", 1.0, "[0.0, 1.0)")),
    (Adam, {"beta_2": -0.5}, ValueError, _interval("beta_2", -0.5, "[0.0, 1.0)")),
    (Adam, {"epsilon": -1.0}, ValueError, _interval("epsilon", -1.0, "[0.0, inf)")),
    (Adam, {"amsgrad": None}, TypeError, "`amsgrad` must be a bool. Received: amsgrad=None"),
    (Adam, {"epsilon_placement": "torch"}, ValueError, "`epsilon_placement` must be one of .*epsilon_placement='torch'"),
    (AdamW, {"weight_decay": None}, ValueError, "`weight_decay` must be a float for AdamW. Received: weight_decay=None"),
    (AdamW, {"weight_decay": -0.1}, ValueError, _interval("weight_decay", -0.1, "[0.0, inf)")),
    (Adagrad, {"initial_accumulator_value": -0.1}, ValueError,
     _interval("initial_accumulator_value", -0.1, "[0.0, inf)")),
    (Adagrad, {"epsilon_placement": "x"}, ValueError, "`epsilon_placement` must be one of"),
    (Adadelta, {"rho": 1.5}, ValueError, _interval("rho", 1.5, "[0.0, 1.0)")),
    (Adadelta, {"epsilon": -1.0}, ValueError, _interval("epsilon", -1.0, "[0.0, inf)")),
    (Adamax, {"beta_1": 1.0}, ValueError, _interval("beta_1", 1.0, "[0.0, 1.0)")),
    (Adamax, {"beta_2": 2.0}, ValueError, _interval("beta_2", 2.0, "[0.0, 1.0)")),
    (Nadam, {"beta_1": -0.1}, ValueError, _interval("beta_1", -0.1, "[0.0, 1.0)")),
    (Nadam, {"beta_2": 1.0}, ValueError, _interval("beta_2", 1.0, "[0.0, 1.0)")),
    (Rprop, {"variant": "rprop"}, ValueError, "`variant` must be one of .*variant='rprop'"),
    (Rprop, {"eta_minus": 1.0}, ValueError, _interval("eta_minus", 1.0, "(0.0, 1.0)")),
    (Rprop, {"eta_minus": 0.0}, ValueError, _interval("eta_minus", 0.0, "(0.0, 1.0)")),
    (Rprop, {"eta_plus": 1.0}, ValueError, _interval("eta_plus", 1.0, "(1.0, inf)")),
    (Rprop, {"min_step": -1.0}, ValueError, _interval("min_step", -1.0, "[0.0, inf)")),
    (Rprop, {"max_step": 0.0}, ValueError, _interval("max_step", 0.0, "(0.0, inf)")),
    (Rprop, {"min_step": 2.0, "max_step": 1.0}, ValueError,
     re.escape("`min_step` must not exceed `max_step`. Received: min_step=2.0, max_step=1.0")),
    (Rprop, {"learning_rate": 100.0}, ValueError,
     re.escape("`learning_rate` (the initial step size) must lie in [min_step, max_step]")),
    (Rprop, {"learning_rate": schedules.ExponentialDecay(0.1, 10, 0.5)}, TypeError,
     "Rprop's `learning_rate` is the initial step size"),
    (Quickprop, {"max_growth": 0.0}, ValueError, _interval("max_growth", 0.0, "(0.0, inf)")),
    (Quickprop, {"decay": -1e-4}, ValueError, _interval("decay", -1e-4, "[0.0, inf)")),
    (Quickprop, {"learning_rate": -0.1}, ValueError, _interval("learning_rate", -0.1, "(0.0, inf)")),
]


@pytest.mark.parametrize("cls, kwargs, error, match", BAD,
                         ids=[f"{b[0].__name__}-{'-'.join(b[1])}" for b in BAD])
def test_bad_hyper_parameter_raises(cls, kwargs, error, match):
    with pytest.raises(error, match=match):
        cls(**kwargs)


# ---- (e) convergence -------------------------------------------------------------------------
CURVATURE = np.array([1.0, 4.0, 10.0])
CENTRE = np.array([1.0, -2.0, 0.5])


def quadratic(w):
    return 0.5 * np.sum(CURVATURE * (w - CENTRE) ** 2), CURVATURE * (w - CENTRE)


def rosenbrock(w):
    x, y = w
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2, np.array([-2 * (1 - x) - 400 * x * (y - x * x),
                                                             200 * (y - x * x)])


def minimise(opt, f, w0, steps):
    params = {"w": np.array(w0, dtype=np.float64)}
    for _ in range(steps):
        loss, grad = f(params["w"])
        opt.apply(params, {"w": grad}, loss=loss)
    return params["w"]


# (id, quadratic optimizer, Rosenbrock optimizer, Rosenbrock steps)
CONVERGENCE = [
    ("sgd", lambda: SGD(0.1), lambda: SGD(0.001, momentum=0.9), 5000),
    ("sgd-ema", lambda: SGD(0.1, momentum=0.9, momentum_form="ema"),
     lambda: SGD(0.01, momentum=0.9, momentum_form="ema"), 5000),
    ("sgd-nesterov", lambda: SGD(0.05, momentum=0.9, nesterov=True),
     lambda: SGD(0.001, momentum=0.9, nesterov=True), 5000),
    ("rmsprop", lambda: RMSprop(0.01), lambda: RMSprop(0.001), 5000),
    ("rmsprop-centered", lambda: RMSprop(0.01, centered=True, epsilon_placement="outside_sqrt"),
     lambda: RMSprop(0.001, centered=True, momentum=0.5), 5000),
    ("adam", lambda: Adam(0.1), lambda: Adam(0.02), 5000),
    ("adam-amsgrad-textbook", lambda: Adam(0.1, amsgrad=True, epsilon_placement="sqrt_v_hat"),
     lambda: Adam(0.02, amsgrad=True), 5000),
    ("adamw", lambda: AdamW(0.1, weight_decay=1e-6), lambda: AdamW(0.02, weight_decay=1e-6), 5000),
    ("adagrad", lambda: Adagrad(0.5), lambda: Adagrad(0.5), 5000),
    # Adadelta crawls along Rosenbrock's valley; these settings get there in 10k steps
    ("adadelta", lambda: Adadelta(1.0, epsilon=1e-4), lambda: Adadelta(0.5, rho=0.9, epsilon=1e-8), 10000),
    ("adamax", lambda: Adamax(0.1), lambda: Adamax(0.02), 5000),
    ("nadam", lambda: Nadam(0.1), lambda: Nadam(0.02), 5000),
    ("rprop+", lambda: Rprop(), lambda: Rprop(), 5000),
    ("rprop-", lambda: Rprop("rprop-"), lambda: Rprop("rprop-"), 5000),
    ("irprop+", lambda: Rprop("irprop+"), lambda: Rprop("irprop+"), 5000),
    ("irprop-", lambda: Rprop("irprop-"), lambda: Rprop("irprop-"), 5000),
    ("quickprop", lambda: Quickprop(0.05), lambda: Quickprop(0.001), 5000),
]


@pytest.mark.parametrize("conv_id, quad_opt, rosen_opt, rosen_steps", CONVERGENCE,
                         ids=[c[0] for c in CONVERGENCE])
def test_converges_on_a_quadratic_and_on_rosenbrock(conv_id, quad_opt, rosen_opt, rosen_steps):
    w = minimise(quad_opt(), quadratic, [0.0, 0.0, 0.0], 500)
    assert quadratic(w)[0] < 1e-8, (conv_id, w)
    w = minimise(rosen_opt(), rosenbrock, [-1.2, 1.0], rosen_steps)  # f = 24.2 at the start
    assert np.linalg.norm(w - 1.0) < 0.05 and rosenbrock(w)[0] < 1e-2, (conv_id, w)

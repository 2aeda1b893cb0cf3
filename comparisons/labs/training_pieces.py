"""The checks of the training pieces: the losses ``MeanSquaredError`` and ``CategoricalCrossentropy``
(from logits), and the optimizers ``SGD`` (momentum as a moving average) and ``Adam``.

A loss's ``gradient`` is compared with central finite differences of the student's own ``value``
(float64, h = 1e-6), with refnn (``refnn.losses``) and with Keras (``tf.GradientTape`` on
``keras.losses``). An optimizer takes ``STEPS`` steps on a kernel and a bias from fixed random
gradients; its steps ``W_{t−1} − W_t`` are compared with refnn's textbook presets
(``optimizers.get(name, convention="textbook")``) and with Keras's own optimizers:

* SGD: Keras keeps the velocity ``m ← μm − lr'·g; W ← W + m``; with ``lr' = lr·(1 − μ)`` it takes
  exactly the steps of the moving average ``V ← μV + (1 − μ)g; W ← W − lr·V`` (``m = −lr·V``).
* Adam: Keras adds ε to √v, Algorithm 1 to √v̂; the Keras column runs the student's Adam a second
  time with ε = 0, where the two placements are the same formula.

Keras in float64 rounds μ, β₁ and β₂ through float32 (``docs/keras-numerics.md``); the lab's
values are the float32 numbers nearest 0.9 and 0.999, so every side computes with the same ones.
"""

from __future__ import annotations

import numpy as np

from comparisons.labs.layer_pieces import STEP
from comparisons.labs.rows import Mistake, Row, StudentError, as_array, attempt, call_method, thresholds
from refnn import losses, optimizers
from refnn.utils.gradcheck import numerical_gradient

__all__ = ["STEPS", "HYPER_PARAMETERS", "loss_rows", "optimizer_rows", "steps_taken"]

LOSS_SHAPE = (5, 3)
STEPS = 5
MOMENTUM, BETA_1, BETA_2 = (float(np.float32(value)) for value in (0.9, 0.9, 0.999))
#: the constructor arguments the checker gives each optimizer
HYPER_PARAMETERS = {
    "SGD": {"learning_rate": 0.01, "momentum": MOMENTUM},
    "Adam": {"learning_rate": 0.001, "beta_1": BETA_1, "beta_2": BETA_2, "epsilon": 1e-8},
}


def loss_rows(cls, seed: int, keras: bool) -> list[Row]:
    """The value and the gradient of ``cls()`` at random targets and predictions (logits for the
    crossentropy, one-hot targets)."""
    piece = cls.__name__
    rng = np.random.default_rng(seed)
    n, d = LOSS_SHAPE
    if piece == "MeanSquaredError":
        y_true, y_pred = rng.standard_normal(LOSS_SHAPE), rng.standard_normal(LOSS_SHAPE)
        reference, keras_name, quantity = losses.MeanSquaredError(), "mse", "gradient ∂L/∂ŷ"
        mistakes = (Mistake(2 * (y_pred - y_true) / n, "divides by N only: the mean runs over all N·D entries, "
                                                       "∂L/∂ŷ = 2(ŷ − y)/(N·D)"),)
    else:
        y_true, y_pred = np.eye(d)[rng.integers(0, d, n)], 2.0 * rng.standard_normal(LOSS_SHAPE)
        reference, keras_name, quantity = losses.CategoricalCrossentropy(from_logits=True), "cce", "gradient ∂L/∂Z"
        softmax = np.exp(y_pred) / np.exp(y_pred).sum(axis=1, keepdims=True)
        mistakes = (Mistake(softmax - y_true, "misses the 1/N of the batch mean: ∂L/∂Z = (softmax(Z) − y)/N"),)
    value, gradient = reference.value_and_gradient(y_true, y_pred)
    references = {"value": {"refnn": np.asarray(value)}, "gradient": {"refnn": gradient}}
    mine = _student_loss(cls, piece, y_true, y_pred)
    if not isinstance(mine["value"], StudentError):
        pred = y_pred.copy()
        try:
            references["gradient"]["finite differences"] = numerical_gradient(
                lambda: float(cls().value(y_true, pred)), pred, STEP)
        except Exception:  # noqa: BLE001 — a value that is not a scalar fails its own row
            pass
    if keras:
        from comparisons.labs import keras_side

        for name, array in keras_side.loss(keras_name, y_true, y_pred).items():
            references[name]["Keras"] = array
    return [Row(piece, "loss value L", mine["value"], references["value"], thresholds("forward", references["value"])),
            Row(piece, quantity, mine["gradient"], references["gradient"],
                thresholds("gradients", references["gradient"]), mistakes)]


def _student_loss(cls, piece: str, y_true, y_pred) -> dict:
    loss = attempt(piece, "__init__", cls)
    if isinstance(loss, StudentError):
        return {"value": loss, "gradient": loss}
    return {name: as_array(f"{piece}.{name}", name, call_method(piece, loss, name, y_true.copy(), y_pred.copy()))
            for name in ("value", "gradient")}


def steps_taken(step, params: dict, grads: list[dict]) -> dict:
    """Run ``step(params, grads_t)`` for every t on a copy of ``params``:
    ``{path: (T, *shape) array of the steps W_{t−1} − W_t}``."""
    current = {path: np.array(value) for path, value in params.items()}
    taken = {path: [] for path in params}
    for grad in grads:
        before = {path: np.array(value, dtype=np.float64) for path, value in current.items()}
        step(current, {path: g.copy() for path, g in grad.items()})
        for path in params:
            taken[path].append(before[path] - np.asarray(current[path], dtype=np.float64))
    return {path: np.stack(value) for path, value in taken.items()}


def optimizer_rows(cls, seed: int, keras: bool) -> list[Row]:
    """The first step and all ``STEPS`` steps of ``cls(**HYPER_PARAMETERS[name])`` on a kernel and a bias."""
    piece = cls.__name__
    hyper = HYPER_PARAMETERS[piece]
    rng = np.random.default_rng(seed)
    params = {"kernel": rng.standard_normal((4, 3)), "bias": rng.standard_normal(3)}
    grads = [{path: rng.standard_normal(p.shape) for path, p in params.items()} for _ in range(STEPS)]
    mine = _student_steps(cls, piece, hyper, params, grads)
    references = {"refnn": steps_taken(optimizers.get(piece.lower(), convention="textbook", **hyper).apply,
                                       params, grads)}
    mine_for = {}
    if keras:
        from comparisons.labs import keras_side

        if piece == "SGD":
            references["Keras"] = keras_side.sgd_steps(params, grads, hyper["learning_rate"], MOMENTUM)
        else:
            references["Keras"] = keras_side.adam_steps(params, grads, hyper["learning_rate"], BETA_1, BETA_2)
            mine_for["Keras"] = _student_steps(cls, piece, {**hyper, "epsilon": 0.0}, params, grads)
    known = _optimizer_mistakes(piece, hyper, params, grads)
    rows = []
    for path, symbol in (("kernel", "ΔW"), ("bias", "ΔB")):
        # all the steps first: at t = 1 some wrong rules coincide (plain SGD and the velocity form)
        for which, label in ((slice(None), f"{path} steps {symbol} (t = 1…{STEPS})"),
                             (0, f"{path} step {symbol} (t = 1)")):
            pick = {name: _pick(value, path, which) for name, value in references.items()}
            rows.append(Row(piece, label, _pick(mine, path, which), pick, thresholds("optimizer", pick),
                            tuple(Mistake(steps[path][which], text) for steps, text in known),
                            {name: _pick(value, path, which) for name, value in mine_for.items()}))
    return rows


def _pick(steps, path: str, which):
    return steps if isinstance(steps, StudentError) else steps[path][which]


def _student_steps(cls, piece: str, hyper: dict, params: dict, grads: list[dict]):
    optimizer = attempt(piece, "__init__", lambda: cls(**hyper))
    if isinstance(optimizer, StudentError):
        return optimizer
    if not callable(getattr(optimizer, "step", None)):
        return StudentError("error", f"{piece} has no method step()")
    return attempt(piece, "step", steps_taken, optimizer.step, params, grads)


def _optimizer_mistakes(piece: str, hyper: dict, params: dict, grads: list[dict]) -> list[tuple[dict, str]]:
    """``[(steps, description)]`` of the classic wrong versions of the rule."""
    if piece == "SGD":
        lr, mu = hyper["learning_rate"], hyper["momentum"]
        return [(steps_taken(optimizers.SGD(lr, momentum=mu).apply, params, grads),
                 "accumulates V ← μV + g (Keras's velocity form): without the (1 − μ) of the moving average "
                 f"V ← μV + (1 − μ)g every step is 1/(1 − μ) = {1 / (1 - mu):.4g}× too large"),
                (steps_taken(optimizers.SGD(lr).apply, params, grads),
                 "ignores the momentum: these are plain W ← W − lr·g steps")]
    keras_placement = optimizers.Adam(**hyper, epsilon_placement="sqrt_v")
    return [(steps_taken(_UncorrectedAdam(**hyper, correct_m=False, correct_v=False).step, params, grads),
             "is missing the bias correction: Adam divides m by 1 − β₁ᵗ and v by 1 − β₂ᵗ before the step"),
            (steps_taken(_UncorrectedAdam(**hyper, correct_m=False, correct_v=True).step, params, grads),
             "is missing the bias correction of m: m̂ = m/(1 − β₁ᵗ)"),
            (steps_taken(_UncorrectedAdam(**hyper, correct_m=True, correct_v=False).step, params, grads),
             "is missing the bias correction of v: v̂ = v/(1 − β₂ᵗ)"),
            (steps_taken(keras_placement.apply, params, grads),
             "adds ε to √v (Keras's placement), where Algorithm 1 adds it to √v̂ = √(v/(1 − β₂ᵗ))")]


class _UncorrectedAdam:
    """Adam with the bias correction of ``m`` and/or ``v`` left out — the wrong answers the
    diagnosis recognises: ``W ← W − lr·m'/(√v' + ε)`` with ``m' = m`` or ``m̂``, ``v' = v`` or ``v̂``."""

    def __init__(self, learning_rate, beta_1, beta_2, epsilon, correct_m, correct_v):
        self.lr, self.beta_1, self.beta_2, self.epsilon = learning_rate, beta_1, beta_2, epsilon
        self.correct_m, self.correct_v = correct_m, correct_v
        self.t, self.moments = 0, {}

    def step(self, params: dict, grads: dict) -> None:
        self.t += 1
        for path, g in grads.items():
            m, v = self.moments.setdefault(path, (np.zeros_like(g), np.zeros_like(g)))
            m[...] = self.beta_1 * m + (1 - self.beta_1) * g
            v[...] = self.beta_2 * v + (1 - self.beta_2) * g * g
            m_used = m / (1 - self.beta_1**self.t) if self.correct_m else m
            v_used = v / (1 - self.beta_2**self.t) if self.correct_v else v
            params[path] -= self.lr * m_used / (np.sqrt(v_used) + self.epsilon)

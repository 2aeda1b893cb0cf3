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
from comparisons.labs.rows import (LOW_PRECISION, Mistake, Row, StudentError, as_array, attempt, call_method,
                                   shape_readings, source_of, thresholds)
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
        mistakes = _crossentropy_mistakes(y_true, y_pred)
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
    forward = getattr(mine["value"], "dtype", np.dtype(np.float64)).name
    return [Row(piece, "loss value L", mine["value"], references["value"], thresholds("forward", references["value"])),
            Row(piece, quantity, mine["gradient"], references["gradient"],
                thresholds("gradients", references["gradient"]), mistakes,
                readings=shape_readings(n, d, square=piece == "MeanSquaredError"),
                forward_precision=forward if forward in LOW_PRECISION else "")]


def _crossentropy_mistakes(y_true, logits) -> tuple:
    """The crossentropy's gradient without the 1/N, and the gradient with respect to the probabilities."""
    n = len(logits)
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    chain = "chain it through the softmax: ∂L/∂Z = (softmax(Z) − y)/N"
    return (Mistake(softmax - y_true, "misses the 1/N of the batch mean: ∂L/∂Z = (softmax(Z) − y)/N"),
            Mistake(-y_true / softmax / n, f"is ∂L/∂A = −y/(N·A), the gradient with respect to the probabilities "
                                           f"A = softmax(Z); {chain}"),
            Mistake(-y_true / softmax, f"is −y/A, the gradient with respect to the probabilities A = softmax(Z) "
                                       f"(and without the 1/N of the batch mean); {chain}"))


def _student_loss(cls, piece: str, y_true, y_pred) -> dict:
    source = source_of(cls)
    loss = attempt(piece, "__init__", cls, source=source, calls=f"{piece}()")
    if isinstance(loss, StudentError):
        return {"value": loss, "gradient": loss}
    second = "y_pred" if piece == "MeanSquaredError" else "logits"
    return {name: as_array(f"{piece}.{name}", name,
                           call_method(piece, loss, name, y_true.copy(), y_pred.copy(), source=source,
                                       calls=f"loss.{name}(y_true, {second})"))
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
    # parameters the step turned into float32 (or float16) keep that dtype, for the row to name it
    dtypes = {path: np.asarray(value).dtype for path, value in current.items()}
    return {path: np.stack(value).astype(dtypes[path] if dtypes[path].name in LOW_PRECISION else np.float64)
            for path, value in taken.items()}


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
    source = source_of(cls)
    calls = f"{piece}({', '.join(f'{name}=...' for name in hyper)})"
    optimizer = attempt(piece, "__init__", lambda: cls(**hyper), source=source, calls=calls)
    if isinstance(optimizer, StudentError):
        return optimizer
    if not callable(getattr(optimizer, "step", None)):
        return StudentError("error", f"{piece} has no method step()")
    return attempt(piece, "step", steps_taken, optimizer.step, params, grads, source=source,
                   calls="optimizer.step(params, grads), two dicts {'kernel': array, 'bias': array}")


def _optimizer_mistakes(piece: str, hyper: dict, params: dict, grads: list[dict]) -> list[tuple[dict, str]]:
    """``[(steps, description)]`` of the classic wrong versions of the rule."""
    if piece == "SGD":
        return _sgd_mistakes(hyper, params, grads)
    return _adam_mistakes(hyper, params, grads)


def _hard_coded(*names: tuple[str, float, float]) -> str:
    """The description of nominal constants written in the code: ``(parameter, nominal, passed)``."""
    literals = " and ".join(f"{nominal:g}" for _, nominal, _ in names)
    parameters = " and ".join(name for name, _, _ in names)
    passed = " and ".join(f"float32({nominal:g}) = {value:.10f}" for _, nominal, value in names)
    return (f"uses {literals} written in the code instead of the constructor's {parameters} — the checker passes "
            f"{passed} as Keras does")


def _sgd_mistakes(hyper: dict, params: dict, grads: list[dict]) -> list[tuple[dict, str]]:
    lr, mu = hyper["learning_rate"], hyper["momentum"]
    started = {path: np.stack([lr * v for v in _moving_average_from_g(mu, [g[path] for g in grads])])
               for path in params}
    return [(steps_taken(optimizers.SGD(lr, momentum=mu).apply, params, grads),
             "accumulates V ← μV + g (Keras's velocity form): without the (1 − μ) of the moving average "
             f"V ← μV + (1 − μ)g every step is 1/(1 − μ) = {1 / (1 - mu):.4g}× too large"),
            (steps_taken(optimizers.SGD(lr).apply, params, grads),
             "ignores the momentum: these are plain W ← W − lr·g steps"),
            (steps_taken(optimizers.get("sgd", convention="textbook", learning_rate=lr, momentum=0.9).apply,
                         params, grads), _hard_coded(("momentum", 0.9, mu))),
            (started, "starts the moving average at V₁ = g: from V₀ = 0 the first step is V₁ = (1 − μ)g, "
                      "then V ← μV + (1 − μ)g")]


def _moving_average_from_g(mu: float, gradients: list[np.ndarray]) -> list[np.ndarray]:
    """``V₁ = g₁``, then ``V ← μV + (1 − μ)g``: the moving average started at the first gradient."""
    averages = [gradients[0]]
    for g in gradients[1:]:
        averages.append(mu * averages[-1] + (1 - mu) * g)
    return averages


def _adam_mistakes(hyper: dict, params: dict, grads: list[dict]) -> list[tuple[dict, str]]:
    def variant(**change):
        return steps_taken(_VariantAdam(**{**hyper, **change}).step, params, grads)

    keras_placement = optimizers.Adam(**hyper, epsilon_placement="sqrt_v")
    beta_1, beta_2 = ("beta_1", 0.9, hyper["beta_1"]), ("beta_2", 0.999, hyper["beta_2"])
    return [(variant(correct_m=False, correct_v=False),
             "is missing the bias correction: Adam divides m by 1 − β₁ᵗ and v by 1 − β₂ᵗ before the step"),
            (variant(correct_m=False), "is missing the bias correction of m: m̂ = m/(1 − β₁ᵗ)"),
            (variant(correct_v=False), "is missing the bias correction of v: v̂ = v/(1 − β₂ᵗ)"),
            (steps_taken(keras_placement.apply, params, grads),
             "adds ε to √v (Keras's placement), where Algorithm 1 adds it to √v̂ = √(v/(1 − β₂ᵗ))"),
            (variant(epsilon_in_root=True), "adds ε inside the root, √(v̂ + ε), where Algorithm 1 adds it to "
                                            "the root: lr·m̂/(√v̂ + ε)"),
            (variant(t_per_key=True), "increments t once per parameter (kernel, then bias, ...): t counts the "
                                      "steps, self.t += 1 once per step() before the loop over the keys"),
            (variant(beta_1=0.9, beta_2=0.999), _hard_coded(beta_1, beta_2)),
            (variant(beta_1=0.9), _hard_coded(beta_1)),
            (variant(beta_2=0.999), _hard_coded(beta_2))]


class _VariantAdam:
    """Adam with one of the classic slips — the wrong answers the diagnosis recognises:
    ``W ← W − lr·m'/(√v' + ε)`` with ``m' = m`` or ``m̂``, ``v' = v`` or ``v̂`` (a bias correction
    left out), ε inside the root (``√(v' + ε)``), or ``t`` counted once per parameter."""

    def __init__(self, learning_rate, beta_1, beta_2, epsilon, correct_m=True, correct_v=True,
                 epsilon_in_root=False, t_per_key=False):
        self.lr, self.beta_1, self.beta_2, self.epsilon = learning_rate, beta_1, beta_2, epsilon
        self.correct_m, self.correct_v = correct_m, correct_v
        self.epsilon_in_root, self.t_per_key = epsilon_in_root, t_per_key
        self.t, self.moments = 0, {}

    def step(self, params: dict, grads: dict) -> None:
        self.t += 0 if self.t_per_key else 1
        for path, g in grads.items():
            self.t += 1 if self.t_per_key else 0
            m, v = self.moments.setdefault(path, (np.zeros_like(g), np.zeros_like(g)))
            m[...] = self.beta_1 * m + (1 - self.beta_1) * g
            v[...] = self.beta_2 * v + (1 - self.beta_2) * g * g
            m_used = m / (1 - self.beta_1**self.t) if self.correct_m else m
            v_used = v / (1 - self.beta_2**self.t) if self.correct_v else v
            root = np.sqrt(v_used + self.epsilon) if self.epsilon_in_root else np.sqrt(v_used) + self.epsilon
            params[path] -= self.lr * m_used / root

"""Learning-rate schedules, Keras's step convention.

A schedule is called with ``step = optimizer.iterations`` *before* the update, so the first
update uses ``schedule(0)`` (Keras: ``learning_rate(self._iterations)``).

``schedule(step, dtype=np.float64)`` evaluates the formula in ``dtype``: float64 is the exact
formula; float32 is what Keras computes inside ``fit``. Keras evaluates its schedules in the dtype
of ``initial_learning_rate`` as a tensor, which for a Python float is **float32 even in float64
mode**; an optimizer with ``keras_float32_constants=True`` therefore asks for ``dtype=np.float32``.
Every elementary operation is then a float32 operation, and ``pow``/``cos`` are computed in float64
and rounded once to float32.

**A division by a constant inside ``fit``.** ``fit`` runs the optimizer, schedule included, in a
compiled ``tf.function``, and TensorFlow's graph optimizer replaces ``step / decay_steps`` by
``step × float32(1/decay_steps)``, which rounds differently. With ``staircase=True`` the floor then
lands one step short whenever ``k·decay_steps × float32(1/decay_steps) < k``: for 135 of the
``decay_steps`` 1…1000 (41, 47, 55, …) Keras's ``fit`` takes its first decay one step late, and
some later ones too (for 41: at steps 41, 82, 164, 287 and 328 of the first ten);
``PolynomialDecay(cycle=True)``'s ``ceil`` jumps a cycle early likewise (134 of 1…1000 within
the first ten cycles, 160 within fifty). The
float32 evaluation here does the same (measured bit for bit against a compiled Keras schedule:
ExponentialDecay, InverseTimeDecay, PolynomialDecay and CosineDecay, where TensorFlow also folds
a constant factor — π, InverseTimeDecay's rate — into the reciprocal; not inside CosineDecay's
warm-up ``cond``, whose branches it leaves as written). Run step by step (eagerly), Keras
divides exactly; the bridge compares with Keras compiled, the way ``fit`` runs it.

Two float32 differences remain, one ulp of the learning rate at rare steps: TensorFlow's scalar
float32 ``pow`` and ``cos`` are not always correctly rounded (measured: ~0.2 % of
ExponentialDecay's values, ~0.4 % of CosineDecay's); and compiled TensorFlow flushes subnormal
results to 0 (a learning rate below 1.2e-38).

Names, arguments, defaults and ``get_config`` keys are Keras's, so a config moves between the two.
"""

from __future__ import annotations

import math

import numpy as np

from refnn.utils import scalars
from refnn.utils.validation import check_bool, check_float, check_no_unknown_kwargs

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "InverseTimeDecay",
    "PolynomialDecay",
    "CosineDecay",
    "serialize",
    "deserialize",
]


def _divide_by_constant(numerator, constant):
    """``numerator / constant``; in float32 — Keras inside ``fit`` — as TensorFlow's graph
    optimizer rewrites it: ``numerator × float32(1/constant)`` (see the module docstring)."""
    if type(numerator) is np.float32:
        return numerator * (np.float32(1.0) / np.float32(constant))
    return numerator / constant


def _check_steps(name: str, value, positive: bool = True):
    """A number of steps (Keras accepts any positive number); returned unchanged, so an int stays
    an int in ``get_config``."""
    check_float(name, value, low=0.0, low_inclusive=not positive)
    return value


class LearningRateSchedule:
    """Base class: ``schedule(step, dtype=np.float64) -> learning rate`` plus ``get_config``."""

    def __call__(self, step: int, dtype=np.float64) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class _DecayOverSteps(LearningRateSchedule):
    """Shared by the schedules that decay ``lr₀`` with ``p = step / decay_steps`` (floored if
    ``staircase``): they differ only in the formula of ``p``."""

    #: whether ``decay_rate = 0`` (no decay) is allowed
    _rate_may_be_zero = False

    def __init__(self, initial_learning_rate: float, decay_steps, decay_rate: float,
                 staircase: bool = False, name: str | None = None, **kwargs):
        check_no_unknown_kwargs(type(self).__name__, kwargs)
        self.initial_learning_rate = check_float(
            "initial_learning_rate", initial_learning_rate, low=0.0, low_inclusive=False)
        self.decay_steps = _check_steps("decay_steps", decay_steps)
        self.decay_rate = check_float("decay_rate", decay_rate, low=0.0, low_inclusive=self._rate_may_be_zero)
        self.staircase = check_bool("staircase", staircase)
        self.name = type(self).__name__ if name is None else name

    def _progress(self, step, f):
        p = _divide_by_constant(f(step), f(self.decay_steps))
        return np.floor(p) if self.staircase else p

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_DecayOverSteps):
    """``lr(step) = lr₀ · rate^(step / decay_steps)``; with ``staircase`` the exponent is floored.

    Args:
        initial_learning_rate: ``lr₀ > 0``.
        decay_steps: positive number of steps per factor ``decay_rate``.
        decay_rate: ``rate > 0``.
        staircase: floor ``step / decay_steps`` (a step function).
    """

    def __call__(self, step, dtype=np.float64) -> float:
        f = np.dtype(dtype).type
        return float(f(self.initial_learning_rate) * scalars.power(f(self.decay_rate), self._progress(step, f)))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` for ``step ≤ boundaries[0]``, ``values[i]`` for
    ``boundaries[i−1] < step ≤ boundaries[i]``, ``values[−1]`` for ``step > boundaries[−1]``.

    Args:
        boundaries: increasing step boundaries.
        values: one more value than boundaries, each ``> 0``.
    """

    def __init__(self, boundaries, values, name: str = "PiecewiseConstant", **kwargs):
        check_no_unknown_kwargs(type(self).__name__, kwargs)
        boundaries = list(boundaries)
        values = list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of `boundaries` must be 1 less than the length of `values`. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, values={values} of length "
                f"{len(values)}"
            )
        for i, b in enumerate(boundaries):
            check_float(f"boundaries[{i}]", b)
        if any(b1 <= b0 for b0, b1 in zip(boundaries, boundaries[1:])):
            raise ValueError(f"`boundaries` must be strictly increasing. Received: boundaries={boundaries}")
        for i, v in enumerate(values):
            check_float(f"values[{i}]", v, low=0.0, low_inclusive=False)
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step, dtype=np.float64) -> float:
        i = int(np.searchsorted(self.boundaries, step, side="left"))  # first b with step ≤ b
        return float(np.dtype(dtype).type(self.values[i]))

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(_DecayOverSteps):
    """``lr(step) = lr₀ / (1 + rate · step / decay_steps)`` (ratio floored if ``staircase``)."""

    _rate_may_be_zero = True

    def __call__(self, step, dtype=np.float64) -> float:
        f = np.dtype(dtype).type
        if f is np.float32 and not self.staircase:
            # inside fit TensorFlow folds rate·(step·float32(1/decay_steps)) into (rate·float32(1/decay_steps))·step
            decay = (f(self.decay_rate) * (f(1.0) / f(self.decay_steps))) * f(step)
        else:
            decay = f(self.decay_rate) * self._progress(step, f)
        return float(f(self.initial_learning_rate) / (f(1.0) + decay))


class PolynomialDecay(LearningRateSchedule):
    """``lr(step) = (lr₀ − end)·(1 − s/horizon)^power + end`` with ``s = min(step, decay_steps)``,
    ``horizon = decay_steps``; with ``cycle`` ``s = step`` and ``horizon = decay_steps·⌈step /
    decay_steps⌉`` (1·decay_steps at step 0)."""

    def __init__(self, initial_learning_rate: float, decay_steps, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str = "PolynomialDecay", **kwargs):
        check_no_unknown_kwargs(type(self).__name__, kwargs)
        self.initial_learning_rate = check_float(
            "initial_learning_rate", initial_learning_rate, low=0.0, low_inclusive=False)
        self.decay_steps = _check_steps("decay_steps", decay_steps)
        self.end_learning_rate = check_float("end_learning_rate", end_learning_rate, low=0.0)
        self.power = check_float("power", power, low=0.0)
        self.cycle = check_bool("cycle", cycle)
        self.name = name

    def __call__(self, step, dtype=np.float64) -> float:
        f = np.dtype(dtype).type
        s = f(step)
        horizon = f(self.decay_steps)
        if self.cycle:
            horizon = horizon * (f(1.0) if s == 0 else np.ceil(_divide_by_constant(s, f(self.decay_steps))))
            p = s / horizon  # a varying horizon: a true division
        else:
            p = _divide_by_constant(min(s, horizon), horizon)
        end = f(self.end_learning_rate)
        return float((f(self.initial_learning_rate) - end) * scalars.power(f(1.0) - p, f(self.power)) + end)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter), with an optional linear warm-up:

    ``lr(step) = lr_from · ((1 − α)·½(1 + cos(π·s/decay_steps)) + α)``, ``s = min(step,
    decay_steps)`` and ``lr_from = lr₀``. With ``warmup_target``: for ``step < warmup_steps``
    ``lr = lr₀ + (warmup_target − lr₀)·step/warmup_steps``, after it the cosine runs from
    ``lr_from = warmup_target`` with ``s = min(step − warmup_steps, decay_steps)``.
    """

    def __init__(self, initial_learning_rate: float, decay_steps, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps=0, **kwargs):
        check_no_unknown_kwargs(type(self).__name__, kwargs)
        self.initial_learning_rate = check_float("initial_learning_rate", initial_learning_rate, low=0.0)
        self.decay_steps = _check_steps("decay_steps", decay_steps)
        self.alpha = check_float("alpha", alpha, low=0.0, high=1.0)
        self.warmup_target = (None if warmup_target is None
                              else check_float("warmup_target", warmup_target, low=0.0))
        self.warmup_steps = _check_steps("warmup_steps", warmup_steps, positive=False)
        self.name = name

    def _decay(self, f, s, lr_from, compiled: bool):
        if compiled and f is np.float32:
            # inside fit TensorFlow rewrites π·(s / decay_steps) as (π·float32(1/decay_steps))·s
            angle = (f(math.pi) * (f(1.0) / f(self.decay_steps))) * s
        else:
            angle = f(math.pi) * (s / f(self.decay_steps))
        decayed = f(0.5) * (f(1.0) + scalars.cosine(angle))
        return lr_from * (f(1.0 - self.alpha) * decayed + f(self.alpha))

    def __call__(self, step, dtype=np.float64) -> float:
        f = np.dtype(dtype).type
        lr0 = f(self.initial_learning_rate)
        decay_steps = f(self.decay_steps)
        s = f(step)
        if self.warmup_target is None:
            return float(self._decay(f, min(s, decay_steps), lr0, compiled=True))
        warmup_steps = f(self.warmup_steps)
        target = f(self.warmup_target)
        s = min(s, decay_steps + warmup_steps)
        # TensorFlow leaves the divisions inside the branches of Keras's warm-up cond as written
        if s < warmup_steps:
            return float((target - lr0) * (s / warmup_steps) + lr0)
        return float(self._decay(f, s - warmup_steps, target, compiled=False))

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


def _registry() -> dict:
    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    return {cls.__name__: cls for cls in walk(LearningRateSchedule)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{"class_name": ..., "config": ...}``, Keras's layout."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict) -> LearningRateSchedule:
    classes = _registry()
    name = config.get("class_name")
    if name not in classes:
        raise ValueError(
            f"Unknown learning-rate schedule. `class_name` must be one of {sorted(classes)}. "
            f"Received: class_name={name!r}"
        )
    return classes[name].from_config(config["config"])

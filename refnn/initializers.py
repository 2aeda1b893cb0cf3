"""Weight initializers, Keras's formulas, every one seeded.

``fan_in``/``fan_out`` of a Dense kernel of shape ``(input_dim, units)`` are ``input_dim`` and
``units``.

================ ==========================================================================
GlorotUniform    ``U(−L, L)``, ``L = √(6 / (fan_in + fan_out))`` (Keras's default kernel init)
GlorotNormal     truncated ``N(0, σ)`` at ±2σ, ``σ = √(2 / (fan_in + fan_out)) / 0.8796…``
HeUniform        ``U(−L, L)``, ``L = √(6 / fan_in)``
HeNormal         truncated ``N(0, σ)`` at ±2σ, ``σ = √(2 / fan_in) / 0.8796…``
RandomUniform    ``U(minval, maxval)``, defaults ±0.05
RandomNormal     ``N(mean, stddev)``, defaults 0 and 0.05
Zeros, Ones      constants
================ ==========================================================================

The constant 0.87962566103423978 is the standard deviation of a unit normal truncated at ±2,
so the truncated draw has the intended variance (Keras's ``VarianceScaling``).

Keras draws with TensorFlow's stateless Philox generator, which NumPy cannot replicate: the
distributions match, the values do not. To get identical weights on both sides, copy them
(``keras_bridge`` or ``get_weights``/``set_weights``).

Seeding: ``initializer(shape, dtype, rng)`` draws from ``rng`` (the model's generator) unless the
initializer was built with its own ``seed``, in which case it uses a fresh generator from that seed
on every call — so, as in Keras, one seeded instance gives the same values to every layer.
"""

from __future__ import annotations

import numpy as np

from refnn.utils.validation import check_float, check_seed

__all__ = [
    "Initializer",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "RandomUniform",
    "RandomNormal",
    "Zeros",
    "Ones",
    "get",
]

_TRUNCATED_NORMAL_STD = 0.87962566103423978


def _fans(shape) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


def _truncated_normal(rng: np.random.Generator, shape, stddev: float) -> np.ndarray:
    """Normal draws re-drawn until they lie within two standard deviations."""
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2.0
    while np.any(bad):
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return out * stddev


class Initializer:
    """Base class. Subclasses implement ``_sample(shape, rng) -> float64 array``."""

    def __init__(self, seed: int | None = None):
        self.seed = check_seed("seed", seed)

    def __call__(self, shape, dtype="float64", rng: np.random.Generator | None = None) -> np.ndarray:
        if self.seed is not None:
            rng = np.random.default_rng(self.seed)
        elif rng is None:
            rng = np.random.default_rng()
        return np.asarray(self._sample(tuple(shape), rng), dtype=dtype)

    def _sample(self, shape, rng):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"seed": self.seed}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class GlorotUniform(Initializer):
    name = "glorot_uniform"

    def _sample(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        limit = np.sqrt(6.0 / max(1.0, fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)


class GlorotNormal(Initializer):
    name = "glorot_normal"

    def _sample(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        std = np.sqrt(2.0 / max(1.0, fan_in + fan_out)) / _TRUNCATED_NORMAL_STD
        return _truncated_normal(rng, shape, std)


class HeUniform(Initializer):
    name = "he_uniform"

    def _sample(self, shape, rng):
        limit = np.sqrt(6.0 / max(1, _fans(shape)[0]))
        return rng.uniform(-limit, limit, shape)


class HeNormal(Initializer):
    name = "he_normal"

    def _sample(self, shape, rng):
        std = np.sqrt(2.0 / max(1, _fans(shape)[0])) / _TRUNCATED_NORMAL_STD
        return _truncated_normal(rng, shape, std)


class RandomUniform(Initializer):
    name = "random_uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval = check_float("minval", minval)
        self.maxval = check_float("maxval", maxval)
        if self.maxval < self.minval:
            raise ValueError(
                f"`maxval` must be >= `minval`. Received: minval={minval!r}, maxval={maxval!r}"
            )

    def _sample(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    name = "random_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean = check_float("mean", mean)
        self.stddev = check_float("stddev", stddev, low=0.0)

    def _sample(self, shape, rng):
        return rng.normal(self.mean, self.stddev, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class Zeros(Initializer):
    name = "zeros"

    def __init__(self):
        super().__init__(None)

    def _sample(self, shape, rng):
        return np.zeros(shape)

    def get_config(self):
        return {}


class Ones(Zeros):
    name = "ones"

    def _sample(self, shape, rng):
        return np.ones(shape)


INITIALIZERS = {
    cls.name: cls
    for cls in (GlorotUniform, GlorotNormal, HeUniform, HeNormal, RandomUniform, RandomNormal, Zeros, Ones)
}


def get(identifier, argument: str = "initializer") -> Initializer:
    """Return an initializer from a name (``"glorot_uniform"``, ...) or an instance."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in INITIALIZERS:
        return INITIALIZERS[identifier.lower()]()
    raise ValueError(
        f"Unknown initializer. `{argument}` must be one of {sorted(INITIALIZERS)} or an "
        f"Initializer instance. Received: {argument}={identifier!r}"
    )

"""Weight initializers, Keras's formulas, every one seeded.

``fan_in``/``fan_out`` of a Dense kernel of shape ``(input_dim, units)`` are ``input_dim`` and
``units``.

================ ==========================================================================
VarianceScaling  variance ``scale / n``, ``n`` = fan_in, fan_out or their mean; truncated
                 normal, untruncated normal or uniform (the presets below are instances)
GlorotUniform    ``U(−L, L)``, ``L = √(6 / (fan_in + fan_out))`` (Keras's default kernel init)
GlorotNormal     truncated ``N(0, σ)`` at ±2σ, ``σ = √(2 / (fan_in + fan_out)) / 0.8796…``
HeUniform        ``U(−L, L)``, ``L = √(6 / fan_in)``
HeNormal         truncated ``N(0, σ)`` at ±2σ, ``σ = √(2 / fan_in) / 0.8796…``
LecunUniform     ``U(−L, L)``, ``L = √(3 / fan_in)``
LecunNormal      truncated ``N(0, σ)`` at ±2σ, ``σ = √(1 / fan_in) / 0.8796…``
Orthogonal       ``gain · Q``, ``Q`` from the QR factorisation of a normal matrix
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

from refnn.utils.unsupported import missing_name
from refnn.utils.validation import check_choice, check_float, check_seed

__all__ = [
    "Initializer",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Orthogonal",
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

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        """The initializer ``get_config`` describes."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class VarianceScaling(Initializer):
    """Keras's ``VarianceScaling``: draws with variance ``scale / n``.

    ``n`` is ``fan_in`` (``mode="fan_in"``), ``fan_out`` or ``(fan_in + fan_out) / 2`` (``"fan_avg"``),
    at least 1. ``distribution``:

    * ``"truncated_normal"`` (Keras's default; ``"normal"`` is accepted as its alias, as in Keras):
      ``N(0, σ)`` re-drawn outside ``±2σ``, ``σ = √(scale/n) / 0.87962566103423978`` — the constant is
      the standard deviation of a unit normal truncated at ±2, so the draws have variance ``scale/n``;
    * ``"untruncated_normal"``: ``N(0, √(scale/n))``;
    * ``"uniform"``: ``U(−L, L)``, ``L = √(3 · scale / n)``.

    Keras computes ``scale /= n`` then ``√(3 · scale)`` (two roundings); refnn ``√(3 · scale / n)``
    (one), which for the presets is bit-identical to their textbook forms (``√(6/(fan_in + fan_out))``).
    The ulp of difference is unobservable: Keras's values come from TensorFlow's generator anyway.
    """

    name = "variance_scaling"

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None):
        super().__init__(seed)
        self.scale = check_float("scale", scale, low=0.0, low_inclusive=False)
        self.mode = check_choice("mode", mode, ("fan_in", "fan_out", "fan_avg"))
        distribution = distribution.lower() if isinstance(distribution, str) else distribution
        distribution = "truncated_normal" if distribution == "normal" else distribution
        self.distribution = check_choice("distribution", distribution,
                                         ("truncated_normal", "untruncated_normal", "uniform"))

    def _fan(self, shape) -> float:
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        return max(1.0, fan)

    def _sample(self, shape, rng):
        fan = self._fan(shape)
        variance = self.scale / fan
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * self.scale / fan)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, np.sqrt(variance), shape)
        return _truncated_normal(rng, shape, np.sqrt(variance) / _TRUNCATED_NORMAL_STD)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class _Preset(VarianceScaling):
    """A named ``VarianceScaling`` whose only option is the seed (Keras's presets)."""

    preset: tuple[float, str, str] = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed: int | None = None):
        scale, mode, distribution = self.preset
        super().__init__(scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_Preset):
    name = "glorot_uniform"
    preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    name = "glorot_normal"
    preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    name = "he_uniform"
    preset = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    name = "he_normal"
    preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    name = "lecun_uniform"
    preset = (1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    name = "lecun_normal"
    preset = (1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """Keras's ``Orthogonal(gain)``: ``gain · Q`` from the QR factorisation of a normal matrix.

    The shape is flattened to ``rows × cols`` (``rows`` = product of all but the last dimension); a
    ``max × min`` matrix ``A ~ N(0, 1)`` is factorised ``A = QR`` (reduced), the columns of ``Q`` are
    multiplied by ``sign(diag R)`` so that ``Q`` is Haar-distributed (Mezzadri 2007; Keras does the
    same), and ``Q`` is transposed when ``rows < cols``. So ``WᵀW = gain² I`` (``rows ≥ cols``) or
    ``W Wᵀ = gain² I`` (``rows < cols``).
    """

    name = "orthogonal"

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = check_float("gain", gain)

    def _sample(self, shape, rng):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of at least two dimensions. Received: shape={shape}")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


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
    for cls in (VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal,
                Orthogonal, RandomUniform, RandomNormal, Zeros, Ones)
}


_BY_CLASS_NAME = {cls.__name__: cls for cls in INITIALIZERS.values()}


def get(identifier, argument: str = "initializer") -> Initializer:
    """Return an initializer from a name (``"glorot_uniform"``, ...), an instance, or a
    ``{"class_name", "config"}`` dict (``class_name`` the class or its snake-case name, ``config``
    what ``get_config`` returns; Keras's form)."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in INITIALIZERS:
        return INITIALIZERS[identifier.lower()]()
    if isinstance(identifier, dict) and set(identifier) <= {"class_name", "config", "module"}:
        name = str(identifier.get("class_name", ""))
        cls = _BY_CLASS_NAME.get(name) or INITIALIZERS.get(name.lower())
        config = identifier.get("config", {})
        if cls is not None and isinstance(config, dict):
            try:
                return cls.from_config(config)
            except TypeError:
                raise ValueError(f"The initializer's `config` does not fit {name!r}. "
                                 f"Received: {argument}={identifier!r}") from None
    raise ValueError(
        f"Unknown initializer. `{argument}` must be one of {sorted(INITIALIZERS)}, an Initializer instance or "
        f'a {{"class_name", "config"}} dict. Received: {argument}={identifier!r}'
    )


__getattr__ = missing_name("refnn.initializers", ", ".join(n for n in __all__ if n[0].isupper()), {})

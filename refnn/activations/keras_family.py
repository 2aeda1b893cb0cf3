"""The other activations of Keras 3, with Keras's names, defaults and float formulas.

Each class gives the value and the backward pass ``dx = f′(x) · dy`` (element-wise). The formulas
are the ones TensorFlow evaluates for ``keras.activations.*`` (read from ``keras/src/ops/nn.py``,
``keras/src/backend/tensorflow/nn.py`` and TensorFlow's kernels and gradients), so a float64 refnn
model agrees with its Keras twin to round-off.

=============== ====================================== ==============================================
name            value ``f(x)``                          derivative ``f′(x)``
=============== ====================================== ==============================================
elu             ``x`` (x > 0), ``α(eˣ − 1)``             ``1`` (x > 0), ``α eˣ`` (x ≤ 0; so ``α`` at 0)
selu            ``λx`` (x > 0), ``λα(eˣ − 1)``           ``λ`` (x ≥ 0), ``λα eˣ = f(x) + λα``
gelu            ``x Φ(x) = ½ x erfc(−x/√2)``             ``Φ(x) + x φ(x)``
gelu (approx.)  ``½ x (1 + tanh(√(2/π)(x + c x³)))``     ``½(1 + t) + ½ x (1 − t²) √(2/π)(1 + 3c x²)``
leaky_relu      ``x`` (x > 0), ``s x``                   ``1`` (x > 0), ``s`` (x ≤ 0)
softplus        ``log(1 + eˣ)``                         ``σ(x) = 1 / (1 + e^{−x})``
silu (swish)    ``x σ(x)``                              ``σ(x)(1 + x(1 − σ(x)))``
hard_sigmoid    ``relu6(x + 3) / 6``                    ``1/6`` on ``−3 < x < 3``, else 0
=============== ====================================== ==============================================

``Φ``/``φ`` are the standard normal CDF/density, ``c = 0.044715``, ``t`` the tanh of the approximate
GELU, ``λ = 1.0507009873554804934193349852946`` and ``α = 1.6732632423543772848170429916717``
(SELU's fixed constants, Klambauer et al. 2017, as in TensorFlow's kernel).

Nothing overflows: ``exp`` is only evaluated on ``min(x, 0)`` or ``−|x|``, softplus switches to
``x`` / ``eˣ`` beyond TensorFlow's thresholds ``±(log ε + 2)`` and uses ``log1p``, and the
approximate GELU's ``(1 − t²)`` factor is 0 (not ``0 · ∞``) where ``x³`` overflows.

erf without SciPy: ``erfc`` is Python's ``math.erfc`` (C99 libm, accurate to a few ulp), applied
element-wise with ``np.frompyfunc`` — exact to round-off, about 0.1 µs per element.
"""

from __future__ import annotations

import math

import numpy as np

from refnn.activations.basic import Activation, Sigmoid
from refnn.utils.validation import check_bool, check_float

__all__ = ["ELU", "SELU", "GELU", "LeakyReLU", "Softplus", "SiLU", "HardSigmoid", "erfc"]

_ERFC = np.frompyfunc(math.erfc, 1, 1)


def erfc(x: np.ndarray) -> np.ndarray:
    """``erfc(x) = 1 − erf(x)`` element-wise in ``x``'s dtype (``math.erfc``; no SciPy)."""
    x = np.asarray(x)
    return np.asarray(_ERFC(x), dtype=x.dtype if x.dtype.kind == "f" else np.float64)


class ELU(Activation):
    """Exponential linear unit: ``x`` for ``x > 0``, ``α(eˣ − 1)`` otherwise (Keras default α = 1).

    Derivative ``1`` for ``x > 0`` and ``α eˣ`` for ``x ≤ 0`` — at ``x = 0`` the left one, ``α``,
    as TensorFlow's ``EluGrad`` (which tests the output ``expm1(x) > 0``). Keras evaluates
    ``tf.nn.elu(x)`` and multiplies the negative side by α; the backward pass here uses
    ``expm1(x) + 1`` as ``EluGrad`` does.
    """

    name = "elu"

    def __init__(self, alpha: float = 1.0):
        self.alpha = check_float("alpha", alpha)

    def __call__(self, x):
        negative = np.expm1(np.minimum(x, 0))
        return np.where(x > 0, x, self.alpha * negative)

    def backward(self, x, y, dy):
        slope = np.expm1(np.minimum(x, 0)) + 1
        return np.where(x > 0, dy, self.alpha * (dy * slope))

    def get_config(self):
        return {"alpha": self.alpha}


class SELU(Activation):
    """Scaled ELU: ``λx`` for ``x > 0``, ``λα(eˣ − 1)`` otherwise, fixed constants (no options).

    Derivative ``λ`` (x ≥ 0: at 0 the right derivative, as TensorFlow's ``SeluGrad``, which tests
    ``f(x) < 0``), ``λα eˣ`` (x < 0), computed from the output as ``SeluGrad`` does: ``f(x) + λα``.
    """

    name = "selu"
    ALPHA = 1.6732632423543772848170429916717
    SCALE = 1.0507009873554804934193349852946

    def __call__(self, x):
        scale, scale_alpha = x.dtype.type(self.SCALE), x.dtype.type(self.SCALE * self.ALPHA)
        return np.where(x > 0, scale * x, scale_alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, x, y, dy):
        scale, scale_alpha = y.dtype.type(self.SCALE), y.dtype.type(self.SCALE * self.ALPHA)
        return np.where(y < 0, dy * (y + scale_alpha), dy * scale)


class GELU(Activation):
    """Gaussian error linear unit, ``x Φ(x)`` (Hendrycks & Gimpel 2016).

    ``approximate=False`` (Keras 3's default, what ``Dense(activation="gelu")`` uses):
    ``f = ½ x erfc(−c x)`` with ``c = 1/√2`` (TensorFlow's form; ``erfc`` keeps ``Φ`` accurate for
    x ≪ 0), ``f′ = ½ erfc(−c x) + x (c/√π) e^{−c²x²}`` (``= Φ(x) + x φ(x)``).

    ``approximate=True``: ``f = ½ x (1 + t)``, ``t = tanh(√(2/π)(x + k x³))``, ``k = 0.044715``,
    ``f′ = ½(1 + t) + ½ x (1 − t²) √(2/π)(1 + 3k x²)``. (Keras's Dense cannot name this form by
    string; ``keras_bridge`` refuses it.)

    ``keras_float32_constants``: TensorFlow's ``gelu`` builds ``c`` and ``k`` with
    ``math_ops.cast(python_float, dtype)``, which makes a float32 constant first: even a float64
    Keras model computes with ``c = float32(1/√2) = 0.70710676908…`` and ``k = 0.04471499845…``, a
    ~4e-9 relative difference in ``f′``. ``True`` does the same (``keras_bridge``'s Keras-exact
    copies set it); the default computes the textbook function.
    """

    name = "gelu"
    _COEFF = 0.044715
    _SQRT_2_OVER_PI = 0.7978845608028654
    _INV_SQRT2 = 0.7071067811865476
    _INV_SQRT_PI = 0.5641895835477563

    def __init__(self, approximate: bool = False, keras_float32_constants: bool = False):
        self.approximate = check_bool("approximate", approximate)
        self.keras_float32_constants = check_bool("keras_float32_constants", keras_float32_constants)
        rounded = (lambda v: float(np.float32(v))) if self.keras_float32_constants else float
        self._c, self._k = rounded(self._INV_SQRT2), rounded(self._COEFF)

    def __call__(self, x):
        if self.approximate:
            return 0.5 * x * (1.0 + np.tanh(self._SQRT_2_OVER_PI * self._inner(x)))
        return 0.5 * x * erfc(-x * x.dtype.type(self._c))

    def _inner(self, x):
        with np.errstate(over="ignore"):
            return x + x.dtype.type(self._k) * x ** 3

    def backward(self, x, y, dy):
        if self.approximate:
            t = np.tanh(self._SQRT_2_OVER_PI * self._inner(x))
            sech2 = 1.0 - t * t
            with np.errstate(over="ignore", invalid="ignore"):
                tail = 0.5 * x * sech2 * self._SQRT_2_OVER_PI * (1.0 + 3.0 * x.dtype.type(self._k) * x * x)
            return dy * (0.5 * (1.0 + t) + np.where(sech2 == 0, 0.0, tail))
        scaled = x * x.dtype.type(self._c)
        cdf = 0.5 * erfc(-scaled)
        clipped = np.clip(scaled, -64.0, 64.0)  # the density underflows to 0 long before; x² must not overflow
        return dy * (cdf + x * (self._c * self._INV_SQRT_PI) * np.exp(-clipped * clipped))

    def get_config(self):
        return {"approximate": self.approximate, "keras_float32_constants": self.keras_float32_constants}


class LeakyReLU(Activation):
    """``x`` for ``x > 0``, ``s·x`` otherwise; Keras 3's ``leaky_relu`` default ``s = 0.2``.

    (The *layer* ``keras.layers.LeakyReLU`` defaults to 0.3; ``keras_bridge`` maps it with its slope.)
    Derivative ``1`` (x > 0), ``s`` (x ≤ 0), as TensorFlow's ``LeakyReluGrad``. TensorFlow keeps
    ``s`` in a float32 attribute even in a float64 model: Keras computes with ``float32(0.2)``
    ``= 0.20000000298…``; ``keras_bridge``'s Keras-exact copies round the slope the same way.
    """

    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.2):
        self.negative_slope = check_float("negative_slope", negative_slope, low=0.0)

    def __call__(self, x):
        return np.where(x > 0, x, x * x.dtype.type(self.negative_slope))

    def backward(self, x, y, dy):
        return np.where(x > 0, dy, dy * dy.dtype.type(self.negative_slope))

    def get_config(self):
        return {"negative_slope": self.negative_slope}


class Softplus(Activation):
    """``log(1 + eˣ)``, derivative ``σ(x)``.

    As TensorFlow's kernel: ``x`` above ``−(log ε + 2)`` (34.04 in float64, 13.9 in float32), ``eˣ``
    below ``log ε + 2``, ``log1p(eˣ)`` in between — the value is exact to round-off and never
    overflows.
    """

    name = "softplus"

    def __call__(self, x):
        threshold = np.log(np.finfo(x.dtype).eps) + 2
        middle = np.clip(x, threshold, -threshold)
        soft = np.log1p(np.exp(middle))
        return np.where(x > -threshold, x, np.where(x < threshold, np.exp(np.minimum(x, 0)), soft))

    def backward(self, x, y, dy):
        return dy * _sigmoid(x)


class SiLU(Activation):
    """Sigmoid-weighted linear unit, also named swish: ``x σ(x)``.

    Derivative ``σ(x)(1 + x(1 − σ(x)))``, TensorFlow's custom gradient for ``tf.nn.silu``.
    ``activations.get("swish")`` gives this class, as Keras's ``"swish"`` is its ``silu``.
    """

    name = "silu"

    def __call__(self, x):
        return x * _sigmoid(x)

    def backward(self, x, y, dy):
        s = _sigmoid(x)
        return dy * (s * (1.0 + x * (1.0 - s)))


class HardSigmoid(Activation):
    """Keras 3's hard sigmoid ``relu6(x + 3) / 6``: 0 for x ≤ −3, 1 for x ≥ 3, ``x/6 + ½`` between.

    Derivative ``1/6`` on ``−3 < x < 3`` and 0 outside (TensorFlow's ``Relu6Grad`` tests
    ``0 < x + 3 < 6``). Keras 2 (and the ``tf.keras`` of TF ≤ 2.15) used ``clip(0.2x + 0.5, 0, 1)``
    instead: slope 1/5 on ``|x| < 2.5`` — a different function; refnn follows Keras 3.
    """

    name = "hard_sigmoid"

    def __call__(self, x):
        return np.clip(x + 3.0, 0.0, 6.0) / 6.0

    def backward(self, x, y, dy):
        shifted = x + 3.0
        return (dy / 6.0) * ((shifted > 0) & (shifted < 6))


_sigmoid = Sigmoid()  # the overflow-safe logistic function, shared

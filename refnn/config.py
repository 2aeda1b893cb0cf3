"""Global settings, Keras's ``keras.config`` names: the default float type and the fuzz factor.

``floatx()`` is the dtype a model gets when it is created without ``dtype=``. refnn's default
is ``"float64"`` — its purpose is exact arithmetic to compare against — where Keras's is
``"float32"``; a script that calls ``set_floatx("float64")`` (as a parity check does) gets the
same dtype from both. ``epsilon()`` is the ``ε = 1e-7`` of the crossentropies' clip, fixed (as
``refnn.losses.EPSILON``): refnn does not offer Keras's ``set_epsilon``.

``set_keras_float32_constants(True)`` makes the optimizers created from then on round the
constants Keras rounds through float32 even in float64 (Adam's β inside its bias-correction
powers, SGD's momentum, ...; see ``refnn.optimizers.base``): what a float64 Keras run computes,
to round-off. Off by default — refnn uses the exact values — and the difference is not small: 40
epochs of Adam on Iris move the loss curve by 2e-6 relative, 15 of SGD with momentum 0.9 on digits
the logits by 3e-4. The environment variable ``REFNN_KERAS_FLOAT32_CONSTANTS=1`` switches it on
from the start, so that a Keras script with only its import changed needs no refnn-only line.
"""

from __future__ import annotations

import os

from refnn.utils.unsupported import missing_name
from refnn.utils.validation import check_bool, check_dtype

__all__ = ["floatx", "set_floatx", "epsilon", "keras_float32_constants", "set_keras_float32_constants"]

_FLOATX = "float64"
_ENVIRONMENT = "REFNN_KERAS_FLOAT32_CONSTANTS"


def _from_environment() -> bool:
    value = os.environ.get(_ENVIRONMENT, "").strip().lower()
    if value not in ("", "0", "1", "false", "true"):
        raise ValueError(f"The environment variable {_ENVIRONMENT} must be 1 or 0 (true/false). "
                         f"Received: {_ENVIRONMENT}={os.environ[_ENVIRONMENT]!r}")
    return value in ("1", "true")


_KERAS_FLOAT32_CONSTANTS = _from_environment()


def floatx() -> str:
    """The default float type of new models: ``"float64"`` unless ``set_floatx`` changed it."""
    return _FLOATX


def set_floatx(value) -> None:
    """Set the default float type of models created from now on (``"float32"`` or ``"float64"``).
    Models that exist keep their dtype."""
    global _FLOATX
    _FLOATX = check_dtype("value", value).name


def epsilon() -> float:
    """The crossentropies' clip ``ε`` (Keras's ``keras.config.epsilon()``): 1e-7."""
    from refnn.losses import EPSILON
    return EPSILON


def keras_float32_constants() -> bool:
    """Whether new optimizers round Keras's float32 constants (``keras_float32_constants=None``)."""
    return _KERAS_FLOAT32_CONSTANTS


def set_keras_float32_constants(value: bool) -> None:
    """Make optimizers created from now on (without an explicit ``keras_float32_constants=``)
    round the constants a float64 Keras run rounds through float32 (``True``), or use the exact
    values (``False``, the default)."""
    global _KERAS_FLOAT32_CONSTANTS
    _KERAS_FLOAT32_CONSTANTS = check_bool("value", value)


__getattr__ = missing_name("refnn.config", "floatx, set_floatx, epsilon, keras_float32_constants and "
                           "set_keras_float32_constants", {
                               "set_epsilon": "refnn's ε is fixed at Keras's default, 1e-7 (refnn.losses.EPSILON).",
                               "set_dtype_policy": 'refnn computes in one dtype: set_floatx("float32") or "float64".',
                               "backend": "refnn has one backend, NumPy.",
                           })

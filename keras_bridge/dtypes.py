"""Keras's global float type, set for the duration of a block and always restored.

Keras decides the dtype of most objects *when they are created* from ``keras.config.floatx()``:
layer variables, the optimizer's learning-rate variable, ``Loss`` objects and the metrics
``compile`` creates (the loss tracker that ``history["loss"]`` comes from). And ``fit``/
``evaluate``/``predict`` cast NumPy float inputs to ``floatx()`` (``array_slicing.py``), so a
float64 model fed NumPy float64 data under the default ``floatx() == "float32"`` sees its data
rounded to float32.

The bridge therefore builds, compiles and runs every Keras twin inside ``floatx(dtype)``, which
sets the global floatx *and* the global dtype policy (which Keras caches from the floatx of the
first time it is read) and restores both on exit, even on error — no global state leaks.
Layers, the input and the loss also get an explicit ``dtype``, so the saved config of a float64
model says float64 and loads as float64 under any ``floatx``. When you train or evaluate a float64
twin yourself, do it under ``with keras_bridge.floatx("float64"):`` (or pass ``tf.data``
datasets, which Keras does not cast).
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np

from keras_bridge.errors import NotMappableError
from refnn.utils.validation import check_dtype

__all__ = ["floatx", "model_dtype", "shortest_float32"]


def shortest_float32(value: float) -> float:
    """``value`` if it is not a float32 number, else the shortest decimal with the same float32.

    Keras keeps some hyper-parameters in float32 variables/tensors; reading them back gives e.g.
    ``0.009999999776482582`` for ``0.01``. Every float that rounds to the same float32 behaves the
    same in those places, so the shortest one is returned.
    """
    value = float(value)
    f32 = np.float32(value)
    if float(f32) != value or not np.isfinite(f32):
        return value
    return float(str(f32))


@contextlib.contextmanager
def floatx(dtype):
    """Set ``keras.config.floatx()`` to ``dtype`` ("float32"/"float64") inside the block."""
    name = check_dtype("dtype", dtype).name
    previous = keras.config.floatx()
    # Keras caches the global dtype policy (from the floatx of that moment) the first time it is
    # read; layers created without `dtype=` (and a Sequential model itself) take it, so set it too.
    previous_policy = keras.config.dtype_policy()
    keras.config.set_floatx(name)
    keras.config.set_dtype_policy(name)
    try:
        yield name
    finally:
        keras.config.set_floatx(previous)
        keras.config.set_dtype_policy(previous_policy)


def model_dtype(keras_model) -> str:
    """The one float dtype of a Keras model's variables and computation.

    Raises:
        NotMappableError: mixed precision, or layers of different dtypes.
    """
    found = {}
    for layer in keras_model.layers:
        policy = layer.dtype_policy
        if policy.compute_dtype != policy.variable_dtype:
            raise NotMappableError(
                f"Layer {layer.name!r} uses the mixed-precision policy {policy.name!r}; refnn models "
                "compute in one dtype (float32 or float64)."
            )
        found.setdefault(policy.variable_dtype, layer.name)
    if len(found) > 1:
        raise NotMappableError(
            f"The Keras model mixes dtypes across layers: {found} (dtype: first layer). refnn models use "
            "one dtype throughout."
        )
    dtype = next(iter(found), keras.config.floatx())
    if dtype not in ("float32", "float64"):
        raise NotMappableError(
            f"refnn models are float32 or float64. Received a Keras model of dtype {dtype!r}."
        )
    return dtype

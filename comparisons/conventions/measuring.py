"""How the conventions are measured: the same gradient sequence through an optimizer in refnn and
in Keras, and the check that refnn's Keras form reproduces the live Keras numbers."""

from __future__ import annotations

import numpy as np

from comparisons.report import Check, Section

__all__ = ["F64", "keras_trajectory", "refnn_trajectory", "steps_of", "add_check"]

F64 = "float64"


def keras_trajectory(make_optimizer, init: np.ndarray, grads: np.ndarray, dtype: str = F64) -> np.ndarray:
    """``W_0 … W_T`` of a Keras optimizer (``make_optimizer()`` is called under ``floatx(dtype)``)
    fed ``grads[t]`` at step t, each step compiled as ``fit`` compiles it; shape
    ``(T + 1, *init.shape)``."""
    import keras
    import tensorflow as tf

    from keras_bridge import floatx

    with floatx(dtype):
        opt = make_optimizer()
        var = keras.Variable(np.asarray(init, dtype=dtype), dtype=dtype)
        opt.build([var])
        step = tf.function(lambda g: opt.apply_gradients([(g, var)]))  # compiled, as fit runs it
        out = [np.asarray(init, dtype=dtype)]
        for g in grads:
            step(tf.constant(np.asarray(g, dtype=dtype)))
            out.append(var.numpy())
    return np.stack(out)


def refnn_trajectory(optimizer, init: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """``W_0 … W_T`` of a refnn optimizer fed ``grads[t]`` at step t."""
    params = {"w": np.array(init, dtype=np.asarray(grads).dtype)}
    out = [params["w"].copy()]
    for g in grads:
        optimizer.apply(params, {"w": g})
        out.append(params["w"].copy())
    return np.stack(out)


def steps_of(trajectory: np.ndarray) -> np.ndarray:
    """``Δ_t = W_{t−1} − W_t`` (positive for a positive gradient), t = 1 … T."""
    return trajectory[:-1] - trajectory[1:]


def add_check(section: Section, what: str, err: float, dtype: str = F64, rtol: float = 1e-10) -> None:
    """Record that refnn's Keras form of a convention reproduced live Keras to ``err``."""
    section.checks.append(Check(f"conventions: {what}", {dtype: err}, {dtype: rtol}))

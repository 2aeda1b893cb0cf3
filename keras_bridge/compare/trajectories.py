"""Optimizer trajectories: a refnn optimizer and its Keras twin on the same gradient sequence."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from keras_bridge.compare.results import Comparison, make_row
from keras_bridge.dtypes import floatx
from keras_bridge.optimizers import keras_exact_optimizer, optimizer_from_keras, optimizer_to_keras
from refnn.utils.tolerance import TOLERANCES, relative_error

__all__ = ["optimizer_steps", "default_problem"]

#: Keras base options that are noise in a table (defaults, EMA settings)
_QUIET = {"name", "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
          "gradient_accumulation_steps"}


def default_problem(shapes: dict, steps: int, seed: int, dtype) -> tuple[dict, list]:
    """Initial values and a gradient sequence that tells conventions apart: per element a fixed
    direction times noise, the kernel at scale 1, the bias at 1e-4 (where ε matters), and a sign
    flip every 3 steps on half of the elements (Rprop/Quickprop backtracking)."""
    rng = np.random.default_rng(seed)
    init, directions, flips = {}, {}, {}
    for path, shape in shapes.items():
        init[path] = rng.standard_normal(shape).astype(dtype)
        directions[path] = rng.standard_normal(shape) * (1e-4 if path.endswith("bias") else 1.0)
        flips[path] = rng.random(shape) < 0.5
    grads = []
    for t in range(steps):
        step = {}
        for path, shape in shapes.items():
            sign = np.where(flips[path] & ((t // 3) % 2 == 1), -1.0, 1.0)
            noise = 1.0 + 0.3 * rng.standard_normal(shape)
            step[path] = (directions[path] * sign * noise).astype(dtype)
        grads.append(step)
    return init, grads


def _twin_optimizers(optimizer, dtype: str, keras_exact: bool):
    """Fresh copies of ``optimizer`` on both sides: ``(refnn optimizer, Keras optimizer)``."""
    if isinstance(optimizer, keras.optimizers.Optimizer):
        with floatx(dtype):
            keras_opt = type(optimizer).from_config(optimizer.get_config())
        return optimizer_from_keras(keras_opt, keras_float32_constants=keras_exact), keras_opt
    mine = type(optimizer).from_config(optimizer.get_config())
    if keras_exact:
        mine = keras_exact_optimizer(mine)
    return mine, optimizer_to_keras(mine, dtype=dtype, plugins=True)


def optimizer_steps(optimizer, steps: int = 100, dtype: str = "float64", shapes: dict | None = None,
                    gradients_sequence=None, losses=None, seed: int = 0,
                    keras_exact: bool = True) -> Comparison:
    """The trajectories of a refnn optimizer and its Keras twin on the same gradient sequence.

    Both start from the same values and receive the same gradients (``apply_gradients`` on
    ``keras.Variable`` s for Keras, ``apply`` on arrays for refnn). Rprop and Quickprop use the
    ``keras_bridge.plugins`` optimizers — refnn against its own Keras port, a consistency check
    rather than an independent one; iRprop+ also receives the loss sequence.

    Args:
        optimizer: a refnn optimizer (its Keras twin is ``optimizer_to_keras``) or a Keras optimizer
            (its refnn twin is ``optimizer_from_keras``). A fresh copy is used (the state of
            the argument is not).
        steps: number of updates.
        dtype: ``"float32"`` or ``"float64"``.
        shapes: ``{path: shape}`` of the parameters (default: a 4×3 kernel and its bias).
        gradients_sequence: a list of ``{path: gradient}`` (default: ``default_problem``).
        losses: the loss per step (iRprop+; default: a noisy decreasing sequence with increases).
        seed: for the default initial values, gradients and losses.
        keras_exact: refnn twin with ``keras_float32_constants=True``.

    Returns:
        rows per parameter: the worst step's relative difference over the trajectory.
    """
    dtype = np.dtype(dtype).name
    mine, keras_opt = _twin_optimizers(optimizer, dtype, keras_exact)
    shapes = shapes or {"dense_0/kernel": (4, 3), "dense_0/bias": (3,)}
    init, grads_seq = default_problem(shapes, steps, seed, dtype)
    if gradients_sequence is not None:
        grads_seq = [{p: np.asarray(g, dtype=dtype) for p, g in step.items()} for step in gradients_sequence]
    if len(grads_seq) < steps:
        raise ValueError(f"`gradients_sequence` has {len(grads_seq)} steps. Received: steps={steps}")
    if losses is None:
        rng = np.random.default_rng(seed + 1)
        losses = list(np.exp(-0.05 * np.arange(steps)) + 0.05 * rng.standard_normal(steps))
    traj_mine, traj_keras = _run_both(mine, keras_opt, init, grads_seq[:steps], losses, dtype)
    config = ", ".join(f"{k}={v!r}" for k, v in keras_opt.get_config().items() if k not in _QUIET and v is not None)
    result = Comparison("optimizer", dtype, notes=[
        f"{mine!r} vs keras {type(keras_opt).__name__}({config})",
        f"{steps} steps; relative difference of the worst step"])
    rtol = TOLERANCES["optimizer"][dtype]
    for p in shapes:
        a, b = np.stack(traj_mine[p]), np.stack(traj_keras[p])
        rel = max(relative_error(a[t], b[t]) for t in range(steps))
        layer, _, quantity = p.rpartition("/")
        result.rows.append(make_row(layer or type(mine).__name__, quantity, a, b, rtol, rel=rel))
    return result


def _run_both(mine, keras_opt, init: dict, grads_seq: list, losses, dtype: str):
    """``({path: [values after each step]}, same for Keras)``. Keras's step runs compiled
    (``tf.function``), as ``fit`` runs it: TensorFlow's graph optimizer then rewrites a schedule's
    division by ``decay_steps`` (see ``refnn.optimizers.schedules``)."""
    uses_loss = getattr(keras_opt, "uses_loss", False)
    params = {p: v.copy() for p, v in init.items()}
    traj_mine = {p: [] for p in init}
    traj_keras = {p: [] for p in init}
    with floatx(dtype):
        kvars = [keras.Variable(init[p], dtype=dtype, name=p.replace("/", "_")) for p in init]
        keras_opt.build(kvars)

        @tf.function
        def keras_step(grads, loss):
            pairs = list(zip(grads, kvars))
            if uses_loss:
                keras_opt.apply_gradients(pairs, loss=loss)
            else:
                keras_opt.apply_gradients(pairs)

        for t, grads in enumerate(grads_seq):
            mine.apply(params, {p: grads[p] for p in init}, loss=float(losses[t]))
            keras_step([tf.constant(grads[p]) for p in init], tf.constant(float(losses[t]), tf.float64))
            for p, v in zip(init, kvars):
                traj_mine[p].append(params[p].copy())
                traj_keras[p].append(v.numpy())
    return traj_mine, traj_keras

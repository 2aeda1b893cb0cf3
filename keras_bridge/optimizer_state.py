"""Optimizer state across the bridge: the step count and every slot (moments, velocities, Rprop's
step sizes, Quickprop's previous slope and step, Nadam's μ-product, Levenberg–Marquardt's μ) go
with the model, so training resumed on the other side continues the same trajectory.

A Keras optimizer names the slot of a variable ``<variable path with _>_<slot>``
(``sequential_dense_0_kernel_momentum``); refnn keys it ``<layer>/<param>`` and ``<slot>``, with
Keras's slot names. Scalars that are not slots: ``iterations`` (both), Nadam's ``u_product`` (Keras's
``_u_product`` variable), iRprop+'s previous loss (the plugin's ``previous_loss`` variable), and
for Levenberg–Marquardt ``μ`` and the number of accepted steps (attributes of the Keras model).
"""

from __future__ import annotations

import keras
import numpy as np

from keras_bridge.weights import keras_variables_by_path

__all__ = ["state_to_keras", "state_from_keras", "has_state", "steps_taken"]

#: refnn slot → Keras slot, where the names differ (none today: refnn took Keras's names)
_RENAMED: dict[str, dict[str, str]] = {}


def _keras_slots(model, keras_model) -> dict[tuple[str, str], object]:
    """``{(refnn path, refnn slot): Keras optimizer variable}`` for every slot the refnn optimizer
    keeps; the Keras optimizer is built on the Keras model's variables first."""
    optimizer = keras_model.optimizer
    optimizer.build(keras_model.trainable_variables)
    by_name = {v.name: v for v in optimizer.variables}
    renamed = _RENAMED.get(type(model.optimizer).__name__, {})
    probe = type(model.optimizer).from_config(model.optimizer.get_config())
    slots = {}
    for path, kvar in keras_variables_by_path(model, keras_model).items():
        for slot in probe.build_state(path, model.params[path]):
            name = f"{kvar.path.replace('/', '_')}_{renamed.get(slot, slot)}"
            if name not in by_name:
                raise ValueError(
                    f"The Keras optimizer {type(optimizer).__name__} has no slot {name!r} for refnn's "
                    f"{path!r}/{slot!r}: the two optimizers are not configured alike.")
            slots[(path, slot)] = by_name[name]
    return slots


def state_to_keras(model, keras_model) -> None:
    """Write ``model.optimizer``'s state (refnn) into ``keras_model``'s optimizer or, for
    Levenberg–Marquardt, into the ``LevenbergMarquardtModel`` itself."""
    optimizer = model.optimizer
    if type(optimizer).__name__ == "LevenbergMarquardt":
        keras_model.mu, keras_model.lm_iterations = float(optimizer.mu), int(optimizer.iterations)
        keras_model.stop_reason = optimizer.stop_reason
        return
    kopt = keras_model.optimizer
    slots = _keras_slots(model, keras_model)
    for (path, slot), kvar in slots.items():
        state = optimizer.state.get(path)
        if state is not None:  # a path without state has never been updated: Keras's fresh slot is the same
            kvar.assign(np.asarray(state[slot], dtype=kvar.dtype))
    kopt.iterations.assign(optimizer.iterations)
    if hasattr(kopt, "_u_product") and optimizer.u_product is not None:
        kopt._u_product.assign(optimizer.u_product)
    if hasattr(kopt, "_previous_loss") and getattr(optimizer, "previous_loss", None) is not None:
        kopt._previous_loss.assign(optimizer.previous_loss)


def state_from_keras(keras_model, model) -> None:
    """Write the Keras side's optimizer state into ``model.optimizer`` (refnn), which must be the
    refnn counterpart of the Keras optimizer (``from_keras`` makes it)."""
    optimizer = model.optimizer
    if type(optimizer).__name__ == "LevenbergMarquardt":
        optimizer.mu, optimizer.iterations = float(keras_model.mu), int(keras_model.lm_iterations)
        optimizer.stop_reason = keras_model.stop_reason
        return
    kopt = keras_model.optimizer
    iterations = int(kopt.iterations.numpy())
    if not iterations:
        return  # never stepped: the refnn optimizer's fresh state is the same
    slots = _keras_slots(model, keras_model)
    arrays = {f"{path}/{slot}": np.asarray(kvar.numpy()) for (path, slot), kvar in slots.items()}
    scalars = {"iterations": iterations}
    if hasattr(kopt, "_u_product"):
        scalars["u_product"] = {"dtype": model.dtype.name, "value": float(kopt._u_product.numpy())}
    if hasattr(kopt, "_previous_loss"):
        previous = float(kopt._previous_loss.numpy())
        scalars["previous_loss"] = None if np.isinf(previous) else previous
    optimizer.set_state(scalars, arrays)


def steps_taken(keras_model) -> int:
    """The optimizer steps the Keras side has taken (an LM model's accepted steps)."""
    if hasattr(keras_model, "lm_iterations"):
        return int(keras_model.lm_iterations)
    optimizer = getattr(keras_model, "optimizer", None)
    return int(optimizer.iterations.numpy()) if isinstance(optimizer, keras.optimizers.Optimizer) else 0


def has_state(keras_model) -> bool:
    """Whether the Keras side has trained (an optimizer that stepped, or an LM model that did)."""
    return steps_taken(keras_model) > 0

"""The two sides of a comparison: a refnn model and its Keras twin, from either one."""

from __future__ import annotations

import copy

import keras

import refnn
from keras_bridge.architecture import from_keras, keras_exact_copy, to_keras

__all__ = ["twins", "training_twins", "setup_notes", "keras_layers"]


def twins(model, keras_exact: bool, compile: bool = True, set_aside: list | None = None):
    """``(refnn side, Keras side, dtype)`` for a refnn or a Keras model.

    A refnn model's Keras side is ``to_keras(model, plugins=True)`` (Rprop, Quickprop and
    Levenberg–Marquardt run as ``keras_bridge.plugins``); a Keras model's refnn side is
    ``from_keras(model)``, its metrics refnn cannot compute noted in ``set_aside`` (they do not
    change the compared numbers). Both start with a fresh optimizer of the same configuration.
    """
    if isinstance(model, keras.Model):
        mine = from_keras(model, keras_exact=keras_exact, compile=compile, optimizer_state=False,
                          set_aside=[] if set_aside is None else set_aside)
        return mine, model, mine.dtype.name
    if not isinstance(model, refnn.Sequential):
        raise TypeError(
            "`model` must be a refnn.Sequential or a keras.Sequential. Received: "
            f"{type(model).__module__}.{type(model).__name__}"
        )
    keras_model = to_keras(model, compile=compile, plugins=True, optimizer_state=False)
    mine = keras_exact_copy(model) if keras_exact else copy.deepcopy(model)
    if mine.optimizer is not None:
        # the Keras twin's optimizer is new: start refnn's from the same (empty) state
        flag = getattr(mine.optimizer, "keras_float32_constants", False)
        mine.optimizer = type(mine.optimizer).from_config(mine.optimizer.get_config())
        mine.optimizer.keras_float32_constants = flag
    return mine, keras_model, mine.dtype.name


def training_twins(model, keras_exact: bool, set_aside: list):
    """``twins`` for the comparisons that train. A Keras model given is never trained (nor its
    optimizer stepped): its refnn twin and a fresh Keras twin built from that one train, with the
    same layers, weights, loss and optimizer configuration (noted in ``set_aside``)."""
    if isinstance(model, keras.Model):
        model = from_keras(model, keras_exact=False, optimizer_state=False, set_aside=set_aside)
        set_aside.append("the Keras model given was not trained: a fresh Keras twin with its layers, weights, "
                         "loss and optimizer configuration was")
    return twins(model, keras_exact, set_aside=set_aside)


def setup_notes(keras_exact: bool) -> list[str]:
    """The note every comparison table carries about its refnn side."""
    if keras_exact:
        return ["refnn side: keras_exact copy (hyper-parameters Keras rounds through float32 rounded alike)"]
    return ["refnn side: the model as given (exact hyper-parameters; Keras rounds some through float32)"]


def keras_layers(keras_model) -> list:
    """The Keras model's layers without its ``InputLayer``."""
    return [k for k in keras_model.layers if not isinstance(k, keras.layers.InputLayer)]

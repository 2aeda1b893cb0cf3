"""Copy parameters between a refnn model and its Keras twin, by name, shapes checked.

Both sides use Keras's layout (kernel ``(in, units)``, bias ``(units,)``), so values are copied
without a transpose and bit for bit. Layers are paired in order (the Keras ``InputLayer`` aside);
inside a layer each Keras variable is matched to the refnn parameter of the same name
(``"kernel"``, ``"bias"``). Everything is checked before anything is written: on a mismatch
(number of layers, a missing name, a shape, a dtype) neither model changes and the message names
the layer and parameter with both values.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_bridge.errors import NotMappableError

__all__ = ["copy_to_keras", "copy_from_keras", "keras_weights_by_path", "keras_variables_by_path"]


def _pairs(model, keras_model) -> list:
    klayers = [k for k in keras_model.layers if not isinstance(k, keras.layers.InputLayer)]
    if len(klayers) != len(model.layers):
        raise ValueError(
            f"The models have different numbers of layers: refnn {len(model.layers)} "
            f"({[l.name for l in model.layers]}), Keras {len(klayers)} ({[k.name for k in klayers]})."
        )
    pairs = []
    for layer, klayer in zip(model.layers, klayers):
        kvars = {v.name: v for v in klayer.weights}
        where = f"refnn layer {layer.name!r} / Keras layer {klayer.name!r}"
        if set(kvars) != set(layer.params):
            raise ValueError(
                f"{where}: parameter names differ. refnn: {sorted(layer.params)}, Keras: {sorted(kvars)}"
            )
        for name, value in layer.params.items():
            kvar = kvars[name]
            if tuple(kvar.shape) != value.shape:
                raise ValueError(
                    f"{where}: shape mismatch for {name!r}. refnn: {value.shape}, Keras: {tuple(kvar.shape)}"
                )
            if np.dtype(kvar.dtype) != value.dtype:
                raise NotMappableError(
                    f"{where}: dtype mismatch for {name!r}. refnn: {value.dtype.name}, Keras: "
                    f"{np.dtype(kvar.dtype).name}. Build both sides with the same dtype."
                )
            pairs.append((layer, name, kvar))
    return pairs


def copy_to_keras(model, keras_model) -> None:
    """Write every refnn parameter into the Keras twin's variable of the same name."""
    for layer, name, kvar in _pairs(model, keras_model):
        kvar.assign(layer.params[name])


def copy_from_keras(keras_model, model) -> None:
    """Write every Keras variable into the refnn parameter of the same name."""
    values = [(layer, name, np.asarray(kvar.numpy())) for layer, name, kvar in _pairs(model, keras_model)]
    for layer, name, value in values:
        layer.params[name][...] = value


def keras_variables_by_path(model, keras_model) -> dict:
    """The Keras twin's variables keyed by the refnn paths (``"dense_0/kernel"``), in order."""
    return {f"{layer.name}/{name}": kvar for layer, name, kvar in _pairs(model, keras_model)}


def keras_weights_by_path(model, keras_model) -> dict[str, np.ndarray]:
    """The Keras twin's parameters keyed by the refnn paths (``"dense_0/kernel"``)."""
    return {path: np.asarray(kvar.numpy()) for path, kvar in keras_variables_by_path(model, keras_model).items()}

"""keras_bridge — the same network in refnn and Keras: twins, weights both ways, export, live
comparisons, and Keras plugins for what Keras lacks.

>>> import refnn, keras_bridge
>>> keras_model = keras_bridge.to_keras(model)          # same layers, weights, dtype, compile
>>> model2 = keras_bridge.from_keras(keras_model)       # and back
>>> keras_bridge.export(model, "m.keras")               # loads with keras.models.load_model
>>> print(keras_bridge.compare.gradients(model, x, y))  # per-layer table, pass/fail

Only ``keras_bridge``, ``comparisons`` and ``tests/keras`` import TensorFlow; refnn never does.
Importing this package registers the Keras plugins (``keras_bridge.plugins``) for loading.
"""

from keras_bridge import compare, distributed, plugins
from keras_bridge.architecture import from_keras, keras_exact_copy, to_keras
from keras_bridge.dtypes import floatx
from keras_bridge.errors import NotMappableError
from keras_bridge.optimizers import optimizer_from_keras, optimizer_to_keras
from keras_bridge.saving import export, load

__all__ = [
    "to_keras",
    "from_keras",
    "export",
    "load",
    "compare",
    "plugins",
    "distributed",
    "floatx",
    "keras_exact_copy",
    "optimizer_to_keras",
    "optimizer_from_keras",
    "NotMappableError",
]

"""refnn — neural-network training written plainly in NumPy, proved against Keras.

>>> import refnn
>>> from refnn import layers, optimizers
>>> model = refnn.Sequential([refnn.Input((4,)), layers.Dense(8, activation="relu"),
...                           layers.Dense(3, activation="softmax")], seed=0)
>>> model.compile(optimizer=optimizers.SGD(0.1), loss="categorical_crossentropy")

refnn keeps Keras's names, so a Keras training script of a fully connected network runs with
``import keras`` replaced by ``import refnn as keras`` (or ``from refnn import keras``):
``keras.Input``, ``keras.Sequential``, ``keras.layers``, ``keras.optimizers`` (and
``.schedules``), ``keras.losses``, ``keras.metrics``, ``keras.callbacks``, ``keras.regularizers``,
``keras.initializers``, ``keras.activations``, ``keras.utils.set_random_seed``,
``keras.config.set_floatx`` and ``keras.models.load_model``. What refnn does not cover (convolutions,
recurrent layers, other backends) raises an error that says so.
"""

from refnn import (
    activations,
    callbacks,
    config,
    graph,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    utils,
)
from refnn.layers.input import Input
from refnn.models import _CHAIN  # the advice for keras.Model, shared with refnn.models
from refnn.models.loading import load_model
from refnn.models.sequential import Sequential
from refnn.utils.unsupported import missing_name
from refnn.version import __version__  # noqa: F401  (refnn.__version__)

__all__ = [
    "Input",
    "Sequential",
    "load_model",
    "activations",
    "callbacks",
    "config",
    "graph",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "regularizers",
    "utils",
]

__getattr__ = missing_name("refnn", "Input, Sequential and the namespaces " + ", ".join(__all__[3:]), {
    "Model": _CHAIN,
    "ops": "refnn computes with NumPy: use numpy functions on the arrays.",
    "backend": "refnn has one backend, NumPy.",
    "mixed_precision": 'refnn computes in one dtype: Sequential(dtype="float32") or config.set_floatx.',
    "distribution": "keras_bridge.to_keras exports the model to Keras, which runs tf.distribute.",
})

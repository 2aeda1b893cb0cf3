"""refnn — neural-network training written plainly in NumPy, proved against Keras.

>>> import refnn
>>> from refnn import layers, optimizers
>>> model = refnn.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")],
...                          input_dim=4, seed=0)
>>> model.compile(optimizer=optimizers.SGD(0.1), loss="categorical_crossentropy")
"""

from refnn import activations, callbacks, graph, initializers, layers, losses, metrics, optimizers, regularizers
from refnn.models.loading import load_model
from refnn.models.sequential import Sequential
from refnn.version import __version__  # noqa: F401  (refnn.__version__)

__all__ = [
    "Sequential",
    "load_model",
    "activations",
    "callbacks",
    "graph",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "optimizers",
    "regularizers",
]

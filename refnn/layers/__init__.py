"""Layers: ``Dense``, ``Activation``, ``Dropout``, and ``Input`` to declare the input width."""

from refnn.layers.activation import Activation
from refnn.layers.base import Layer
from refnn.layers.dense import Dense
from refnn.layers.dropout import Dropout
from refnn.layers.input import Input, InputLayer
from refnn.utils.unsupported import missing_name

__all__ = ["Layer", "Dense", "Activation", "Dropout", "Input", "InputLayer"]

_FLATTEN = "Reshape the inputs to 2-D first, x.reshape(len(x), -1), and declare Input(shape=(n_features,))."
__getattr__ = missing_name("refnn.layers", "Dense, Activation, Dropout and Input", {
    "Flatten": _FLATTEN,
    "Reshape": _FLATTEN,
    "Normalization": "Standardise the inputs before fit: (x - x.mean(0)) / x.std(0) of the training rows.",
    "BatchNormalization": "Standardise the inputs beforehand; refnn has no normalisation layer.",
    "ReLU": 'Use Activation("relu") or Dense(..., activation="relu").',
    "Softmax": 'Use Activation("softmax") or Dense(..., activation="softmax").',
})

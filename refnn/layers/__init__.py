"""Layers: ``Dense``, ``Activation``, ``Dropout``."""

from refnn.layers.activation import Activation
from refnn.layers.base import Layer
from refnn.layers.dense import Dense
from refnn.layers.dropout import Dropout

__all__ = ["Layer", "Dense", "Activation", "Dropout"]

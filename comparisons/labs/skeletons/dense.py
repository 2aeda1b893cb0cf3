"""Lab: a fully connected layer, forward and backward.

Fill in the two TODOs, then check your file::

    refnn-compare check dense.py

Shapes: ``X`` (N, inputs), ``W`` (inputs, units), ``B`` (units,). The checker feeds ``backward``
the gradient ``dY = ∂E/∂Y`` of a scalar ``E`` and compares what you return with finite
differences of your own ``forward``, with refnn and with TensorFlow.
"""

import numpy as np


class Dense:
    """``Y = X W + B`` (no activation: the activations are layers of their own)."""

    def __init__(self, W, B):
        self.W = np.asarray(W, dtype=np.float64)
        self.B = np.asarray(B, dtype=np.float64)

    def forward(self, X):
        """Return ``Y = X W + B`` (shape (N, units)); keep what ``backward`` needs."""
        raise NotImplementedError("TODO: Y = X W + B; keep X for backward")

    def backward(self, dY):
        """Given ``dY = ∂E/∂Y``, set ``self.dW = ∂E/∂W`` and ``self.dB = ∂E/∂B``; return ``∂E/∂X``."""
        raise NotImplementedError("TODO: dW = Xᵀ dY (shape of W), dB = Σ_n dY_n (shape of B), return dX = dY Wᵀ")

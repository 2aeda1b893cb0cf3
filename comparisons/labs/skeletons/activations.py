"""Lab: the activations' backward passes.

Fill in the TODOs, then check your file::

    refnn-compare check activations.py

Each activation acts on the pre-activation ``Z`` (N, units). ``backward`` receives
``dA = ∂E/∂A`` for the output ``A = f(Z)`` and returns ``dZ = ∂E/∂Z``.
"""

import numpy as np


class Sigmoid:
    """``A = σ(Z) = 1 / (1 + e^{−Z})``, element by element."""

    def forward(self, Z):
        self.A = 1.0 / (1.0 + np.exp(-np.asarray(Z, dtype=np.float64)))
        return self.A

    def backward(self, dA):
        raise NotImplementedError("TODO: dZ = dA · σ'(Z), with σ'(Z) written with the output A")


class Tanh:
    """``A = tanh Z``, element by element."""

    def forward(self, Z):
        self.A = np.tanh(np.asarray(Z, dtype=np.float64))
        return self.A

    def backward(self, dA):
        raise NotImplementedError("TODO: dZ = dA · tanh'(Z), with tanh'(Z) written with the output A")


class Softmax:
    """``A_i = e^{Z_i} / Σ_j e^{Z_j}`` over each row."""

    def forward(self, Z):
        Z = np.asarray(Z, dtype=np.float64)
        E = np.exp(Z - Z.max(axis=1, keepdims=True))  # the shift changes nothing but avoids overflow
        self.A = E / E.sum(axis=1, keepdims=True)
        return self.A

    def backward(self, dA):
        raise NotImplementedError("TODO: dZ_i = Σ_j dA_j ∂A_j/∂Z_i with the full Jacobian ∂A_j/∂Z_i = A_j(δ_ij − A_i)")

"""Reference solution of the activations lab (``comparisons/labs/skeletons/activations.py``)."""

import numpy as np


class Sigmoid:
    """``A = σ(Z) = 1 / (1 + e^{−Z})``, element by element."""

    def forward(self, Z):
        self.A = 1.0 / (1.0 + np.exp(-np.asarray(Z, dtype=np.float64)))
        return self.A

    def backward(self, dA):
        """``σ' = σ(1 − σ)``: ``dZ = dA · A(1 − A)``."""
        return dA * self.A * (1.0 - self.A)


class Tanh:
    """``A = tanh Z``, element by element."""

    def forward(self, Z):
        self.A = np.tanh(np.asarray(Z, dtype=np.float64))
        return self.A

    def backward(self, dA):
        """``tanh' = 1 − tanh²``: ``dZ = dA · (1 − A²)``."""
        return dA * (1.0 - self.A**2)


class Softmax:
    """``A_i = e^{Z_i} / Σ_j e^{Z_j}`` over each row."""

    def forward(self, Z):
        Z = np.asarray(Z, dtype=np.float64)
        E = np.exp(Z - Z.max(axis=1, keepdims=True))  # the shift changes nothing but avoids overflow
        self.A = E / E.sum(axis=1, keepdims=True)
        return self.A

    def backward(self, dA):
        """Every output depends on every input: ``∂A_j/∂Z_i = A_j(δ_ij − A_i)``, so
        ``dZ_i = Σ_j dA_j A_j(δ_ij − A_i) = A_i (dA_i − Σ_j dA_j A_j)``."""
        return self.A * (dA - np.sum(dA * self.A, axis=1, keepdims=True))

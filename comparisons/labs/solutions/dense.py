"""Reference solution of the Dense lab (``comparisons/labs/skeletons/dense.py``)."""

import numpy as np


class Dense:
    """``Y = X W + B`` (no activation: the activations are layers of their own)."""

    def __init__(self, W, B):
        self.W = np.asarray(W, dtype=np.float64)
        self.B = np.asarray(B, dtype=np.float64)

    def forward(self, X):
        """Return ``Y = X W + B`` (shape (N, units)); keep what ``backward`` needs."""
        self.X = np.asarray(X, dtype=np.float64)
        return self.X @ self.W + self.B

    def backward(self, dY):
        """Given ``dY = ∂E/∂Y``, set ``self.dW = ∂E/∂W`` and ``self.dB = ∂E/∂B``; return ``∂E/∂X``.

        ``Y_nj = Σ_i X_ni W_ij + B_j``, so ``∂E/∂W_ij = Σ_n X_ni dY_nj`` (``Xᵀ dY``),
        ``∂E/∂B_j = Σ_n dY_nj`` (every sample adds the same bias) and ``∂E/∂X_ni = Σ_j dY_nj W_ij``
        (``dY Wᵀ``).
        """
        self.dW = self.X.T @ dY
        self.dB = dY.sum(axis=0)
        return dY @ self.W.T

"""Reference solution of the optimizers lab (``comparisons/labs/skeletons/optimizers.py``)."""

import numpy as np


class SGD:
    """Gradient descent with momentum as a moving average of the gradients (the textbook form),
    ``V₀ = 0``::

        V ← μV + (1 − μ)g
        W ← W − lr·V
    """

    def __init__(self, learning_rate=0.01, momentum=0.9):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.velocity = {}  # key → V, created at the first step as np.zeros_like(param)

    def step(self, params, grads):
        for key, g in grads.items():
            V = self.velocity.setdefault(key, np.zeros_like(params[key]))
            V *= self.momentum
            V += (1.0 - self.momentum) * g
            params[key] -= self.learning_rate * V


class Adam:
    """Adam, Kingma & Ba's Algorithm 1 (ε added to √v̂), ``m₀ = v₀ = 0``, ``t`` = 1 at the first step::

        m ← β₁m + (1 − β₁)g          v ← β₂v + (1 − β₂)g²
        m̂ = m / (1 − β₁ᵗ)            v̂ = v / (1 − β₂ᵗ)
        W ← W − lr·m̂ / (√v̂ + ε)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.m = {}  # key → first moment, created at the first step
        self.v = {}  # key → second moment

    def step(self, params, grads):
        self.t += 1
        for key, g in grads.items():
            m = self.m.setdefault(key, np.zeros_like(params[key]))
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            m[...] = self.beta_1 * m + (1.0 - self.beta_1) * g
            v[...] = self.beta_2 * v + (1.0 - self.beta_2) * g**2
            # m₀ = v₀ = 0 biases both averages towards 0; dividing by 1 − βᵗ removes that bias
            m_hat = m / (1.0 - self.beta_1**self.t)
            v_hat = v / (1.0 - self.beta_2**self.t)
            params[key] -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)

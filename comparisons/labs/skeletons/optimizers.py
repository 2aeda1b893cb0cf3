"""Lab: one step of SGD with momentum and of Adam.

Fill in the TODOs, then check your file::

    refnn-compare check optimizers.py

``step(params, grads)`` receives two dicts with the same keys (``"kernel"``, ``"bias"``, ...) and
updates every ``params[key]`` in place from ``grads[key]``. Keep one state per key: the
checker steps a kernel and a bias with the same optimizer.
"""

import numpy as np  # noqa: F401 (your steps will need it)


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
        raise NotImplementedError("TODO: for each key: V ← μV + (1 − μ)g; W ← W − lr·V (in place: W -= ...)")


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
        raise NotImplementedError("TODO: t ← t + 1 once per step; for each key: m, v, m̂, v̂, W -= lr·m̂/(√v̂ + ε)")

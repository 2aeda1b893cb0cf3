"""Inverted dropout."""

from __future__ import annotations

import numpy as np

from refnn.layers.base import Layer
from refnn.utils.validation import check_float, check_seed

__all__ = ["Dropout"]


class Dropout(Layer):
    """Inverted dropout, Keras's ``Dropout(rate)``.

    In training each element is kept when ``u ≥ rate``, ``u ~ U[0, 1)``, and kept elements are
    scaled by ``1/(1 − rate)``; in inference the layer is the identity. (Srivastava et al. call the
    *keep* probability p and scale the weights by p at test time instead; the expected
    activations are the same.) ``rate = 1`` drops everything.

    Every training call draws a fresh mask from the layer's own generator, seeded by ``seed`` or,
    if ``seed`` is ``None``, by the model's seed. For tests, ``fixed_mask`` (a 0/1 array of the
    input's shape) replaces the random draw while it is set.

    Keras draws its masks with TensorFlow's Philox generator, which NumPy cannot reproduce:
    compare dropout models with ``rate=0``, in inference, or statistically.
    """

    returns_new_input_grad = True  # dY ⊙ mask, or dY itself

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.rate = check_float("rate", rate, low=0.0, high=1.0)
        self.seed = check_seed("seed", seed)
        self.fixed_mask: np.ndarray | None = None
        self._rng = np.random.default_rng(seed)
        self._mask = None
        self._forwarded = False

    def build(self, input_dim, *, rng=None, dtype="float64"):
        if self.seed is None and rng is not None:
            self._rng = np.random.default_rng(rng.integers(2**63))
        return super().build(input_dim, rng=rng, dtype=dtype)

    def forward(self, x, training=False):
        self._forwarded = True
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        if self.rate == 1.0:
            self._mask = np.zeros_like(x)
            return self._mask.copy()
        if self.fixed_mask is not None:
            keep = np.asarray(self.fixed_mask)
            if keep.shape != x.shape:
                raise ValueError(
                    f"`fixed_mask` must have the input's shape. Received: "
                    f"fixed_mask.shape={keep.shape}, input shape={x.shape}"
                )
        else:
            keep = self._rng.random(x.shape, dtype=x.dtype) >= self.rate
        self._mask = keep * x.dtype.type(1.0 / (1.0 - self.rate))
        return x * self._mask

    def backward(self, dy, need_input_grad=True):
        self._require_forward(True if self._forwarded else None)
        return dy if self._mask is None else dy * self._mask

    def random_state(self):
        return self._rng.bit_generator.state

    def set_random_state(self, state):
        if state is not None:
            self._rng.bit_generator.state = state

    def passes_through(self, training):
        return not training or self.rate == 0.0

    def jacobian_backward(self, sensitivities, columns):
        return sensitivities  # inference mode: the identity

    def get_config(self):
        return {"name": self.name, "rate": self.rate, "seed": self.seed}

    def __repr__(self):
        return f"Dropout({self.rate})"

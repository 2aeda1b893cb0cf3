"""Weight penalties, in Keras's form (no ½ factor).

=========== ================================ =====================================
regularizer penalty ``R(W)``                 gradient ``∂R/∂W``
=========== ================================ =====================================
L1(l1)      ``l1 · Σ|W|``                    ``l1 · sign(W)``
L2(l2)      ``l2 · Σ W²``                    ``2 · l2 · W``
L1L2(l1,l2) ``l1 · Σ|W| + l2 · Σ W²``        the sum of the two
=========== ================================ =====================================

The textbook "weight decay" ``E + (λ/2)‖W‖²`` is ``L2(λ/2)`` here. Penalties are added,
unnormalised, to the batch loss, and are part of ``history["loss"]`` and ``val_loss`` — as in Keras.
For plain SGD, ``L2(λ)`` is the same as decoupled ``weight_decay = 2λ``.

String identifiers follow Keras: ``"l1"`` → ``L1(0.01)``, ``"l2"`` → ``L2(0.01)``,
``"l1l2"`` → ``L1L2(0, 0)`` (Keras's defaults, i.e. no penalty).

Keras in float64 mode still rounds the coefficients through float32 (``L2(0.01)`` penalises with
``float32(0.01) = 0.009999999776482582``); refnn uses the value given. Measured: 20 epochs of SGD
on a 4-8-2 MLP with ``L2(0.01)`` differ from Keras float64 by 3.7e-9 relative; with
``L2(float(np.float32(0.01)))``, or a coefficient float32 holds exactly (``2**-7``), by 8e-16
(``tests/keras/test_regularization_parity.py``).
"""

from __future__ import annotations

import numpy as np

from refnn.utils.unsupported import missing_name
from refnn.utils.validation import check_float

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get"]


class Regularizer:
    """A penalty ``R(W)`` with its gradient."""

    def __call__(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 · Σ|W| + l2 · Σ W²``; a term is skipped when its factor is 0."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = check_float("l1", l1, low=0.0)
        self.l2 = check_float("l2", l2, low=0.0)

    def __call__(self, w):
        value = 0.0
        if self.l1:
            value += self.l1 * float(np.sum(np.abs(w)))
        if self.l2:
            value += self.l2 * float(np.sum(np.square(w)))
        return value

    def gradient(self, w):
        grad = np.zeros_like(w)
        if self.l1:
            grad += self.l1 * np.sign(w)
        if self.l2:
            grad += (2.0 * self.l2) * w
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 · Σ|W|`` (Keras default factor 0.01). The gradient at W = 0 is 0, as ``sign(0)``."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1, l2=0.0)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 · Σ W²`` (Keras default factor 0.01), gradient ``2·l2·W``."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l1=0.0, l2=l2)

    def get_config(self):
        return {"l2": self.l2}


_NAMES = {"l1": L1, "l2": L2, "l1l2": L1L2}


#: Keras's lower-case names of the same classes: ``keras.regularizers.l2(1e-4)`` is ``L2(1e-4)``
l1, l2, l1_l2 = L1, L2, L1L2


def get(identifier, argument: str = "regularizer") -> Regularizer | None:
    """Return a regularizer from ``None``, a Keras string name or an instance."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _NAMES:
        return _NAMES[identifier.lower()]()
    raise ValueError(
        f"Unknown regularizer. `{argument}` must be one of {sorted(_NAMES)}, a Regularizer "
        f"instance or None. Received: {argument}={identifier!r}"
    )


__getattr__ = missing_name("refnn.regularizers", "L1, L2, L1L2 (l1, l2, l1_l2) and Regularizer")

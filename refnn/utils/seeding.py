"""``set_random_seed``: one call makes a whole script repeatable, as ``keras.utils.set_random_seed``.

Keras seeds Python's ``random``, NumPy's global generator and its backend. refnn does the first
two the same way — so data a script draws with ``np.random`` after the call is the same under
``import keras`` and ``import refnn as keras`` — and, for its own randomness, keeps a generator
that gives every model created without ``seed=`` a seed of its own: the first model after
``set_random_seed(s)`` always gets the same initial weights, dropout masks and shuffling, the
second another fixed set. (Keras's backend draws differ from refnn's: equal seeds do not give
equal weights across the two — copy the weights for that.)
"""

from __future__ import annotations

import numbers
import random

import numpy as np

__all__ = ["set_random_seed", "next_model_seed"]

_MODEL_SEEDS: np.random.Generator | None = None


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and refnn's model seeds with ``seed``."""
    global _MODEL_SEEDS
    # NumPy's global generator takes 32-bit seeds, as in Keras; None (check_seed's fresh entropy) is no seed here
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"`seed` must be an integer in [0, 2**32). Received: seed={seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    _MODEL_SEEDS = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))


def next_model_seed() -> int | None:
    """The seed of the next model created without one: ``None`` (fresh entropy) until
    ``set_random_seed`` is called, then the next draw of its generator."""
    if _MODEL_SEEDS is None:
        return None
    return int(_MODEL_SEEDS.integers(0, 2**63 - 1))

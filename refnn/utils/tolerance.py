"""How agreement is measured: the relative error of a tensor, and the tolerance contract.

Every comparison in refnn — its tests, ``keras_bridge.compare``, the reports of ``comparisons``
and the students' checker — measures a tensor ``a`` against a reference ``b`` with one number::

    relative_error(a, b) = max|a − b| / max(max|b|, 1e-300)

the worst absolute deviation against the reference tensor's own scale. Element-wise ratios would
be dominated by entries that are zero up to cancellation (a bias gradient summing to 1e-17, or a
finite-difference estimate carrying the O(h²) error of the large entries).

Edge cases, decided once here:

* the shapes must be equal (``ValueError`` naming both shapes otherwise): comparing a (3, 4) with
  a (4, 3) tensor is a bug in the comparison, not a large error;
* empty tensors agree (0.0);
* entries equal on both sides agree, including NaN against NaN and ``inf`` against ``inf`` of the
  same sign (a diverged run reproduced exactly is a match); a NaN or ``inf`` on one side only
  makes the error ``inf``;
* the scale ``max|b|`` is taken over the finite entries of ``b``.

``TOLERANCES`` is the contract the parity tests and ``keras_bridge.compare`` assert (see
``docs/tolerances.md`` for how each bound was chosen).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["TINY", "TOLERANCES", "FINITE_DIFFERENCE_RTOL", "relative_error", "max_abs_difference"]

#: the floor of the scale in ``relative_error`` (an all-zero reference still divides)
TINY = 1e-300

#: the tolerance contract: max relative error per kind of comparison and dtype
TOLERANCES = {
    "forward": {"float64": 1e-12, "float32": 1e-6},     # forward outputs, loss values
    "gradients": {"float64": 1e-10, "float32": 1e-5},   # per-layer ∂E/∂kernel, ∂E/∂bias, ∂E/∂X
    "optimizer": {"float64": 1e-10, "float32": 1e-5},   # 100-step optimizer trajectories
    "training": {"float64": 1e-8, "float32": 1e-4},     # fit curves over 20 epochs, final weights
}

#: analytic gradients against central finite differences, float64 (refnn alone)
FINITE_DIFFERENCE_RTOL = 1e-6


def _pair(mine, reference) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(mine, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"Cannot compare tensors of different shapes: {a.shape} vs reference {b.shape}")
    return a, b


def _deviation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``|a − b|`` with equal entries (NaN = NaN, inf = inf) at 0 and one-sided NaN/inf at inf."""
    with np.errstate(invalid="ignore"):
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        diff = np.abs(a - b)
    return np.where(same, 0.0, np.where(np.isnan(diff), np.inf, diff))


def max_abs_difference(mine, reference) -> float:
    """``max|mine − reference|`` with the edge cases of ``relative_error``."""
    a, b = _pair(mine, reference)
    return float(np.max(_deviation(a, b))) if a.size else 0.0


def relative_error(mine, reference) -> float:
    """``max|mine − reference| / max(max|reference|, TINY)`` (see the module docstring for NaN,
    ``inf``, empty and shape behaviour)."""
    a, b = _pair(mine, reference)
    if a.size == 0:
        return 0.0
    worst = float(np.max(_deviation(a, b)))
    if worst == 0.0:
        return 0.0
    finite = np.abs(b[np.isfinite(b)])
    scale = float(finite.max()) if finite.size else 0.0
    return math.inf if math.isinf(worst) else worst / max(scale, TINY)

"""Shared test configuration: the tolerance contract and the named comparison helper.

Relative error of a tensor ``a`` against a reference ``b`` is ``max|a − b| / max(max|b|, TINY)``
(``refnn.utils.gradcheck.relative_error``):
the worst absolute deviation measured against the tensor's own scale. (Element-wise ratios are
meaningless for entries that are zero up to cancellation, e.g. a bias gradient that sums to 1e-17.)
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from refnn.utils.gradcheck import relative_error  # noqa: F401 (re-exported for the tests)

TINY = 1e-300

# ---- the tolerance contract (DESIGN.md), max relative error ------------------------------------
FORWARD_RTOL = {"float64": 1e-12, "float32": 1e-6}  # forward outputs, loss values
GRADIENT_RTOL = {"float64": 1e-10, "float32": 1e-5}  # per-layer gradients: kernel, bias, dX
OPTIMIZER_RTOL = {"float64": 1e-10, "float32": 1e-5}  # 100-step optimizer trajectories
FIT_RTOL = {"float64": 1e-8, "float32": 1e-4}  # fit curves over 20 epochs, final weights
FINITE_DIFF_RTOL = 1e-6  # finite differences vs analytic gradients, float64


def assert_named_close(mine: dict, theirs: dict, rtol: float, what: str = "") -> dict:
    """Compare named quantities in order; fail on the first that disagrees.

    The message names the failing quantity and the one before it and prints both sides
    ("mine vs theirs"), so a divergence points at the first layer that breaks.

    Returns:
        ``{name: relative error}`` for every quantity.
    """
    errors = {}
    previous = None
    try:
        return _compare_in_order(mine, theirs, rtol, what, errors, previous)
    finally:
        _record(what, errors)


def _record(what: str, errors: dict) -> None:
    """With ``REFNN_RECORD_ERRORS=path``, append the measured errors as JSON lines (for reports)."""
    path = os.environ.get("REFNN_RECORD_ERRORS")
    if path and errors:
        with open(path, "a") as fh:
            fh.write(json.dumps({"what": what, "errors": errors}) + "\n")


def _compare_in_order(mine, theirs, rtol, what, errors, previous):
    for name, reference in theirs.items():
        if name not in mine:
            raise AssertionError(f"{what}: quantity {name!r} missing on refnn's side")
        err = relative_error(mine[name], reference)
        errors[name] = err
        if not err <= rtol:
            lines = [f"{what}: first disagreement at {name!r}: relative error {err:.3e} > {rtol:.0e}",
                     f"  mine  : {np.asarray(mine[name]).ravel()[:6]}",
                     f"  theirs: {np.asarray(reference).ravel()[:6]}"]
            if previous is not None:
                lines.append(f"  (previous quantity {previous!r} agreed: {errors[previous]:.3e})")
            raise AssertionError("\n".join(lines))
        previous = name
    return errors


@pytest.fixture
def rng():
    return np.random.default_rng(1234)

"""Shared test helpers: the named comparison that reports the first disagreement, and the
session's quick report.

The tolerance contract and the relative error live in the library (``refnn.utils.tolerance``,
``docs/tolerances.md``); the tests import them from there.

``quick_report``: ``refnn-compare --quick`` run once per test session — every lesson, then every
parity study — shared by the tests of the report (``tests/keras/test_comparisons.py``), of the
lessons and of the page in a browser (``tests/browser``). It needs TensorFlow, so it is imported
only by the tests that ask for it (``tests/unit`` runs with NumPy alone).
"""

from __future__ import annotations

import contextlib
import io
import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings


from refnn.utils.tolerance import relative_error


# Property tests (tests/unit/test_properties.py). "ci", the default: the same examples every run
# (derandomised, no example database), no per-example deadline (CI machines vary), the
# reproducing blob printed on a failure. "explore": fresh random examples, ten times as many.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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


@pytest.fixture(scope="session")
def quick_report(tmp_path_factory):
    """``{"report", "out", "stdout", "stderr", "sections": {key: Section}}`` of one quick run."""
    pytest.importorskip("tensorflow", reason="the report computes the Keras side live: TensorFlow is needed")
    from comparisons import cli

    out = tmp_path_factory.mktemp("report")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr):
        report = cli.run(["--quick", "--out", str(out)], stream=stdout)
    return {"report": report, "out": out, "stdout": stdout.getvalue(), "stderr": stderr.getvalue(),
            "sections": {s.key: s for s in report.sections}}

"""Fixtures for the parity suite: Keras in float64 or float32, restored afterwards.

The whole folder needs TensorFlow: on a NumPy-only machine it is skipped (``pytest tests/unit``
and plain ``pytest`` still run everything else).
"""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

pytest.importorskip("tensorflow", reason="the parity suite computes the Keras side live: TensorFlow is needed")
keras = pytest.importorskip("keras")


def _set_floatx(dtype: str) -> None:
    # Keras caches its global dtype policy the first time a layer is built (from the floatx of
    # that moment); set_floatx alone would leave every later layer in the first test's dtype.
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)


@pytest.fixture(params=["float64", "float32"])
def floatx(request):
    """Run the test with Keras's floatx set *before* any Keras object is created."""
    _set_floatx(request.param)
    keras.utils.set_random_seed(0)
    yield request.param
    _set_floatx("float32")


@pytest.fixture
def float64():
    _set_floatx("float64")
    keras.utils.set_random_seed(0)
    yield "float64"
    _set_floatx("float32")

"""Fixtures for the parity suite: Keras in float64 or float32, restored afterwards."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(params=["float64", "float32"])
def floatx(request):
    """Run the test with Keras's floatx set *before* any Keras object is created."""
    keras.config.set_floatx(request.param)
    keras.utils.set_random_seed(0)
    yield request.param
    keras.config.set_floatx("float32")


@pytest.fixture
def float64():
    keras.config.set_floatx("float64")
    keras.utils.set_random_seed(0)
    yield "float64"
    keras.config.set_floatx("float32")

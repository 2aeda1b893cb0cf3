"""Finite differences and the relative error every comparison uses."""

import math

import numpy as np
import pytest

from refnn.utils.gradcheck import numerical_gradient
from refnn.utils.tolerance import TOLERANCES, max_abs_difference, relative_error


def test_numerical_gradient_of_a_non_contiguous_view():
    a = np.arange(12.0).reshape(3, 4)
    view = a[:, ::2]  # not contiguous
    grad = numerical_gradient(lambda: float(np.sum(a ** 2)), view)
    np.testing.assert_allclose(grad, 2 * a[:, ::2], rtol=1e-8)


def test_relative_error_is_the_worst_deviation_against_the_reference_scale():
    assert relative_error([1.0, 2.0, 1e-17], [1.0, 2.5, 0.0]) == pytest.approx(0.5 / 2.5)
    assert relative_error([0.0], [0.0]) == 0.0 and relative_error([], []) == 0.0
    assert relative_error([1e-300], [0.0]) == pytest.approx(1.0)  # the scale's floor is 1e-300


def test_nan_and_inf_agree_only_in_the_same_place():
    assert relative_error([np.nan, 1.0], [np.nan, 1.0]) == 0.0
    assert relative_error([np.inf, 1.0], [np.inf, 2.0]) == pytest.approx(0.5)  # scale: finite entries
    assert relative_error([np.nan], [1.0]) == math.inf
    assert relative_error([1.0], [np.nan]) == math.inf
    assert relative_error([np.inf], [-np.inf]) == math.inf
    assert max_abs_difference([np.nan, 3.0], [np.nan, 1.0]) == 2.0


def test_shapes_must_match():
    with pytest.raises(ValueError, match=r"different shapes: \(2,\) vs reference \(1, 2\)"):
        relative_error([1.0, 2.0], [[1.0, 2.0]])


def test_the_contract_is_stricter_in_float64():
    for kind, bounds in TOLERANCES.items():
        assert bounds["float64"] < bounds["float32"], kind

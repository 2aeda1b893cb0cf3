"""Central finite differences against analytic gradients.

``∂E/∂w_i ≈ (E(w + h e_i) − E(w − h e_i)) / 2h`` for every entry of the packed parameter vector
(and of the input, for ``dE/dX``). Truncation error is O(h²): with h = 1e-6 in float64 the relative
error of a smooth loss is ~1e-8, well inside the 1e-6 contract. Errors are ``relative_error``
(``refnn.utils.tolerance``): the worst deviation against the reference tensor's own scale.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from refnn.utils.packing import ParamPacker
from refnn.utils.tolerance import relative_error

__all__ = ["numerical_gradient", "model_gradients", "check_model_gradients", "check_layer_gradients"]


def numerical_gradient(f: Callable[[], float], array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of ``f()`` with respect to ``array``, which is perturbed in place
    (and restored). ``array`` may be any writable view, contiguous or not."""
    grad = np.zeros(array.shape, dtype=np.float64)
    for index in np.ndindex(array.shape):
        old = array[index]
        array[index] = old + h
        plus = f()
        array[index] = old - h
        minus = f()
        array[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def model_gradients(model, x, y, h: float = 1e-6) -> tuple[float, dict, dict]:
    """``(loss, analytic, numeric)``: ``model.loss_and_gradients`` and central differences of the
    loss, both ``{path: gradient}``. The model's parameters are restored afterwards.

    The model must be float64 and deterministic (dropout off or a ``fixed_mask`` set).
    """
    loss, grads = model.loss_and_gradients(x, y)
    params = model.params
    packer = ParamPacker(params)
    w = packer.pack(params)

    def loss_at() -> float:
        packer.assign(params, w)
        return model.loss_and_gradients(x, y)[0]

    numeric = numerical_gradient(loss_at, w, h)
    packer.assign(params, w)
    return loss, grads, packer.unpack(numeric)


def check_model_gradients(model, x, y, h: float = 1e-6) -> dict[str, float]:
    """Relative error of ``model.loss_and_gradients`` against finite differences, per path
    (see ``model_gradients``)."""
    _, grads, numeric = model_gradients(model, x, y, h)
    return {path: relative_error(grads[path], numeric[path]) for path in numeric}


def check_layer_gradients(layer, x: np.ndarray, h: float = 1e-6, seed: int = 0) -> dict[str, float]:
    """Relative errors of one layer's ``backward`` (``dX`` and every parameter) for the scalar
    ``E = Σ Y ⊙ R`` with a fixed random ``R``, so ``dY = R``."""
    rng = np.random.default_rng(seed)
    r = rng.standard_normal(layer.forward(x, training=True).shape)

    def energy() -> float:
        return float(np.sum(layer.forward(x, training=True) * r))

    layer.forward(x, training=True)
    dx = layer.backward(r)
    errors = {"dX": relative_error(dx, numerical_gradient(energy, x, h))}
    for name, param in layer.params.items():
        errors[name] = relative_error(layer.grads[name], numerical_gradient(energy, param, h))
    return errors

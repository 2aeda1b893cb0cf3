"""The operations of a computation graph, each with its vector–Jacobian product.

Every function takes nodes (numbers and arrays become constants), computes the forward value and
returns a new ``Node`` whose VJP maps ``ḡ = ∂L/∂out`` to ``∂L/∂input`` for each input. These
derivations are written here, on their own, and never call refnn's layers, activations or losses:
the graph is a third, independent way to the gradient, next to the layers' ``backward`` and finite
differences.

=============== ==================================== =============================================
op              forward                              vector–Jacobian product (ḡ = ∂L/∂out)
=============== ==================================== =============================================
add             ``a + b`` (broadcast)                ``ā = ḡ``, ``b̄ = ḡ`` (summed over broadcast axes)
subtract        ``a − b``                            ``ā = ḡ``, ``b̄ = −ḡ``
multiply        ``a ⊙ b``                            ``ā = ḡ ⊙ b``, ``b̄ = ḡ ⊙ a``
divide          ``a / b``                            ``ā = ḡ / b``, ``b̄ = −ḡ ⊙ a / b²``
power           ``a^p`` (p a number)                 ``ā = ḡ ⊙ p a^(p−1)``
exponential     ``bᵃ`` (b > 0 a number)              ``ā = ḡ ⊙ bᵃ ln b``
matmul          ``A B``                              ``Ā = Ḡ Bᵀ``, ``B̄ = Aᵀ Ḡ``
transpose       ``Aᵀ``                               ``Ā = Ḡᵀ``
sum, mean       over ``axis``                        ``ḡ`` spread back (÷ count for the mean)
exp, log        ``eᵃ``, ``ln a``                     ``ḡ ⊙ eᵃ``, ``ḡ / a``
relu            ``max(a, 0)``                        ``ḡ ⊙ [a > 0]``
sigmoid         ``σ(a) = 1/(1 + e^{−a})``            ``ḡ ⊙ σ(a)(1 − σ(a))``
tanh            ``tanh a``                           ``ḡ ⊙ (1 − tanh² a)``
softmax         ``s_i = e^{a_i}/Σ_j e^{a_j}`` (rows) ``ā = J ḡ`` with ``J = diag(s) − s sᵀ`` per row
dropout         ``a ⊙ m/(1 − rate)``, m ∈ {0, 1}     ``ḡ ⊙ m/(1 − rate)``
clip            ``min(max(a, lo), hi)``              ``ḡ`` where ``lo ≤ a ≤ hi``, else 0
=============== ==================================== =============================================

The softmax VJP builds each row's Jacobian explicitly — the matrix the lecture writes down — rather
than the contracted form ``s ⊙ (ḡ − Σ ḡ s)`` the layers use.
"""

from __future__ import annotations

import numpy as np

from refnn.graph.node import OPERATIONS, Node, as_node
from refnn.utils.validation import check_float

__all__ = [
    "add", "subtract", "multiply", "divide", "negative", "power", "exponential", "matmul", "transpose", "sum",
    "mean",
    "exp", "log", "relu", "sigmoid", "tanh", "softmax", "dropout", "clip", "softmax_jacobian",
]


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``: an input
    used once per row (a bias) receives the sum of the rows' gradients."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def _binary(op: str, a, b, forward, vjp) -> Node:
    a, b = as_node(a), as_node(b)
    return Node(forward(a.value, b.value), op, (a, b), vjp=lambda g: vjp(g, a.value, b.value))


def add(a, b) -> Node:
    """``a + b`` with NumPy broadcasting (``X W + B``: the bias is added to every row)."""
    return _binary("add", a, b, np.add,
                   lambda g, x, y: (unbroadcast(g, x.shape), unbroadcast(g, y.shape)))


def subtract(a, b) -> Node:
    """``a − b``."""
    return _binary("subtract", a, b, np.subtract,
                   lambda g, x, y: (unbroadcast(g, x.shape), unbroadcast(-g, y.shape)))


def multiply(a, b) -> Node:
    """``a ⊙ b``, element-wise."""
    return _binary("multiply", a, b, np.multiply,
                   lambda g, x, y: (unbroadcast(g * y, x.shape), unbroadcast(g * x, y.shape)))


def divide(a, b) -> Node:
    """``a / b``, element-wise."""
    return _binary("divide", a, b, np.divide,
                   lambda g, x, y: (unbroadcast(g / y, x.shape), unbroadcast(-g * x / (y * y), y.shape)))


def negative(a) -> Node:
    """``−a``."""
    a = as_node(a)
    return Node(-a.value, "negative", (a,), vjp=lambda g: (-g,))


def power(a, exponent) -> Node:
    """``a^p`` for a number ``p`` (``a ** 2``); ``∂/∂a = p a^(p−1)`` (0 for ``p = 0``)."""
    a, p = as_node(a), check_float("exponent", exponent)
    if p != int(p) and np.any(a.value < 0):
        raise ValueError(f"A negative base has no real power {p}: node {a.label!r} holds negative entries.")
    if p == 0:
        return Node(np.ones_like(a.value), "power", (a,), vjp=lambda g: (np.zeros_like(a.value),), attrs={"p": p})
    return Node(a.value ** p, "power", (a,), vjp=lambda g: (g * p * a.value ** (p - 1),), attrs={"p": p})


def exponential(base, a) -> Node:
    """``bᵃ`` for a positive number ``b`` (``2 ** a``): ``e^(a ln b)``, so ``∂/∂a = bᵃ ln b``."""
    check_float("base", base, low=0.0, low_inclusive=False)
    a = as_node(a)
    log_base = float(np.log(base))
    out = np.exp(a.value * log_base)
    return Node(out, "exponential", (a,), vjp=lambda g: (g * out * log_base,), attrs={"base": base})


def matmul(a, b) -> Node:
    """``A B`` of two 2-D arrays (``X W``: rows of inputs times the kernel)."""
    a, b = as_node(a), as_node(b)
    if a.value.ndim != 2 or b.value.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(
            f"matmul needs 2-D arrays with matching inner sizes. Received shapes {a.shape} ({a.label}) "
            f"and {b.shape} ({b.label})")
    return Node(a.value @ b.value, "matmul", (a, b), vjp=lambda g: (g @ b.value.T, a.value.T @ g))


def transpose(a) -> Node:
    """``Aᵀ``."""
    a = as_node(a)
    return Node(a.value.T, "transpose", (a,), vjp=lambda g: (g.T,))


def _reduced_shape(shape: tuple, axis) -> tuple:
    axes = range(len(shape)) if axis is None else [ax % len(shape) for ax in np.atleast_1d(axis)]
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


def sum(a, axis=None, keepdims: bool = False) -> Node:  # noqa: A001 (the lecture's name)
    """``Σ a`` over ``axis`` (all axes by default); ``dB = Σ_n dZ_n`` is ``sum(dZ, axis=0)``."""
    a = as_node(a)
    kept = _reduced_shape(a.shape, axis)
    return Node(np.sum(a.value, axis=axis, keepdims=keepdims), "sum", (a,),
                vjp=lambda g: (np.broadcast_to(np.reshape(g, kept), a.shape).copy(),),
                attrs={} if axis is None else {"axis": axis})


def mean(a, axis=None, keepdims: bool = False) -> Node:
    """The mean over ``axis`` (all axes by default): the sum divided by the number of entries."""
    a = as_node(a)
    kept = _reduced_shape(a.shape, axis)
    # entries averaged per result; an empty input has an empty gradient, whatever the scale
    count = max(a.value.size // max(int(np.prod(kept)), 1), 1)
    scale = a.value.dtype.type(1.0 / count)
    return Node(np.mean(a.value, axis=axis, keepdims=keepdims), "mean", (a,),
                vjp=lambda g: (np.broadcast_to(np.reshape(g, kept) * scale, a.shape).copy(),),
                attrs={} if axis is None else {"axis": axis})


def exp(a) -> Node:
    """``eᵃ``."""
    a = as_node(a)
    out = np.exp(a.value)
    return Node(out, "exp", (a,), vjp=lambda g: (g * out,))


def log(a) -> Node:
    """``ln a``."""
    a = as_node(a)
    return Node(np.log(a.value), "log", (a,), vjp=lambda g: (g / a.value,))


def relu(a) -> Node:
    """``max(a, 0)``; its derivative at exactly 0 is taken as 0 (TensorFlow's choice)."""
    a = as_node(a)
    return Node(np.maximum(a.value, 0), "relu", (a,), vjp=lambda g: (g * (a.value > 0),))


def sigmoid_values(x: np.ndarray) -> np.ndarray:
    """``σ(x)`` from ``e^{−|x|} ≤ 1``: no overflow for large ``|x|`` (the loss ops use it too)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid(a) -> Node:
    """``σ(a) = 1/(1 + e^{−a})``, evaluated without overflow for large ``|a|``."""
    a = as_node(a)
    out = sigmoid_values(a.value)
    return Node(out, "sigmoid", (a,), vjp=lambda g: (g * out * (1 - out),))


def tanh(a) -> Node:
    """``tanh a``."""
    a = as_node(a)
    out = np.tanh(a.value)
    return Node(out, "tanh", (a,), vjp=lambda g: (g * (1 - out * out),))


def softmax_jacobian(s: np.ndarray) -> np.ndarray:
    """``J[n] = diag(s_n) − s_n s_nᵀ``, the softmax's Jacobian ``∂s_i/∂a_j = s_i(δ_ij − s_j)`` for
    each row of the probabilities ``s`` (shape ``(N, K)`` → ``(N, K, K)``)."""
    return np.einsum("ni,ij->nij", s, np.eye(s.shape[-1], dtype=s.dtype)) - np.einsum("ni,nj->nij", s, s)


def logsumexp_and_softmax(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(log Σ_j e^{z_j}, softmax(z))`` of each row of a 2-D array, from one shifted exponential
    (the row maximum is subtracted first: the same values, no overflow; the loss ops use it too)."""
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    total = e.sum(axis=1, keepdims=True)
    return (m + np.log(total))[:, 0], e / total


def softmax(a) -> Node:
    """``s_i = e^{a_i} / Σ_j e^{a_j}`` over the rows of a 2-D array."""
    a = as_node(a)
    if a.value.ndim != 2:
        raise ValueError(f"softmax acts on the rows of a 2-D array. Received shape {a.shape} ({a.label})")
    out = logsumexp_and_softmax(a.value)[1]
    # J is symmetric, so Jᵀḡ = J ḡ
    return Node(out, "softmax", (a,), vjp=lambda g: (np.einsum("nij,nj->ni", softmax_jacobian(out), g),))


def dropout(a, keep, rate: float) -> Node:
    """Inverted dropout with a given keep mask ``m`` (1 = kept, 0 = dropped): ``a ⊙ m/(1 − rate)``."""
    a = as_node(a)
    keep = np.asarray(keep)
    if keep.shape != a.shape:
        raise ValueError(f"The dropout mask must have the input's shape {a.shape}. Received: keep.shape={keep.shape}")
    if keep.dtype.kind not in "biuf" or not np.all((keep == 0) | (keep == 1)):
        raise ValueError(f"The dropout mask must hold 0 (dropped) and 1 (kept) only. Received: keep={keep!r}")
    check_float("rate", rate, low=0.0, high=1.0, high_inclusive=False)  # rate 1 leaves nothing to scale
    scaled = keep.astype(a.value.dtype) * a.value.dtype.type(1.0 / (1.0 - rate))
    return Node(a.value * scaled, "dropout", (a,), vjp=lambda g: (g * scaled,), attrs={"rate": rate})


def clip(a, low: float, high: float) -> Node:
    """``min(max(a, low), high)``; the gradient passes where ``low ≤ a ≤ high`` (bounds included,
    as TensorFlow's clip) and is 0 outside."""
    a = as_node(a)
    inside = (a.value >= low) & (a.value <= high)
    return Node(np.clip(a.value, low, high), "clip", (a,), vjp=lambda g: (g * inside,),
                attrs={"low": low, "high": high})


OPERATIONS.update(add=add, subtract=subtract, multiply=multiply, divide=divide, negative=negative, power=power,
                  exponential=exponential,
                  matmul=matmul, transpose=transpose, sum=sum, mean=mean, exp=exp, log=log, relu=relu,
                  sigmoid=sigmoid, tanh=tanh, softmax=softmax)

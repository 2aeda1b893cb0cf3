"""Loss and penalty operations of a computation graph, with their vector–Jacobian products.

Each loss op maps predictions ``P`` (N, D) — probabilities, or logits ``Z`` when computed from
logits — and targets ``T`` to the per-sample values ``ℓ`` (N,); the batch loss is then an ordinary
``mean`` (Keras's ``"sum_over_batch_size"``: ``Σ_n ℓ_n / N``) or ``sum`` node. The VJPs below take
``ḡ_n = ∂L/∂ℓ_n`` and are derived here from the formulas (not taken from ``refnn.losses``); targets
are data and get no gradient.

============================== ================================= =====================================
op                             ``ℓ_n``                           ``∂L/∂P_nd`` (times ``ḡ_n``)
============================== ================================= =====================================
mean_squared_error             ``(1/D) Σ_d (P − T)²``            ``2(P − T)/D``
mean_absolute_error            ``(1/D) Σ_d |P − T|``             ``sign(P − T)/D``
sum_squared_error              ``½ Σ_d (P − T)²``                ``P − T``
binary_crossentropy            ``−(1/D) Σ_d [T ln c + (1−T) ln(1−c)]``, ``c = clip(P, ε, 1−ε)``
                                                                 ``(c − T)/(c(1 − c) D)`` inside the clip
binary_crossentropy, logits    ``(1/D) Σ_d [max(Z,0) − Z T + ln(1 + e^{−|Z|})]``  ``(σ(Z) − T)/D``
categorical_crossentropy       ``−Σ_d T ln c``, ``c = clip(P/ΣP, ε, 1−ε)``  through the renormalisation
categorical_crossentropy, logits ``Σ_d T (logsumexp(Z) − Z)``   ``softmax(Z) Σ_d T − T``
sparse_categorical_crossentropy ``ln Σc − ln c_y``, ``c = clip(P, ε, 1−ε)``  ``1/Σc − [d = y]/c_d`` inside
sparse ..., logits             ``logsumexp(Z) − Z_y``            ``softmax(Z) − onehot(y)``
l1_penalty, l2_penalty         ``λ Σ|W|``, ``λ Σ W²``            ``λ sign(W)``, ``2λ W``
============================== ================================= =====================================

The clip's derivative is 1 at the bounds and 0 outside them; ε = 1e-7 (Keras's ``epsilon()``), its
bounds rounded to the working dtype.
"""

from __future__ import annotations

import numpy as np

from refnn.graph.node import Node, as_node
from refnn.graph.ops import logsumexp_and_softmax, sigmoid_values

__all__ = [
    "EPSILON", "mean_squared_error", "mean_absolute_error", "sum_squared_error", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "l1_penalty", "l2_penalty",
]

EPSILON = 1e-7


def _loss_node(op: str, p: Node, targets: Node, values: np.ndarray, grad_per_sample: np.ndarray,
               attrs: dict) -> Node:
    """A per-sample loss node; ``grad_per_sample[n] = ∂ℓ_n/∂P_n`` scaled by ``ḡ_n`` in the VJP."""
    return Node(values, op, (p, targets), vjp=lambda g: (g[:, None] * grad_per_sample, None), attrs=attrs)


def _pair(y_true, y_pred, op: str) -> tuple[Node, Node]:
    t, p = as_node(y_true), as_node(y_pred)
    if p.value.ndim != 2 or t.shape != p.shape:
        raise ValueError(f"{op}: the targets must have the predictions' shape (N, D). Received: "
                         f"y_true.shape={t.shape}, y_pred.shape={p.shape}")
    return t, p


def _bounds(dtype) -> tuple:
    return np.asarray(EPSILON, dtype), np.asarray(1 - EPSILON, dtype)


def mean_squared_error(y_true, y_pred) -> Node:
    """``ℓ_n = (1/D) Σ_d (P_nd − T_nd)²``."""
    t, p = _pair(y_true, y_pred, "mean_squared_error")
    e = p.value - t.value
    d = p.shape[1]
    return _loss_node("mean_squared_error", p, t, np.mean(e ** 2, axis=1), 2 * e / d, {})


def mean_absolute_error(y_true, y_pred) -> Node:
    """``ℓ_n = (1/D) Σ_d |P_nd − T_nd|``; the derivative at ``P = T`` is taken as 0."""
    t, p = _pair(y_true, y_pred, "mean_absolute_error")
    e = p.value - t.value
    return _loss_node("mean_absolute_error", p, t, np.mean(np.abs(e), axis=1), np.sign(e) / p.shape[1], {})


def sum_squared_error(y_true, y_pred) -> Node:
    """``ℓ_n = ½ Σ_d (P_nd − T_nd)²`` — the classic error of Rprop, Quickprop and LM."""
    t, p = _pair(y_true, y_pred, "sum_squared_error")
    e = p.value - t.value
    return _loss_node("sum_squared_error", p, t, 0.5 * np.sum(e ** 2, axis=1), e, {})


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0) -> Node:
    """Binary crossentropy averaged over the last axis (see the module table)."""
    t, p = _pair(y_true, y_pred, "binary_crossentropy")
    target = t.value * (1 - label_smoothing) + 0.5 * label_smoothing
    d = p.shape[1]
    if from_logits:
        z = p.value
        elem = np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))  # e^{−|z|} ≤ 1: no overflow
        grad = (sigmoid_values(z) - target) / d
    else:
        lo, hi = _bounds(p.value.dtype)
        c = np.clip(p.value, lo, hi)
        elem = -(target * np.log(c) + (1 - target) * np.log(1 - c))
        grad = (c - target) / (c * (1 - c) * d) * ((p.value >= lo) & (p.value <= hi))
    attrs = {"from_logits": from_logits, **({"label_smoothing": label_smoothing} if label_smoothing else {})}
    return _loss_node("binary_crossentropy", p, t, np.mean(elem, axis=1), grad.astype(p.value.dtype), attrs)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0) -> Node:
    """Categorical crossentropy of one-hot (or soft) targets.

    On probabilities (Keras): ``q = P/ΣP``, ``c = clip(q)``, ``ℓ = −Σ T ln c``. With ``q̄ = −T/c``
    (0 where clipped), the renormalisation ``∂q_j/∂P_k = δ_jk/S − P_j/S²`` gives
    ``∂ℓ/∂P_k = q̄_k/S − Σ_j q̄_j P_j / S²``.
    """
    t, p = _pair(y_true, y_pred, "categorical_crossentropy")
    k = p.shape[1]
    target = t.value * (1 - label_smoothing) + label_smoothing / k
    if from_logits:
        lse, s = logsumexp_and_softmax(p.value)
        values = np.sum(target * (lse[:, None] - p.value), axis=1)
        grad = s * target.sum(axis=1, keepdims=True) - target
    else:
        total = p.value.sum(axis=1, keepdims=True)
        q = p.value / total
        lo, hi = _bounds(p.value.dtype)
        c = np.clip(q, lo, hi)
        values = -np.sum(target * np.log(c), axis=1)
        q_bar = -target / c * ((q >= lo) & (q <= hi))
        grad = q_bar / total - np.sum(q_bar * p.value, axis=1, keepdims=True) / total ** 2
    attrs = {"from_logits": from_logits, **({"label_smoothing": label_smoothing} if label_smoothing else {})}
    return _loss_node("categorical_crossentropy", p, t, values, grad.astype(p.value.dtype), attrs)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> Node:
    """Categorical crossentropy with integer class ids ``y`` (shape (N,)) as targets."""
    t, p = as_node(y_true), as_node(y_pred)
    ids = t.value.reshape(-1)
    if p.value.ndim != 2 or ids.shape[0] != p.shape[0] or not np.all(np.isfinite(ids)) \
            or np.any(ids != np.round(ids)) or np.any((ids < 0) | (ids >= p.shape[1])):
        raise ValueError("sparse_categorical_crossentropy needs one integer class id in [0, classes) per row of "
                         f"y_pred. Received: y_true={t.value!r}, y_pred.shape={p.shape}")
    labels = ids.astype(np.int64)
    rows = np.arange(p.shape[0])
    onehot = np.zeros_like(p.value)
    onehot[rows, labels] = 1
    if from_logits:
        lse, s = logsumexp_and_softmax(p.value)
        values, grad = lse - p.value[rows, labels], s - onehot
    else:
        lo, hi = _bounds(p.value.dtype)
        c = np.clip(p.value, lo, hi)
        total = c.sum(axis=1, keepdims=True)
        values = np.log(total[:, 0]) - np.log(c[rows, labels])
        grad = (1 / total - onehot / c) * ((p.value >= lo) & (p.value <= hi))
    return _loss_node("sparse_categorical_crossentropy", p, t, values, grad.astype(p.value.dtype),
                      {"from_logits": from_logits})


def l1_penalty(w, factor: float) -> Node:
    """``λ Σ|W|``; its derivative at ``W = 0`` is taken as 0."""
    w = as_node(w)
    return Node(np.asarray(factor * np.sum(np.abs(w.value)), w.value.dtype), "l1_penalty", (w,),
                vjp=lambda g: (g * factor * np.sign(w.value),), attrs={"l1": factor})


def l2_penalty(w, factor: float) -> Node:
    """``λ Σ W²`` (Keras's form: no ½)."""
    w = as_node(w)
    return Node(np.asarray(factor * np.sum(w.value ** 2), w.value.dtype), "l2_penalty", (w,),
                vjp=lambda g: (g * 2 * factor * w.value,), attrs={"l2": factor})

"""The checks of the layer pieces: ``Dense`` and the activations ``Sigmoid``, ``Tanh``, ``Softmax``.

A backward pass is checked through a scalar with a known gradient: ``E = Σ Y ⊙ R`` for a fixed
random ``R``, so ``∂E/∂Y = R`` is what ``backward`` receives, and every gradient it returns or
stores is compared with

* central finite differences of ``E`` computed with the student's own ``forward`` (a fresh object
  for every evaluation, so that nothing the student caches can leak between them), float64,
  ``h = 1e-6``: ``(E(w + h) − E(w − h)) / 2h``;
* refnn (``refnn.layers.Dense``, ``refnn.activations``);
* TensorFlow/Keras (``keras.layers.Dense``, ``keras.activations``, ``tf.GradientTape``).

Each ``*_rows`` function returns the rows of one class, in the order the table shows them.
"""

from __future__ import annotations

import numpy as np

from comparisons.labs.rows import (Mistake, Row, StudentError, as_array, attempt, call_method, shape_readings,
                                   source_of, thresholds)
from refnn import activations
from refnn.layers import Dense as RefnnDense
from refnn.utils.gradcheck import numerical_gradient

__all__ = ["DENSE_SHAPE", "dense_rows", "activation_rows"]

#: (batch, inputs, units) of the Dense layer the checker builds: no two equal, so that a
#: transposed or unsummed gradient has the wrong shape
DENSE_SHAPE = (5, 4, 3)
#: (batch, units) of the activations' input
ACTIVATION_SHAPE = (5, 4)
STEP = 1e-6  # the finite differences' h


def _numeric(energy, array: np.ndarray):
    """Central differences of ``energy()`` w.r.t. ``array``, or ``None`` when the student's forward
    fails on the way (the column then shows "—")."""
    try:
        return numerical_gradient(energy, array, STEP)
    except Exception:  # noqa: BLE001 — a failing forward was reported by its own row already
        return None


def dense_rows(cls, seed: int, keras: bool, shape=DENSE_SHAPE) -> list[Row]:
    """``Y``, ``dW``, ``dB``, ``dX`` of ``cls(W, B)`` for ``E = Σ Y ⊙ R``."""
    n, inputs, units = shape
    rng = np.random.default_rng(seed)
    X, W = rng.standard_normal((n, inputs)), rng.standard_normal((inputs, units)) / np.sqrt(inputs)
    B, R = rng.standard_normal(units), rng.standard_normal((n, units))
    mine = _student_dense(cls, W, B, X, R)
    refnn = _refnn_dense(W, B, X, R)
    references = {name: {"refnn": value} for name, value in refnn.items()}

    Wc, Bc, Xc = W.copy(), B.copy(), X.copy()  # perturbed in turn by the finite differences

    def energy() -> float:
        return float(np.sum(np.asarray(cls(Wc, Bc).forward(Xc), dtype=np.float64) * R))

    if not isinstance(mine["Y"], StudentError):
        for name, array in (("dW", Wc), ("dB", Bc), ("dX", Xc)):
            numeric = _numeric(energy, array)
            if numeric is not None:
                references[name]["finite differences"] = numeric
    if keras:
        from comparisons.labs import keras_side

        for name, value in keras_side.dense(W, B, X, R).items():
            references[name]["Keras"] = value
    mistakes = {"dB": (Mistake(R.mean(axis=0), "is the mean of dY over the batch: the bias gradient is the sum "
                                               "Σ_n dY_n"),)}
    forward = getattr(mine["Y"], "dtype", np.dtype(np.float64)).name
    return [Row("Dense", QUANTITIES[name], mine[name], references[name],
                thresholds("forward" if name == "Y" else "gradients", references[name]), mistakes.get(name, ()),
                readings=shape_readings(n), forward_precision="" if name == "Y" or forward == "float64" else forward)
            for name in ("Y", "dW", "dB", "dX")]


QUANTITIES = {"Y": "output Y", "dW": "kernel gradient dW", "dB": "bias gradient dB", "dX": "input gradient dX"}


def _student_dense(cls, W, B, X, R) -> dict:
    source = source_of(cls)
    layer = attempt("Dense", "__init__", cls, W.copy(), B.copy(), source=source, calls="Dense(W, B)")
    if isinstance(layer, StudentError):
        return dict.fromkeys(QUANTITIES, layer)
    Y = as_array("Dense.forward", "Y", call_method("Dense", layer, "forward", X.copy(), source=source,
                                                   calls="layer.forward(X)"))
    if isinstance(Y, StudentError):
        return dict.fromkeys(QUANTITIES, Y)
    dX = call_method("Dense", layer, "backward", R.copy(), source=source, calls="layer.backward(dY)")
    if isinstance(dX, StudentError):
        return {"Y": Y, "dW": dX, "dB": dX, "dX": dX}
    out = {"Y": Y, "dX": as_array("Dense.backward", "dX", dX)}
    for name in ("dW", "dB"):
        value = getattr(layer, name, None)
        out[name] = as_array("Dense.backward", f"self.{name}", value) if value is not None else StudentError(
            "error", f"Dense.backward did not set self.{name}")
    return out


def _refnn_dense(W, B, X, R) -> dict:
    layer = RefnnDense(W.shape[1])
    layer.build(W.shape[0])
    layer.params["kernel"][...] = W
    layer.params["bias"][...] = B
    Y = layer.forward(X)
    dX = layer.backward(R)
    return {"Y": Y, "dW": layer.grads["kernel"], "dB": layer.grads["bias"], "dX": dX}


#: class name → refnn/Keras activation name
ACTIVATIONS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax"}


def activation_rows(cls, seed: int, keras: bool) -> list[Row]:
    """``A = f(Z)`` and ``dZ`` of ``cls()`` for ``E = Σ A ⊙ R``."""
    piece = cls.__name__
    name = ACTIVATIONS[piece]
    rng = np.random.default_rng(seed)
    Z, R = 1.5 * rng.standard_normal(ACTIVATION_SHAPE), rng.standard_normal(ACTIVATION_SHAPE)
    reference = activations.get(name)
    A_ref = reference(Z)
    references = {"A": {"refnn": A_ref}, "dZ": {"refnn": reference.backward(Z, A_ref, R)}}
    mine = _student_activation(cls, piece, Z, R)
    if not isinstance(mine["A"], StudentError):
        Zc = Z.copy()
        numeric = _numeric(lambda: float(np.sum(np.asarray(cls().forward(Zc), dtype=np.float64) * R)), Zc)
        if numeric is not None:
            references["dZ"]["finite differences"] = numeric
    if keras:
        from comparisons.labs import keras_side

        for quantity, value in keras_side.activation(name, Z, R).items():
            references[quantity]["Keras"] = value
    forward = getattr(mine["A"], "dtype", np.dtype(np.float64)).name
    return [Row(piece, "output A = f(Z)", mine["A"], references["A"], thresholds("forward", references["A"])),
            Row(piece, "input gradient dZ", mine["dZ"], references["dZ"], thresholds("gradients", references["dZ"]),
                _activation_mistakes(name, Z, A_ref, R), forward_precision="" if forward == "float64" else forward)]


def _student_activation(cls, piece: str, Z, R) -> dict:
    source = source_of(cls)
    layer = attempt(piece, "__init__", cls, source=source, calls=f"{piece}()")
    if isinstance(layer, StudentError):
        return {"A": layer, "dZ": layer}
    A = as_array(f"{piece}.forward", "A", call_method(piece, layer, "forward", Z.copy(), source=source,
                                                      calls="layer.forward(Z)"))
    if isinstance(A, StudentError):
        return {"A": A, "dZ": A}
    dZ = call_method(piece, layer, "backward", R.copy(), source=source, calls="layer.backward(dA)")
    return {"A": A, "dZ": as_array(f"{piece}.backward", "dZ", dZ)}


def _activation_mistakes(name: str, Z, A, R) -> tuple:
    """Known wrong backward passes of the activation ``name`` at ``Z`` (output ``A``, incoming ``dA = R``)."""
    if name == "softmax":
        jacobian = "∂A_j/∂Z_i = A_j(δ_ij − A_i), so dZ = A ⊙ (dA − Σ_j dA_j A_j)"
        return (Mistake(R * A * (1 - A), "uses the diagonal shortcut f(1 − f): every output of a softmax depends "
                                         "on every input, ∂A_j/∂Z_i = A_j(δ_ij − A_i) (the full Jacobian)"),
                Mistake(R * A, f"is dA·A, the Jacobian's diagonal without its − A_i A_j terms: {jacobian}"),
                Mistake(R - np.sum(R * A, axis=1, keepdims=True), f"misses the factor A: {jacobian}"))
    if name == "sigmoid":
        return (Mistake(R * Z * (1 - Z), "uses Z where the output A = σ(Z) belongs: σ'(Z) = A(1 − A)"),
                Mistake(A * (1 - A), "misses dA: it is σ'(Z) = A(1 − A) alone, where the chain rule multiplies "
                                     "by the incoming gradient, dZ = dA ⊙ A(1 − A)"))
    return (Mistake(R * (1 - Z * Z), "uses Z where the output A = tanh Z belongs: tanh'(Z) = 1 − A²"),
            Mistake(R * (1 - A), "misses the square: tanh'(Z) = 1 − A²"),
            Mistake(1 - A * A, "misses dA: it is tanh'(Z) = 1 − A² alone, where the chain rule multiplies by the "
                               "incoming gradient, dZ = dA ⊙ (1 − A²)"))

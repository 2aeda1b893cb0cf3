"""The dense layer's forward pass and its three backward steps, worked on a 2×3 input.

One ``Dense(2)`` layer, ``E`` the mean squared error against targets ``T``, one step of gradient
descent. Every quantity is computed three ways and shown side by side:

* **refnn** — the layer's own arrays after ``model.loss_and_gradients`` (``layer.X``, ``Z``, ``Y``,
  ``dZ``, ``grads``; ``dY`` from the loss's ``gradient``; W and B after one ``fit`` step);
* **graph** — ``refnn.graph.trace`` of the same model, each value read off its node and each
  gradient off the node's ``grad`` (an independent derivation: the graph's own VJPs);
* **TensorFlow** — a ``keras.layers.Dense`` with the same weights under ``tf.GradientTape``, its
  ``keras.activations`` function and ``keras.losses.MeanSquaredError``, the update by
  ``keras.optimizers.SGD``.

The forward pass and the backward steps, as the lecture writes them::

    Z = X W + B          Y = f(Z)          E = (1/(N·D)) Σ (Y − T)²          dY = ∂E/∂Y = 2(Y − T)/(N·D)
    STEP 1  dZ = f′(Z) ⊙ dY             (softmax: dZ_n = J_nᵀ dY_n, J_n = diag(Y_n) − Y_n Y_nᵀ)
    STEP 2  dW = Xᵀ dZ
    STEP 3  dB = Σ_n dZ_n
            dX = dZ Wᵀ                   (what the layer below receives as its dY)
    update  W ← W − η dW,  B ← B − η dB
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import refnn
from refnn import graph, initializers, layers, optimizers
from refnn.utils.tolerance import TOLERANCES, relative_error
from refnn.utils.validation import check_float, check_non_negative_int

__all__ = ["ACTIVATIONS", "Quantity", "Walkthrough", "measure", "X", "T"]

#: the walk-through's input (N = 2 rows, 3 features) and targets (D = 2 outputs)
X = np.array([[1.0, 2.0, -1.0], [0.5, -1.5, 2.0]])
T = np.array([[1.0, 0.0], [0.0, 1.0]])

#: activation → STEP 1's formula
ACTIVATIONS = {
    "sigmoid": "dZ = σ′(Z) ⊙ dY = Y ⊙ (1 − Y) ⊙ dY",
    "tanh": "dZ = tanh′(Z) ⊙ dY = (1 − Y²) ⊙ dY",
    "relu": "dZ = [Z > 0] ⊙ dY",
    "linear": "dZ = dY",
    "softmax": "dZ_n = J_nᵀ dY_n,  J_n = diag(Y_n) − Y_n Y_nᵀ",
}


@dataclass
class Quantity:
    """One row of the walk-through: a quantity, its formula and its three values."""

    symbol: str
    formula: str
    refnn: np.ndarray
    graph: np.ndarray
    tensorflow: np.ndarray | None
    step: str = ""

    @property
    def error(self) -> float:
        """The larger relative error of the graph's and TensorFlow's values against refnn's."""
        errors = [relative_error(self.graph, self.refnn)]
        if self.tensorflow is not None:
            errors.append(relative_error(self.tensorflow, self.refnn))
        return max(errors)


@dataclass
class Walkthrough:
    """The measured walk-through: its rows in the lecture's order and the traced graph."""

    activation: str
    learning_rate: float
    quantities: list[Quantity]
    graph: graph.Graph = field(repr=False)
    rtol: float = TOLERANCES["gradients"]["float64"]

    def __getitem__(self, symbol: str) -> Quantity:
        for quantity in self.quantities:
            if quantity.symbol == symbol:
                return quantity
        raise KeyError(f"No quantity {symbol!r}; the walk-through has {[q.symbol for q in self.quantities]}")

    @property
    def passed(self) -> bool:
        return all(q.error <= self.rtol for q in self.quantities)

    @property
    def max_error(self) -> float:
        return max(q.error for q in self.quantities)


def _model(activation: str, seed: int, learning_rate: float):
    model = refnn.Sequential([layers.Dense(2, activation=activation, name="dense",
                                           bias_initializer=initializers.RandomNormal(0.0, 0.5, seed=seed + 1))],
                             input_dim=3, seed=seed)
    model.compile(optimizer=optimizers.SGD(learning_rate), loss="mse")
    return model


def _refnn_side(model) -> dict:
    layer = model.layers[0]
    loss, grads = model.loss_and_gradients(X, T, training=False)
    values = {"X": layer.X.copy(), "W": layer.params["kernel"].copy(), "B": layer.params["bias"].copy(),
              "Z": layer.Z.copy(), "Y": layer.Y.copy(), "E": np.asarray(loss),
              "dY": model.loss.gradient(T, layer.Y), "dZ": layer.dZ.copy(),
              "dW": grads["dense/kernel"], "dB": grads["dense/bias"], "dX": model.input_gradients["dense"].copy()}
    model.fit(X, T, epochs=1, batch_size=len(X), shuffle=False, verbose=0)  # one step of gradient descent
    values["W after"], values["B after"] = layer.params["kernel"].copy(), layer.params["bias"].copy()
    return values


def _graph_side(g: graph.Graph, learning_rate: float) -> dict:
    grads = g.grads
    y = g["dense/Y"]
    return {"X": g["x"].value, "W": g["dense/kernel"].value, "B": g["dense/bias"].value, "Z": g["dense/Z"].value,
            "Y": y.value, "E": g["loss"].value, "dY": y.grad, "dZ": g["dense/Z"].grad,
            "dW": grads["dense/kernel"], "dB": grads["dense/bias"], "dX": g["x"].grad,
            "W after": g["dense/kernel"].value - learning_rate * grads["dense/kernel"],
            "B after": g["dense/bias"].value - learning_rate * grads["dense/bias"]}


def _tensorflow_side(kernel, bias, activation: str, learning_rate: float) -> dict:
    import keras
    import tensorflow as tf

    from keras_bridge.dtypes import floatx

    with floatx("float64"):
        dense = keras.layers.Dense(2, dtype="float64")
        dense.build((None, 3))
        dense.set_weights([kernel, bias])
        x = tf.constant(X)
        kernel_read, bias_read = dense.get_weights()  # read back: what TensorFlow computes with
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            z = dense(x)
            y = keras.activations.get(activation)(z)
            loss = keras.losses.MeanSquaredError()(tf.constant(T), y)
        dy, dz, dw, db, dx = tape.gradient(loss, [y, z, dense.kernel, dense.bias, x])
        jacobian = tape.batch_jacobian(y, z, experimental_use_pfor=False)  # pfor retraces per call
        keras.optimizers.SGD(learning_rate).apply_gradients([(dw, dense.kernel), (db, dense.bias)])
    values = {"X": x, "W": kernel_read, "B": bias_read, "Z": z, "Y": y, "E": loss, "dY": dy, "dZ": dz, "dW": dw,
              "dB": db,
              "dX": dx, "W after": dense.kernel, "B after": dense.bias, "J": jacobian}
    return {key: np.asarray(value) for key, value in values.items()}


#: (symbol, formula, step label) in the lecture's order
_ROWS = [
    ("X", "input: N = 2 rows, 3 features", "forward"),
    ("W", "kernel (3 × 2), Glorot-uniform", "forward"),
    ("B", "bias (2,)", "forward"),
    ("Z", "Z = X W + B", "forward"),
    ("Y", "Y = f(Z)", "forward"),
    ("E", "E = (1/(N·D)) Σ (Y − T)²,  T = [[1, 0], [0, 1]]", "loss"),
    ("dY", "dY = ∂E/∂Y = 2 (Y − T) / (N·D)", "backward"),
    ("dZ", "", "STEP 1"),
    ("dW", "dW = Xᵀ dZ", "STEP 2"),
    ("dB", "dB = Σ_n dZ_n", "STEP 3"),
    ("dX", "dX = dZ Wᵀ", "backward"),
    ("W after", "W ← W − η dW", "update"),
    ("B after", "B ← B − η dB", "update"),
]


def measure(activation: str = "sigmoid", learning_rate: float = 0.5, seed: int = 0,
            tensorflow: bool = True) -> Walkthrough:
    """The walk-through for one activation (see the module docstring); ``tensorflow=False`` leaves
    TensorFlow's column empty (refnn and the graph need NumPy only)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"`activation` must be one of {sorted(ACTIVATIONS)}. Received: activation={activation!r}")
    check_float("learning_rate", learning_rate, low=0.0, low_inclusive=False)
    check_non_negative_int("seed", seed)
    model = _model(activation, seed, learning_rate)
    g = graph.trace(model, X, T).backward()
    ours = _graph_side(g, learning_rate)
    mine = _refnn_side(model)
    theirs = _tensorflow_side(ours["W"], ours["B"], activation, learning_rate) if tensorflow else {}
    quantities = []
    for symbol, formula, step in _ROWS:
        formula = formula or ACTIVATIONS[activation]
        if symbol == "Y" and activation != "linear":
            formula = f"Y = {activation}(Z)"
        quantities.append(Quantity(symbol, formula, mine[symbol], ours[symbol], theirs.get(symbol), step))
    if activation == "softmax":
        jacobians = _softmax_jacobians(mine, theirs)
        quantities.insert(8, Quantity("J_1", "J_1 = ∂Y_1/∂Z_1 = diag(Y_1) − Y_1 Y_1ᵀ", *jacobians, "STEP 1"))
    return Walkthrough(activation, learning_rate, quantities, g)


def _softmax_jacobians(mine: dict, theirs: dict) -> tuple:
    """The first row's softmax Jacobian three ways, each by that side's own vector–Jacobian product
    applied to the unit vectors (row k of ``Jᵀ`` is the VJP of ``e_k``): refnn's softmax activation,
    the graph's softmax op, and TensorFlow's ``batch_jacobian``."""
    z = mine["Z"][:1]
    units = np.eye(z.shape[1])
    refnn_softmax = refnn.activations.Softmax()
    y = refnn_softmax(z)
    by_refnn = np.stack([refnn_softmax.backward(z, y, e[None, :])[0] for e in units])
    z_node = graph.value(z)
    y_node = graph.softmax(z_node)
    by_graph = []
    for e in units:
        y_node.backward(e[None, :])
        by_graph.append(z_node.grad[0])
    # each stack holds rows of Jᵀ; J is symmetric, so they are J's rows too
    return by_refnn, np.stack(by_graph), (theirs["J"][0] if theirs else None)

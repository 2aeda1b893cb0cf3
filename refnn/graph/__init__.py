"""Computation graphs with values and gradients: backpropagation made visible.

A small reverse-mode automatic differentiation on NumPy arrays, for teaching and as a third,
independent gradient check (next to the layers' ``backward`` and finite differences). Every
operation writes its own vector–Jacobian product here (``refnn.graph.ops``, ``refnn.graph.losses``).

The lecture's first example, ``f = (a + b) · c``::

    >>> from refnn import graph
    >>> a, b, c = graph.value(2.0, "a"), graph.value(-3.0, "b"), graph.value(10.0, "c")
    >>> f = ((a + b).named("e") * c).named("f")
    >>> f.backward()
    Node('f', op='multiply', value=-10.0, grad=1.0)
    >>> float(a.grad), float(b.grad), float(c.grad)          # ∂f/∂a = c, ∂f/∂b = c, ∂f/∂c = a + b
    (10.0, 10.0, -1.0)
    >>> graph.Graph(f).save("f.svg")                           # values above, gradients below
    'f.svg'

A model's forward pass and loss::

    g = graph.trace(model, x, y)      # nodes "x", "dense_0/XW", "dense_0/Z", "dense_0/Y", ..., "loss"
    g.backward()
    g.grads["dense_0/kernel"]         # == model.loss_and_gradients(x, y, training=False)[1][...]
    g["dense_0/Z"].grad               # dZ, STEP 1 of the dense layer's backward pass
    g.save("model.svg"); print(g)     # the picture; the table
"""

from refnn.graph import losses, ops
from refnn.graph.graph import Graph
from refnn.graph.node import Node, as_node, value
from refnn.graph.ops import (
    add, clip, divide, dropout, exp, exponential, log, matmul, mean, multiply, negative, power, relu, sigmoid, softmax,
    subtract, tanh, transpose,
)
from refnn.graph.ops import sum  # noqa: F401, A004 (graph.sum; left out of __all__, see there)
from refnn.graph.trace import trace

__all__ = [
    "Node", "Graph", "value", "as_node", "trace", "ops", "losses",
    "add", "subtract", "multiply", "divide", "negative", "power", "exponential", "matmul", "transpose", "mean",
    "exp", "log", "relu", "sigmoid", "tanh", "softmax", "dropout", "clip",
]  # graph.sum too, left out here: `from refnn.graph import *` must not shadow the built-in sum

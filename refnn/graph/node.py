"""The node of a computation graph, and reverse-mode differentiation over it.

A ``Node`` holds an operation (``op``), the nodes it was computed from (``inputs``), its forward
``value`` and, after ``backward()``, its ``grad`` — the derivative of the output the backward pass
started from with respect to this node. Each node also holds its operation's vector–Jacobian
product (VJP): given ``ḡ = ∂L/∂(this node)``, it returns ``∂L/∂(each input)``.

``backward()`` is the chain rule applied in reverse topological order (every node after all the
nodes that use it)::

    ∂L/∂L = 1;   for each node v, from the output back:  ∂L/∂u += VJP_v(∂L/∂v)  for each input u of v

The ``+=`` is the multivariate chain rule: a node used twice (``a * a``) receives the sum of the
gradients along both paths.

Python's operators build graphs: ``f = (a + b) * c`` with ``a = value(2.0, "a")`` and so on.
Numbers and arrays that meet a node become ``constant`` nodes.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["Node", "value", "as_node", "topological_order"]

_creation_order = itertools.count()

#: the operations Python's operators call (``a + b`` → ``OPERATIONS["add"](a, b)``), registered by
#: ``refnn.graph.ops`` when it loads: the ops build nodes, so this module cannot import them
OPERATIONS: dict = {}


class Node:
    """One operation's result in a computation graph.

    Attributes:
        value: the forward value (a NumPy array; 0-d for a scalar).
        op: the operation that produced it (``"input"``, ``"parameter"``, ``"constant"``,
            ``"add"``, ``"matmul"``, ``"relu"``, ...).
        inputs: the nodes it was computed from, in argument order.
        grad: ``∂L/∂value`` after ``backward()`` on an output ``L`` that depends on this node,
            ``None`` before, or when the output does not depend on it (or it is data, like
            the targets of a loss).
        name: an optional label; a traced model names every node (``"dense_0/Z"``).
        attrs: the operation's settings, shown in drawings (``{"rate": 0.5}``).
    """

    __array_priority__ = 100  # numpy_array + node calls Node.__radd__, not an element-wise loop

    def __init__(self, value, op: str = "input", inputs=(), vjp=None, name: str | None = None,
                 attrs: dict | None = None):
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"`name` must be a non-empty string or None. Received: name={name!r}")
        self.value = _as_float_array(value)
        self.op = op
        self.inputs = tuple(inputs)
        self.name = name
        self.attrs = dict(attrs or {})
        self.grad: np.ndarray | None = None
        self._vjp = vjp
        self.id = next(_creation_order)

    # ---- reverse mode ------------------------------------------------------------------------
    def backward(self, grad=None) -> "Node":
        """Fill ``grad`` of every node this one depends on, with ``∂(self)/∂node``.

        Args:
            grad: the seed ``∂L/∂self``; ``None`` means 1 and needs a scalar (one-element) node.
                Give an array of this node's shape to backpropagate a vector's weighted sum.

        The gradients of the nodes this one depends on are cleared first, so calling ``backward``
        twice gives the same result. (``Graph.backward`` clears every node of its graph.)
        Returns this node.
        """
        order = topological_order(self)
        for node in order:
            node.grad = None
        self.grad = self._seed(grad)
        for node in reversed(order):
            if node.grad is None or node._vjp is None:
                continue
            for source, g in zip(node.inputs, node._vjp(node.grad)):
                if g is None:
                    continue
                # np.asarray: a 0-d result of NumPy arithmetic is a scalar, not an array
                source.grad = np.asarray(g if source.grad is None else source.grad + g)
        return self

    def _seed(self, grad) -> np.ndarray:
        if grad is None:
            if self.value.size != 1:
                raise ValueError(
                    f"backward() without `grad` needs a scalar output; node {self.label!r} has shape "
                    f"{self.value.shape}. Pass grad=array of that shape (∂L/∂node).")
            return np.ones_like(self.value)
        try:
            seed = np.asarray(grad, dtype=self.value.dtype)
        except (TypeError, ValueError):
            raise TypeError(f"`grad` must be a numeric array of the node's shape {self.value.shape}. "
                            f"Received: grad={grad!r}") from None
        if seed.shape != self.value.shape:
            raise ValueError(
                f"`grad` must have the node's shape {self.value.shape}. Received: grad.shape={seed.shape}")
        return seed

    # ---- naming and display ------------------------------------------------------------------
    def named(self, name: str) -> "Node":
        """Give the node a name (shown in drawings, looked up in a ``Graph``); returns the node."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")
        self.name = name
        return self

    @property
    def label(self) -> str:
        """The name, or ``op#id`` for an unnamed node."""
        return self.name if self.name else f"{self.op}#{self.id}"

    @property
    def shape(self) -> tuple:
        return self.value.shape

    def __repr__(self) -> str:
        grad = "" if self.grad is None else f", grad={_short(self.grad)}"
        return f"Node({self.label!r}, op={self.op!r}, value={_short(self.value)}{grad})"

    # ---- operators (the ops live in refnn.graph.ops, registered in OPERATIONS) ------------------
    def __add__(self, other):
        return OPERATIONS["add"](self, other)

    def __radd__(self, other):
        return OPERATIONS["add"](other, self)

    def __sub__(self, other):
        return OPERATIONS["subtract"](self, other)

    def __rsub__(self, other):
        return OPERATIONS["subtract"](other, self)

    def __mul__(self, other):
        return OPERATIONS["multiply"](self, other)

    def __rmul__(self, other):
        return OPERATIONS["multiply"](other, self)

    def __truediv__(self, other):
        return OPERATIONS["divide"](self, other)

    def __rtruediv__(self, other):
        return OPERATIONS["divide"](other, self)

    def __neg__(self):
        return OPERATIONS["negative"](self)

    def __pow__(self, exponent):
        return OPERATIONS["power"](self, exponent)

    def __rpow__(self, base):
        return OPERATIONS["exponential"](base, self)

    def __matmul__(self, other):
        return OPERATIONS["matmul"](self, other)

    def __rmatmul__(self, other):
        return OPERATIONS["matmul"](other, self)

    def sum(self, axis=None, keepdims: bool = False):
        return OPERATIONS["sum"](self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return OPERATIONS["mean"](self, axis=axis, keepdims=keepdims)

    @property
    def T(self):
        return OPERATIONS["transpose"](self)

    def exp(self):
        return OPERATIONS["exp"](self)

    def log(self):
        return OPERATIONS["log"](self)

    def relu(self):
        return OPERATIONS["relu"](self)

    def sigmoid(self):
        return OPERATIONS["sigmoid"](self)

    def tanh(self):
        return OPERATIONS["tanh"](self)

    def softmax(self):
        return OPERATIONS["softmax"](self)


def _as_float_array(value) -> np.ndarray:
    if isinstance(value, Node):
        raise TypeError(f"A node's value must be a number or an array, not another node ({value.label!r}).")
    try:
        arr = np.asarray(value)
    except ValueError:  # a ragged nested list
        raise ValueError(f"A node's value must be a number or a rectangular array. Received: value={value!r}") \
            from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"A node's value must be numeric. Received: value={value!r} (dtype {arr.dtype})")
    return arr if arr.dtype in (np.float32, np.float64) else arr.astype(np.float64)


def _short(a: np.ndarray) -> str:
    return repr(float(a)) if a.size == 1 else f"<array {a.shape}>"


def value(x, name: str | None = None) -> Node:
    """A leaf of the graph holding ``x`` (a number or an array), e.g. ``a = value(2.0, "a")``."""
    return Node(x, "input", name=name)


def as_node(x) -> Node:
    """``x`` itself if it is a node, else a ``constant`` node holding it."""
    if isinstance(x, Node):
        return x
    return Node(x, "constant")


def topological_order(output: Node) -> list[Node]:
    """Every node ``output`` depends on (itself included), each after all of its inputs.

    A node is created after its inputs, so creation order is a topological order: the nodes are
    collected, then sorted by it (the same order on every run).
    """
    found = {output.id: output}
    stack = [output]
    while stack:  # a loop, not recursion: a deep graph must not hit Python's recursion limit
        for source in stack.pop().inputs:
            if source.id not in found:
                found[source.id] = source
                stack.append(source)
    return [found[i] for i in sorted(found)]

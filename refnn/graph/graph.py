"""A computation graph as a whole: its nodes by name, its backward pass, and its pictures."""

from __future__ import annotations

import os

import numpy as np

from refnn.graph.display import array_lines, node_caption
from refnn.graph.node import Node, topological_order
from refnn.utils.text import format_table

__all__ = ["Graph"]


class Graph:
    """The nodes an ``output`` node depends on, looked up by name, drawn as SVG, DOT or text.

    ``graph.Graph(f)`` wraps an expression; ``graph.trace(model, x, y)`` builds one for a model.

    Args:
        output: the node ``backward()`` starts from (the loss).
        params: ``{path: node}`` of the parameters whose gradients ``grads`` returns.
        also_show: more nodes to draw that ``output`` does not depend on (a softmax output whose
            loss is computed from its logits), with their own inputs.
        aliases: more names for nodes (``{"dense_0/Y": z_node}`` for a linear layer, whose output
            is its ``Z``).
        title: a heading for the drawings.
    """

    def __init__(self, output: Node, params: dict | None = None, also_show=(), aliases: dict | None = None,
                 title: str | None = None):
        if not isinstance(output, Node):
            raise TypeError(f"`output` must be a refnn.graph Node. Received: output={output!r}")
        also_show = tuple(also_show)
        _check_nodes("also_show", dict(enumerate(also_show)))
        found = {n.id: n for extra in (output, *also_show) for n in topological_order(extra)}
        self.output = output
        self.nodes: list[Node] = [found[i] for i in sorted(found)]
        self.params: dict[str, Node] = _check_nodes("params", dict(params or {}), within=found)
        self.title = title
        #: what tables and drawings call each node: its name, else ``op#k`` with k its place in the graph
        self.labels = {node.id: node.name or f"{node.op}#{k}" for k, node in enumerate(self.nodes)}
        self._by_name: dict[str, Node] = {}
        for node in self.nodes:
            if node.name is None:
                continue
            if node.name in self._by_name:
                raise ValueError(f"Two nodes of the graph are named {node.name!r}: give each node its own name.")
            self._by_name[node.name] = node
        for name, node in _check_nodes("aliases", dict(aliases or {}), within=found).items():
            self._by_name.setdefault(name, node)

    # ---- computing ---------------------------------------------------------------------------
    def backward(self, grad=None) -> "Graph":
        """Backpropagate from the output (see ``Node.backward``), after clearing the gradient of
        every node drawn — including those the output does not depend on; returns the graph."""
        for node in self.nodes:
            node.grad = None
        self.output.backward(grad)
        return self

    @property
    def loss(self) -> float:
        """The output's value as a float (the loss of a traced model)."""
        return float(self.output.value)

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """``{path: ∂output/∂param}`` after ``backward()``, for the graph's parameters (copies)."""
        if self.params and all(node.grad is None for node in self.params.values()):
            raise ValueError("The graph has no gradients yet: call g.backward() first.")
        # a parameter the output does not depend on has a zero gradient
        return {path: (np.zeros_like(node.value) if node.grad is None else node.grad.copy())
                for path, node in self.params.items()}

    # ---- lookup ------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def __getitem__(self, name: str) -> Node:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"No node named {name!r}. The graph's names: {', '.join(self._by_name)}") from None

    def __contains__(self, name) -> bool:
        return name in self._by_name

    def __iter__(self):
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    # ---- pictures ----------------------------------------------------------------------------
    def table(self, digits: int = 4) -> str:
        """One row per node: name, operation, inputs, shape, value and gradient."""
        rows = []
        for node in self.nodes:
            value, grad = array_lines(node.value, digits), array_lines(node.grad, digits)
            inputs = ", ".join(self.labels[source.id] for source in node.inputs)
            for k in range(max(len(value), len(grad))):
                first = k == 0
                rows.append((self.labels[node.id] if first else "", node_caption(node) if first else "",
                             inputs if first else "", str(node.shape) if first else "",
                             value[k] if k < len(value) else "", grad[k] if k < len(grad) else ""))
        heading = f"{self.title}\n" if self.title else ""
        return heading + format_table(("node", "op", "inputs", "shape", "value", "gradient"), rows)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"Graph(output={self.labels[self.output.id]!r}, nodes={len(self.nodes)}, params={list(self.params)})"

    def to_svg(self, id_prefix: str = "") -> str:
        """The graph drawn left to right as a standalone SVG document (no system binary needed).

        ``id_prefix`` starts every element id, so that several drawings inlined in one HTML page
        keep their ids apart."""
        from refnn.graph.drawing import render_svg

        return render_svg(self, id_prefix)

    def to_dot(self) -> str:
        """The graph in Graphviz's DOT language (``dot -Tsvg graph.dot``), for users who have it."""
        from refnn.graph.drawing import render_dot

        return render_dot(self)

    def save(self, path) -> str:
        """Write the picture ``path`` names by its suffix: ``.svg``, ``.dot``/``.gv`` or ``.txt``.
        Returns the path."""
        try:
            path = os.fspath(path)
        except TypeError:
            raise TypeError(f"`path` must be a file name (str or os.PathLike). Received: path={path!r}") from None
        writers = {".svg": self.to_svg, ".dot": self.to_dot, ".gv": self.to_dot, ".txt": self.table}
        suffix = os.path.splitext(path)[1].lower()
        if suffix not in writers:
            raise ValueError(f"`path` must end in .svg, .dot, .gv or .txt. Received: path={path!r}")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"`path` names a folder that does not exist ({folder}). Received: path={path!r}")
        text = writers[suffix]()
        tmp = f"{path}.partial"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text if text.endswith("\n") else text + "\n")
            os.replace(tmp, path)  # a failed write never leaves half a picture under the name asked for
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return path


def _check_nodes(argument: str, nodes: dict, within: dict | None = None) -> dict:
    """``nodes`` if every value is a ``Node`` (of the graph, when ``within`` is given)."""
    for key, node in nodes.items():
        if not isinstance(node, Node):
            raise TypeError(f"`{argument}` must hold refnn.graph Nodes. Received: {argument}[{key!r}]={node!r}")
        if within is not None and node.id not in within:
            raise ValueError(f"`{argument}`[{key!r}] is node {node.label!r}, which is not in the graph.")
    return nodes

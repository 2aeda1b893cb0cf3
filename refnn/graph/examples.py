"""The lecture's example graphs, ready to draw: ``python -m refnn.graph.examples DIR`` writes them.

* ``scalar_example()`` — ``f = (a + b) · c`` at ``a = 2, b = −3, c = 10``: the add node hands its
  gradient unchanged to both inputs (10), the multiply swaps its inputs' values (``∂f/∂c = a + b``).
* ``network_example()`` — a 2-3-2 network (sigmoid hidden layer, softmax output, categorical
  crossentropy) on two samples, traced with ``graph.trace``: the loss node takes the output layer's
  logits, as Keras computes it.

``docs/images/`` holds both drawings; a test checks that they are the current ones.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from refnn.graph.graph import Graph
from refnn.graph.node import value
from refnn.graph.trace import trace

__all__ = ["scalar_example", "network_example", "write_examples"]


def scalar_example() -> Graph:
    """``f = (a + b) · c``, after ``backward()``."""
    a, b, c = value(2.0, "a"), value(-3.0, "b"), value(10.0, "c")
    f = ((a + b).named("e") * c).named("f")
    f.backward()
    return Graph(f, title="f = (a + b) · c")


def network_example() -> Graph:
    """A 2-3-2 network's forward pass and loss on two samples, after ``backward()``."""
    import refnn
    from refnn import layers

    model = refnn.Sequential([layers.Dense(3, activation="sigmoid"), layers.Dense(2, activation="softmax")],
                             input_dim=2, seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return trace(model, np.array([[1.0, 2.0], [-1.0, 0.5]]), np.eye(2)).backward()


def write_examples(directory: str) -> list[str]:
    """Write ``graph_scalar.svg`` and ``graph_2_3_2.svg`` into ``directory``; returns the paths."""
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` must be an existing folder. Received: directory={directory!r}")
    return [scalar_example().save(os.path.join(directory, "graph_scalar.svg")),
            network_example().save(os.path.join(directory, "graph_2_3_2.svg"))]


if __name__ == "__main__":
    for written in write_examples(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(written)

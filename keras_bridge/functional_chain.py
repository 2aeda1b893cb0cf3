"""A Keras Functional model that is a plain chain, read as the list of its layers.

``keras.Model(inputs, outputs)`` built as ``Input → layer → layer → …`` (each layer called once,
on the previous layer's output, its output used by the next layer only) computes exactly what a
``keras.Sequential`` of the same layers computes, so ``from_keras`` maps it the same way. Anything
else — a tensor used twice (a branch, a skip connection), a layer with several inputs (a merge), a
layer called twice (shared weights), several inputs or outputs — is refused with the name of the
layer where the graph stops being a chain.

The walk reads Keras 3's graph bookkeeping (``Functional._nodes_by_depth``, each operation's
``_inbound_nodes``, each node's ``input_tensors``/``output_tensors``): Keras has no public API for a
layer's consumers.
"""

from __future__ import annotations

import keras

from keras_bridge.errors import NotMappableError

__all__ = ["chain_layers"]


def chain_layers(keras_model) -> list:
    """The layers of a ``keras.Sequential``, or of a Functional model that is a single chain, in order
    (the ``InputLayer`` first when the model has one).

    Raises:
        NotMappableError: a subclassed model, or a Functional graph that is not a chain (naming the
            layer where it branches, merges or is shared).
    """
    if isinstance(keras_model, keras.Sequential):
        return list(keras_model.layers)
    where = f"{type(keras_model).__name__} {getattr(keras_model, 'name', '')!r}"
    by_depth = getattr(keras_model, "_nodes_by_depth", None)
    nodes = None if by_depth is None else {id(node) for level in by_depth.values() for node in level}
    if not isinstance(keras_model, keras.Model) or nodes is None or not keras_model.inputs:
        raise NotMappableError(
            f"from_keras takes a keras.Sequential or a Functional keras.Model(inputs, outputs) whose layers form "
            f"one chain. Received: {type(keras_model).__module__}.{where} (a subclassed model has no layer graph "
            "to read)."
        )
    if len(keras_model.inputs) != 1 or len(keras_model.outputs) != 1:
        raise NotMappableError(
            f"The Functional model {keras_model.name!r} has {len(keras_model.inputs)} input(s) and "
            f"{len(keras_model.outputs)} output(s); refnn's Sequential has one of each."
        )
    consumers = _consumers(keras_model, nodes)
    tensor, chain = keras_model.inputs[0], []
    while True:
        users = consumers.get(id(tensor), [])
        if len(users) > 1:
            source = chain[-1][0].name if chain else "the Input"
            raise NotMappableError(
                f"The Functional model {keras_model.name!r} is not a chain: it branches after {source!r}, whose "
                f"output feeds {[layer.name for layer, _ in users]}. refnn's Sequential maps single chains "
                "Input → layer → … → output only."
            )
        if not users:
            break
        layer, node = users[0]
        if len(node.input_tensors) != 1 or len(node.output_tensors) != 1:
            raise NotMappableError(
                f"The Functional model {keras_model.name!r} is not a chain: layer {layer.name!r} takes "
                f"{len(node.input_tensors)} inputs and gives {len(node.output_tensors)} outputs (a merge)."
            )
        chain.append((layer, node))
        tensor = node.output_tensors[0]
    if tensor is not keras_model.outputs[0]:
        raise NotMappableError(
            f"The Functional model {keras_model.name!r} is not a chain from its input to its output."
        )
    input_layers = [layer for layer in keras_model.layers if isinstance(layer, keras.layers.InputLayer)]
    return input_layers + [layer for layer, _ in chain]


def _consumers(keras_model, nodes: set) -> dict:
    """``id(tensor) → [(layer, node)]``: who uses each tensor inside the model (``nodes``: the ids of
    the model's own call nodes); a layer called more than once inside it is refused (shared weights)."""
    consumers: dict[int, list] = {}
    for operation in keras_model.operations:
        own = [node for node in operation._inbound_nodes if id(node) in nodes]
        if isinstance(operation, keras.layers.InputLayer):
            continue
        if len(own) > 1:
            raise NotMappableError(
                f"The Functional model {keras_model.name!r} is not a chain: layer {operation.name!r} is called "
                f"{len(own)} times (shared weights), which refnn's Sequential cannot express."
            )
        for node in own:
            for tensor in node.input_tensors:
                consumers.setdefault(id(tensor), []).append((operation, node))
    return consumers

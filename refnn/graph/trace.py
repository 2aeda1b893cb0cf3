"""``trace(model, x, y)``: the computation graph of a ``Sequential``'s forward pass and loss.

The graph is built from the model's current parameters with the ops of ``refnn.graph`` — never
with the layers' own ``forward``/``backward`` — so its gradients are an independent check of the
layers' backpropagation. Node names follow the lecture's notation, prefixed by the layer::

    x ──► dense_0/XW = x @ dense_0/kernel ──► dense_0/Z = XW + dense_0/bias ──► dense_0/Y = f(Z) ──► …
    … ──► loss/per_sample (ℓ_n) ──► loss/data (Σ ℓ_n / N) ──► loss (+ each penalty,
          e.g. dense_0/kernel_l2 = λ Σ W²)

As in Keras, a softmax (sigmoid) output trained with a categorical (binary) crossentropy has its
loss computed from the logits ``Z`` of that layer: the loss node takes ``Z``, and the output ``Y``
is drawn beside it with no gradient (the loss does not depend on it).
"""

from __future__ import annotations

import numpy as np

from refnn.activations import uses_diagonal_shortcut
from refnn import losses as refnn_losses
from refnn import regularizers
from refnn.graph import losses as graph_losses
from refnn.graph import ops
from refnn.graph.graph import Graph
from refnn.graph.node import Node
from refnn.layers.activation import Activation
from refnn.layers.dense import Dense
from refnn.layers.dropout import Dropout

__all__ = ["trace"]

_ACTIVATION_OPS = {"relu": ops.relu, "sigmoid": ops.sigmoid, "tanh": ops.tanh, "softmax": ops.softmax}


def trace(model, x, y=None, *, training: bool = False, sample_weight=None, masks: dict | None = None) -> Graph:
    """Build the graph of ``model`` on the batch ``x`` (and its loss on ``y``).

    Args:
        model: a built refnn ``Sequential`` of Dense, Activation and Dropout layers (compiled, when
            ``y`` is given: its loss and the layers' regularizers become nodes).
        x: inputs ``(N, input_dim)``.
        y: targets; without them the graph ends at the model's output (``backward(grad)`` then
            needs the output's gradient).
        training: the mode of the forward pass; in training a Dropout layer with ``rate > 0``
            multiplies by its keep mask (see ``masks``), in inference it is the identity.
        sample_weight: per-sample weights ``(N,)`` of the loss (``Σ w_n ℓ_n / N``, as Keras).
        masks: ``{dropout layer name: 0/1 keep mask}`` for training mode; a layer that is not
            listed uses its ``fixed_mask``, and one without either is refused (the graph never
            draws random numbers of its own).

    Returns:
        a ``Graph`` whose ``params`` are the model's parameter paths (``"dense_0/kernel"``), so that
        after ``g.backward()`` ``g.grads`` has the keys of ``model.loss_and_gradients``.
    """
    from refnn.models.sequential import Sequential

    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a refnn Sequential. Received: model={type(model).__name__}")
    x = model._check_x(x)
    if y is not None:
        model._require_compiled("graph.trace(model, x, y)")
        y = model._check_y(y, x.shape[0])
    masks = dict(masks or {})
    dropouts = {layer.name for layer in model.layers if isinstance(layer, Dropout)}
    unknown = sorted(set(masks) - dropouts)
    if unknown:
        raise ValueError(f"`masks` names layers that are not Dropout layers of the model: {unknown}. "
                         f"The model's Dropout layers: {sorted(dropouts)}")
    builder = _Builder(model, training, masks)
    h = builder.forward(Node(x, "input", name="x"))
    if y is None:
        return Graph(h, params=builder.params, aliases=builder.aliases, title=_title(model, training))
    loss = builder.loss(h, Node(y, "input", name="y_true"), sample_weight)
    return Graph(loss, params=builder.params, also_show=(h,), aliases=builder.aliases,
                 title=_title(model, training))


def _title(model, training: bool) -> str:
    layers = " → ".join(repr(layer) for layer in model.layers)
    return f"{layers}; {'training' if training else 'inference'} mode"


class _Builder:
    """Walks the layers once, making their nodes; remembers the parameters and the logits node
    the loss is computed from."""

    def __init__(self, model, training: bool, masks: dict):
        self.model, self.training, self.masks = model, training, masks
        self.params: dict[str, Node] = {}
        self.aliases: dict[str, Node] = {}
        self.fused = model._fused_layer(training) if model.loss is not None else None
        self.logits: Node | None = None

    def forward(self, h: Node) -> Node:
        for i, layer in enumerate(self.model.layers):
            if isinstance(layer, Dense):
                h, z = self._dense(layer, h)
            elif isinstance(layer, Activation):
                z, h = h, self._activation(_activation_name(layer), h, f"{layer.name}/Y")
            elif isinstance(layer, Dropout):
                z, h = h, self._dropout(layer, h)
            else:
                raise TypeError(f"graph.trace supports Dense, Activation and Dropout layers. Received: layer "
                                f"{layer.name!r} of type {type(layer).__name__}")
            if i == self.fused:
                self.logits = z
        return h

    def _parameter(self, layer, key: str) -> Node:
        path = f"{layer.name}/{key}"
        node = Node(layer.params[key].copy(), "parameter", name=path)
        self.params[path] = node
        return node

    def _dense(self, layer: Dense, h: Node) -> tuple[Node, Node]:
        z = ops.matmul(h, self._parameter(layer, "kernel")).named(f"{layer.name}/XW")
        if layer.use_bias:
            z = ops.add(z, self._parameter(layer, "bias")).named(f"{layer.name}/Z")
        else:
            self.aliases[f"{layer.name}/Z"] = z
        return self._activation(_activation_name(layer), z, f"{layer.name}/Y"), z

    def _activation(self, name: str, h: Node, label: str) -> Node:
        if name not in _ACTIVATION_OPS and name != "linear":
            raise TypeError(f"graph.trace knows the activations linear, {', '.join(_ACTIVATION_OPS)}; "
                            f"{label.split('/')[0]!r} uses {name!r}.")
        if name == "linear":
            self.aliases[label] = h  # Y = Z: no node of its own
            return h
        return _ACTIVATION_OPS[name](h).named(label)

    def _dropout(self, layer: Dropout, h: Node) -> Node:
        label = f"{layer.name}/Y"
        if not self.training or layer.rate == 0.0:
            self.aliases[label] = h
            return h
        keep = self.masks.get(layer.name, layer.fixed_mask)
        if keep is None:
            raise ValueError(
                f"Dropout layer {layer.name!r} needs its keep mask in training mode: pass "
                f"masks={{{layer.name!r}: mask}} (0/1, shape {h.shape}) or set layer.fixed_mask.")
        if layer.rate == 1.0:
            raise ValueError(f"Dropout layer {layer.name!r} has rate=1: every unit is dropped and nothing "
                             "flows back; trace it in inference mode.")
        return ops.dropout(h, keep, layer.rate).named(label)

    # ---- the loss ----------------------------------------------------------------------------
    def loss(self, output: Node, targets: Node, sample_weight) -> Node:
        loss = self.model.loss
        per_sample = _per_sample_loss(loss, targets, output if self.logits is None else self.logits,
                                      from_logits=self.logits is not None or getattr(loss, "from_logits", False))
        per_sample.named("loss/per_sample")
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=per_sample.value.dtype).reshape(-1)
            if w.shape != per_sample.shape:
                raise ValueError("`sample_weight` must have one entry per sample. Received: "
                                 f"sample_weight.shape={np.shape(sample_weight)}, x rows={per_sample.shape[0]}")
            per_sample = ops.multiply(per_sample, Node(w, "input", name="sample_weight")).named("loss/weighted")
        if loss.reduction == "sum":
            data = ops.sum(per_sample).named("loss/data")
        elif loss.reduction in ("sum_over_batch_size", "mean"):
            data = ops.mean(per_sample).named("loss/data")
        else:
            raise ValueError(f"graph.trace needs a scalar loss; the model's loss has reduction={loss.reduction!r}.")
        penalties = self._penalties()
        if not penalties:  # the data loss is the loss
            self.aliases["loss/data"] = data
            return data.named("loss")
        total = data
        for penalty in penalties[:-1]:
            total = ops.add(total, penalty).named(f"loss/+{penalty.name}")
        return ops.add(total, penalties[-1]).named("loss")

    def _penalties(self) -> list[Node]:
        nodes = []
        for layer in self.model.layers:
            for key, reg in layer.regularizers.items():
                if not isinstance(reg, regularizers.L1L2):
                    raise TypeError(f"graph.trace knows the L1/L2 penalties; {layer.name}/{key} has "
                                    f"{type(reg).__name__}.")
                w = self.params[f"{layer.name}/{key}"]
                if reg.l1:
                    nodes.append(graph_losses.l1_penalty(w, reg.l1).named(f"{layer.name}/{key}_l1"))
                if reg.l2:
                    nodes.append(graph_losses.l2_penalty(w, reg.l2).named(f"{layer.name}/{key}_l2"))
        return nodes


def _per_sample_loss(loss, targets: Node, prediction: Node, from_logits: bool) -> Node:
    smoothing = getattr(loss, "label_smoothing", 0.0)
    kinds = [
        (refnn_losses.MeanSquaredError, lambda: graph_losses.mean_squared_error(targets, prediction)),
        (refnn_losses.MeanAbsoluteError, lambda: graph_losses.mean_absolute_error(targets, prediction)),
        (refnn_losses.SumSquaredError, lambda: graph_losses.sum_squared_error(targets, prediction)),
        (refnn_losses.BinaryCrossentropy,
         lambda: graph_losses.binary_crossentropy(targets, prediction, from_logits, smoothing)),
        (refnn_losses.CategoricalCrossentropy,
         lambda: graph_losses.categorical_crossentropy(targets, prediction, from_logits, smoothing)),
        (refnn_losses.SparseCategoricalCrossentropy,
         lambda: graph_losses.sparse_categorical_crossentropy(targets, prediction, from_logits)),
    ]
    for cls, build in kinds:
        if type(loss) is cls:
            return build()
    raise TypeError(f"graph.trace knows refnn's built-in losses; the model's loss is {type(loss).__name__}.")


def _activation_name(layer) -> str:
    """The layer's activation by name; the graph differentiates softmax by its Jacobian only."""
    if uses_diagonal_shortcut(layer.activation):
        raise TypeError(f"graph.trace differentiates softmax by its Jacobian; {layer.name!r} uses "
                        f"{layer.activation!r}, whose diagonal shortcut is not a derivative of the graph's ops.")
    return layer.activation.name

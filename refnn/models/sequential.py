"""The Sequential model: a stack of layers, trained by backpropagation."""

from __future__ import annotations

import copy

import numpy as np

from refnn import config
from refnn import layers as layers_module
from refnn.callbacks import History
from refnn.layers.base import Layer
from refnn.layers.input import Input
from refnn.models.data_checks import DataChecks
from refnn.models.persistence import Persistence
from refnn.models.trainer import Trainer
from refnn.utils.packing import PackedArrays
from refnn.utils.seeding import next_model_seed
from refnn.utils.unsupported import refuse_keras_object
from refnn.utils.validation import (
    check_dtype,
    check_numeric_array,
    check_positive_int,
    check_seed,
)

__all__ = ["Sequential"]


class Sequential(Trainer, Persistence, DataChecks):
    """A linear stack of layers — Keras's ``Sequential`` in NumPy.

    Forward propagation runs the layers in order, each caching what its backward pass needs;
    backpropagation runs them in reverse, each returning ``∂E/∂X`` for the layer below and
    filling its own ``grads``. With a softmax (sigmoid) output and a categorical (binary)
    crossentropy loss, the loss and its gradient are computed from the output layer's logits,
    as Keras does on TensorFlow: ``∂E/∂Z = (softmax(Z) − Y)/N``.

    Args:
        layers: the layers, first to last;
            ``Input((d,))`` first declares the input width, as in Keras.
        input_dim: width of the input; the model is built now if given (or declared by an
            ``Input``), else on the first ``fit``/``build``.
        seed: seeds the initial weights, the dropout masks (of layers without their own seed)
            and the shuffling in ``fit``. Equal seeds give identical models and runs. ``None``:
            the next seed of ``refnn.utils.set_random_seed``'s generator if it was called, else
            fresh entropy.
        dtype: ``"float32"`` or ``"float64"``; parameters and computation use it throughout.
            ``None``: ``refnn.config.floatx()`` (``"float64"`` unless ``set_floatx`` changed it).
        name: the model's name.
    """

    #: the ``Input`` that opened the layer list (a class default: models pickled before it existed)
    _declared_input: Input | None = None

    def __init__(self, layers=None, input_dim: int | None = None, seed: int | None = None,
                 dtype=None, name: str = "sequential"):
        self.seed = next_model_seed() if seed is None else check_seed("seed", seed)
        self.dtype = check_dtype("dtype", config.floatx() if dtype is None else dtype)
        self.name = name
        self.layers: list[Layer] = []
        self.input_dim: int | None = None
        self.built = False
        self._optimizer = None
        self.loss = None
        self.metrics: list = []
        self.stop_training = False
        self.history: History | None = None
        #: ``{layer name: ∂E/∂(layer input)}`` from the last backpropagation of a loss
        self.input_gradients: dict[str, np.ndarray] = {}
        self._entropy = np.random.SeedSequence(self.seed).entropy
        self._shuffle_rng = np.random.default_rng(np.random.SeedSequence(self._entropy, spawn_key=(1,)))
        if layers is not None:
            if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
                raise TypeError(f"`layers` must be a list of layers. Received: layers={layers!r}")
        try:
            for layer in layers or ():
                self.add(layer)
            if input_dim is not None:
                self._check_declared_width(input_dim)
                self.build(input_dim)
        except BaseException:
            # a model that was never made cannot keep its layers: they stay free for the next one
            for layer in self.layers:
                layer._model = None
            raise

    # ---- construction -------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append a layer (built at once if the model is already built).

        A layer serves one model: its parameters become views of that model's flat vector. A
        layer that already belongs to another model is refused (Keras would share its weights
        between the two; refnn cannot without two models writing one vector).
        """
        if isinstance(layer, Input):
            self._declare_input(layer)
            return
        if not isinstance(layer, Layer):
            refuse_keras_object("layers", layer, layers_module)
            raise TypeError(
                f"Each layer must be a refnn.layers.Layer. Received: {layer!r} of type {type(layer).__name__}"
            )
        owner = getattr(layer, "_model", None)
        if owner is not None and owner is not self:
            raise ValueError(
                f"Layer {layer.name!r} ({type(layer).__name__}) already belongs to the model {owner.name!r}: a "
                "refnn model keeps its layers' parameters in one vector of its own, so a layer cannot serve "
                "two models. Create new layers for this model, or copy the whole model (copy.deepcopy(model))."
            )
        if any(other is layer for other in self.layers):
            raise ValueError(f"Layer {layer.name!r} is already in this model: a layer can appear once.")
        if layer.name is None:
            prefix = layer.default_name_prefix()
            taken = {other.name for other in self.layers}
            i = 0
            while f"{prefix}_{i}" in taken:
                i += 1
            layer.name = f"{prefix}_{i}"
        elif any(other.name == layer.name for other in self.layers):
            raise ValueError(f"Layer names must be unique in a model. Received a second layer named {layer.name!r}")
        # Keras's Dense(..., input_shape=(d,)) on the first layer declares the input as an Input does
        declared = layer.declared_input if not self.layers and self._declared_input is None else None
        self.layers.append(layer)
        layer._model = self
        if declared is not None:
            self._declared_input = declared
        if not self.built and self._declared_input is not None:
            try:
                self.build(self._declared_input.features)
            except BaseException:
                self.layers.pop()
                layer._model = None
                if declared is not None:
                    self._declared_input = None
                raise
        elif self.built:
            try:
                self._build_layer(len(self.layers) - 1, self.layers[-2].output_dim if len(self.layers) > 1
                                  else self.input_dim)
                self._pack()
            except BaseException:
                self.layers.pop()
                layer._model = None
                raise

    def _declare_input(self, spec: Input) -> None:
        """``Input((d,))`` first in the layer list (or the first ``add``): the model is built for
        ``d`` features as soon as it has a layer, as Keras builds a Sequential that starts with one."""
        if self.layers or self._declared_input is not None:
            raise ValueError(
                f"An Input can only open a model, before its first layer. Received: {spec!r} after "
                f"{len(self.layers)} layer(s)" + (" and another Input" if self._declared_input is not None else "")
            )
        self._declared_input = spec

    def _check_declared_width(self, input_dim) -> None:
        declared = self._declared_input
        if declared is not None and input_dim != declared.features:
            raise ValueError(
                f"`input_dim` ({input_dim!r}) disagrees with the model's {declared!r}. Give the width once."
            )

    def _build_layer(self, index: int, input_dim: int) -> int:
        rng = np.random.default_rng(np.random.SeedSequence(self._entropy, spawn_key=(0, index)))
        return self.layers[index].build(input_dim, rng=rng, dtype=self.dtype)

    def build(self, input_dim: int) -> None:
        """Create every layer's parameters for inputs of width ``input_dim``.

        Building a built model again for the same width does nothing (as in Keras): its weights
        stay. Another width is refused — it would replace the trained weights while the optimizer
        kept their moments.
        """
        width = check_positive_int("input_dim", input_dim)
        if self.built:
            if width != self.input_dim:
                raise ValueError(
                    f"The model is already built for input_dim={self.input_dim}; building it for another "
                    "width would replace its weights. Create a new model for the new width. "
                    f"Received: input_dim={width}"
                )
            return
        if not self.layers:
            raise ValueError("The model has no layers. Add layers before building it.")
        self.input_dim = width
        for i in range(len(self.layers)):
            width = self._build_layer(i, width)
        self._pack()
        self.built = True

    def __deepcopy__(self, memo):
        # deepcopy copies every view as an array of its own: re-pack the copies so that the
        # clone's layers, packed vector and gradients share memory again, as the original's do.
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            setattr(clone, key, copy.deepcopy(value, memo))
        clone._relink()
        return clone

    def __setstate__(self, state: dict) -> None:
        # unpickling (pickle, joblib, multiprocessing) copies every view too: link them again
        self.__dict__.update(state)
        self._relink()

    def _relink(self) -> None:
        for layer in self.layers:
            layer._model = self  # a copied or unpickled layer arrives without its model
        if self.built:
            self._pack()
        if self._optimizer is not None:
            self._optimizer._model = self

    def _check_parameters_linked(self) -> None:
        """Every layer's arrays must be the model's packed views, or training would update
        copies nobody reads. An array replaced by assignment (``layer.params["kernel"] = W``)
        is copied into the packed vector and linked again; one of another shape is refused."""
        if not self.built:
            return
        for layer in self.layers:
            if layer.params.keys() != {p.partition("/")[2] for p in self._params if p.startswith(layer.name + "/")}:
                raise ValueError(
                    f"Layer {layer.name!r} has parameters {sorted(layer.params)} that the model did not build. "
                    "Change a layer's parameters by writing into them, e.g. layer.params['kernel'][...] = W."
                )
            for key, array in layer.params.items():
                view = self._params[f"{layer.name}/{key}"]
                if array is view:
                    continue
                array = check_numeric_array(f"{layer.name}.params[{key!r}]", array, dtype=self.dtype)
                if array.shape != view.shape:
                    raise ValueError(
                        f"Shape mismatch for {layer.name}/{key}: the model has {view.shape}. "
                        f"Received: {layer.name}.params[{key!r}].shape={array.shape}"
                    )
                view[...] = array
                layer.params[key] = view
                layer.grad_buffers[key] = self._grads[f"{layer.name}/{key}"]

    def _pack(self) -> None:
        """Hold every parameter, and every gradient, as a view of one flat vector.

        The layers keep their own ``params`` dicts, but their arrays become consecutive views of
        ``self.params.flat`` (and the gradients of ``self._grads.flat``), so an element-wise
        optimizer updates the whole model in a few blocks rather than tensor by tensor (see
        ``refnn.utils.packing.PackedArrays``). Values are unchanged by packing.
        """
        arrays = {f"{layer.name}/{key}": value for layer in self.layers for key, value in layer.params.items()}
        self._params = PackedArrays.pack(arrays, self.dtype)
        self._grads = PackedArrays.zeros_like(self._params)
        for layer in self.layers:
            layer.params = {key: self._params[f"{layer.name}/{key}"] for key in layer.params}
            layer.grad_buffers = {key: self._grads[f"{layer.name}/{key}"] for key in layer.params}

    @property
    def output_dim(self) -> int:
        self._require_built("output_dim")
        return self.layers[-1].output_dim

    @property
    def params(self) -> dict[str, np.ndarray]:
        """``{"<layer>/<param>": array}`` in Keras's weight order; the arrays are the live ones
        (views of one flat vector, ``params.flat``, once the model is built)."""
        if self.built:
            return self._params
        return {f"{layer.name}/{key}": value for layer in self.layers for key, value in layer.params.items()}

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    @property
    def fuses_loss_with_output(self) -> bool:
        """True when the loss is computed from the output activation's logits in inference (Keras's
        behaviour for softmax + CCE/SCCE and sigmoid + BCE; see ``_fused_layer``)."""
        return self._fused_layer(training=False) is not None

    def _fused_layer(self, training: bool) -> int | None:
        """The index of the layer whose logits the loss is computed from, or ``None``.

        Keras attaches a softmax's (sigmoid's) input to its output tensor, and a matching
        crossentropy computes from it. Layers that hand that tensor on untouched keep it: a
        linear ``Activation`` always, a ``Dropout`` when it is inactive (inference, or rate 0) —
        in training a Dropout with rate > 0 makes a new tensor, and the loss falls back to the
        (clipped) probabilities, in Keras as here.
        """
        if self.loss is None or self.loss.fused_activation is None:
            return None
        return self._logits_layer(self.loss.fused_activation, training)

    def _logits_layer(self, activation_name: str, training: bool) -> int | None:
        """The index of the output layer if it applies ``activation_name`` (fusable, with
        identity layers after it in this mode), else ``None``."""
        i = len(self.layers) - 1
        while i >= 0 and self.layers[i].passes_through(training):
            i -= 1
        if i < 0:
            return None
        layer = self.layers[i]
        activation = getattr(layer, "activation", None)
        if activation is None or activation.name != activation_name or not activation.fusable:
            return None
        return i if hasattr(layer, "backward_from_logits") else None

    def _loss_input(self, y_pred: np.ndarray, training: bool):
        """``(what the loss is computed from, from_logits, fused layer index or None)``: the logits
        of the fused output activation (Keras's behaviour), else the outputs."""
        fused = self._fused_layer(training)
        if fused is not None:
            return self.layers[fused].logits, True, fused
        return y_pred, None, None

    # ---- forward, backward, loss --------------------------------------------------------------------
    def forward(self, x, training: bool = False) -> np.ndarray:
        """Forward propagation; each layer caches what ``backward`` needs."""
        return self._forward(self._check_x(x), training)

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, dy) -> np.ndarray:
        """Backpropagation of ``dy = ∂E/∂Y`` through every layer; returns ``∂E/∂X``. Call ``forward``
        first: a training step (``fit``) keeps only what it reads back (see ``Dense``)."""
        dy = np.asarray(dy, dtype=self.dtype)
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def _backward_from_loss(self, d: np.ndarray, fused: int | None) -> np.ndarray:
        """Backpropagate ``∂E/∂(output)`` — or ``∂E/∂Z`` of layer ``fused`` when the loss was
        computed from its logits (the pass-through layers after it are then not on the path) —
        keeping every layer's ``∂E/∂X`` in ``input_gradients``."""
        self.input_gradients = {}
        start = len(self.layers) - 1 if fused is None else fused
        for i in range(start, -1, -1):
            layer = self.layers[i]
            d = layer.backward_from_logits(d) if i == fused else layer.backward(d)
            self.input_gradients[layer.name] = d
        return d

    def _step_forward(self, x: np.ndarray, fused: int | None, need_output: bool) -> np.ndarray | None:
        """Forward propagation of a training step (``_step_loss_and_gradients``); returns the
        outputs, or ``None`` when ``need_output`` is False and the loss reads the logits of layer
        ``fused``, whose activation (and the pass-through layers after it) are then skipped."""
        for i, layer in enumerate(self.layers):
            if i == fused:
                if not need_output:
                    layer.logits_in_step(x)
                    return None
                x = layer.forward(x, training=True)  # its logits are the loss's input: keep them
            else:
                x = layer.forward_in_step(x)
        return x

    def _step_backward(self, d: np.ndarray, fused: int | None) -> None:
        """Backpropagation of a training step: as ``_backward_from_loss``, but the first layer skips
        ``∂E/∂X``, no ``input_gradients`` nor ``dZ`` are kept (each is freed once the layer below
        has used it), and a layer may write over the ``∂E/∂X`` the layer above handed it when that
        layer promises a new array (``Layer.returns_new_input_grad``) — never over the loss's
        gradient, which is the loss's."""
        start = len(self.layers) - 1 if fused is None else fused
        scratch = False
        for i in range(start, -1, -1):
            layer, d_above = self.layers[i], d
            d = layer.backward_from_logits(d, i > 0) if i == fused else layer.backward_in_step(d, i > 0, scratch)
            layer.release_backward_arrays()
            if d is not d_above:  # handed on untouched, the array keeps its owner
                scratch = layer.returns_new_input_grad

    def regularization_loss(self) -> float:
        """``Σ R(W)`` over every regularised parameter (Keras adds it unnormalised)."""
        return sum(reg(layer.params[key]) for layer in self.layers for key, reg in layer.regularizers.items())

    def _gradients(self) -> dict[str, np.ndarray]:
        """The packed gradient vector's views, regularisation gradients added. They are
        overwritten by the next backward pass (the public ``loss_and_gradients`` copies them)."""
        grads = self._grads
        for layer in self.layers:
            for key in layer.params:
                g = grads[f"{layer.name}/{key}"]
                if layer.grads[key] is not g:  # a layer that computed its gradient elsewhere
                    g[...] = layer.grads[key]
                reg = layer.regularizers.get(key)
                if reg is not None:
                    g += reg.gradient(layer.params[key]).astype(self.dtype, copy=False)
        return grads

    def _loss_and_gradients(self, x, y, training=True, sample_weight=None):
        y_pred = self._forward(x, training)
        out, from_logits, fused = self._loss_input(y_pred, training)
        loss, d_out = self.loss.value_and_gradient(y, out, sample_weight, from_logits=from_logits)
        loss += self.regularization_loss()
        self._backward_from_loss(d_out, fused)
        return loss, self._gradients(), y_pred

    def _step_loss_and_gradients(self, x, y, sample_weight=None, need_output: bool = True):
        """``_loss_and_gradients`` in training mode for a training step (``fit``, ``train_on_batch``):
        the same loss and gradients through the layers' ``*_in_step`` passes, which keep only
        what the step reads back. Returns ``(loss, grads, outputs or None)``; ``need_output=False``
        (no metric reads the outputs) lets a fused softmax/sigmoid output skip its activation."""
        fused = self._fused_layer(True)
        y_pred = self._step_forward(x, fused, need_output)
        out, from_logits = (self.layers[fused].logits, True) if fused is not None else (y_pred, None)
        loss, d_out = self.loss.value_and_gradient(y, out, sample_weight, from_logits=from_logits)
        loss += self.regularization_loss()
        self._step_backward(d_out, fused)
        return loss, self._gradients(), y_pred

    def loss_and_gradients(self, x, y, training: bool = True, sample_weight=None):
        """The total loss (regularisation included) and ``{path: ∂E/∂param}``.

        Runs forward (in training mode by default), the loss, and backpropagation; the layers'
        ``grads`` hold the data gradients, the returned dict adds the penalties' gradients.
        """
        self._require_compiled("loss_and_gradients")
        self._check_parameters_linked()
        x = self._check_x(x)
        y = self._check_y(y, x.shape[0])
        loss, grads, _ = self._loss_and_gradients(x, y, training, sample_weight)
        return loss, {path: g.copy() for path, g in grads.items()}

    # ---- presentation --------------------------------------------------------------------------
    def summary(self, print_fn=print) -> str:
        """A table of layers, output shapes and parameter counts (printed and returned)."""
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for layer in self.layers:
            out = f"(None, {layer.output_dim})" if layer.built else "?"
            rows.append((f"{layer.name} ({type(layer).__name__})", out, str(layer.count_params())))
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
        line = "─" * sum(widths)
        text = [f'Model: "{self.name}"', line]
        for i, row in enumerate(rows):
            text.append("".join(cell.ljust(w) for cell, w in zip(row, widths)))
            if i == 0:
                text.append(line)
        text += [line, f"Total params: {self.count_params()}", f"dtype: {self.dtype.name}"]
        out = "\n".join(text)
        print_fn(out)
        return out

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        dim = f", input_dim={self.input_dim}" if self.input_dim else ""
        return f"Sequential([{inner}]{dim}, dtype={self.dtype.name!r})"

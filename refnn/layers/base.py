"""The layer contract shared by every layer.

A layer is built once for an input width (``build``), then runs ``forward`` — which caches what
``backward`` needs — and ``backward(dY)``, which returns ``dE/dX`` and fills ``grads`` with the same
keys as ``params``. Parameters live in ``params`` (``"kernel"``, ``"bias"``) in Keras's layout, so
they copy to and from Keras without a transpose.
"""

from __future__ import annotations

import re

import numpy as np

from refnn.utils.validation import check_no_unknown_kwargs
from refnn.utils.weights import write_weights

__all__ = ["Layer"]


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _declared_input(owner: str, kwargs: dict):
    """The ``Input`` that Keras's ``input_shape``/``input_dim`` layer arguments declare, or ``None``;
    any other keyword is refused, naming it."""
    from refnn.layers.input import Input

    shape, width = kwargs.pop("input_shape", None), kwargs.pop("input_dim", None)
    check_no_unknown_kwargs(owner, kwargs)
    if shape is not None and width is not None:
        raise ValueError(f"{owner}: give `input_shape` or `input_dim`, not both. Received: input_shape={shape!r}, "
                         f"input_dim={width!r}")
    if shape is None and width is None:
        return None
    return Input(shape=shape if shape is not None else (width,))


class Layer:
    """Base class of all layers.

    Attributes:
        name: unique name inside a model (``"dense_0"``); parameter paths are ``name/param``.
        params: ``{"kernel": array, "bias": array}`` (empty for layers without weights).
        grads: gradients of the last ``backward``, same keys as ``params``. Inside a model these
            are views of the model's gradient vector, overwritten by the next ``backward``.
        regularizers: ``{param name: Regularizer}`` for the penalised parameters.
    """

    #: Keras's ``input_shape=(d,)`` / ``input_dim=d`` on a model's first layer, as an ``Input``
    #: (a class default too, for layers pickled before it existed)
    declared_input = None
    #: ``backward`` returns either its own ``dy`` or a new array that nobody else holds: a training
    #: step may then let the layer below write over it (``backward_in_step``). A layer that keeps
    #: or shares the array it returns leaves this False (the default).
    returns_new_input_grad = False

    def __init__(self, name: str | None = None, **kwargs):
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(f"`name` must be a non-empty string without '/'. Received: name={name!r}")
        self.name = name
        self.declared_input = _declared_input(type(self).__name__, kwargs)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.regularizers: dict = {}
        #: arrays ``backward`` may write its gradients into (set by a model that packs them)
        self.grad_buffers: dict[str, np.ndarray] = {}
        self.built = False
        self.input_dim: int | None = None
        self.dtype = np.dtype("float64")
        #: the model this layer belongs to (set by ``Sequential.add``; a layer serves one model)
        self._model = None

    def __getstate__(self) -> dict:
        # a copied or pickled layer leaves its model behind (the model, when it is the one being
        # copied, links its layers again); a copy of one layer is a layer of no model
        return {**self.__dict__, "_model": None}

    @classmethod
    def default_name_prefix(cls) -> str:
        return _snake_case(cls.__name__)

    def _describe(self) -> str:
        return f"Layer {self.name!r}" if self.name else f"This {type(self).__name__} layer"

    def _require_built(self) -> None:
        if not self.built:
            raise ValueError(
                f"{self._describe()} is not built yet: call layer.build(input_dim) before layer.forward(x) "
                "(a model builds its layers when it is built)."
            )

    def _require_forward(self, cached) -> None:
        if cached is None:
            raise ValueError(
                f"{self._describe()} has no forward pass to differentiate: call layer.forward(x, training=...) "
                "before layer.backward(dy)."
            )

    def random_state(self) -> dict | None:
        """The state of the layer's own random generator (``None`` for a layer without one); a
        saved model keeps it, so that training resumes with the same draws."""
        return None

    def set_random_state(self, state: dict | None) -> None:
        """Restore what ``random_state`` returned."""

    def build(self, input_dim: int, *, rng: np.random.Generator | None = None, dtype="float64") -> int:
        """Create the parameters for inputs of width ``input_dim``; return the output width."""
        self.input_dim = int(input_dim)
        self.dtype = np.dtype(dtype)
        self.built = True
        return self.output_dim

    @property
    def output_dim(self) -> int:
        return self.input_dim

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Return ``∂E/∂X`` from ``dy = ∂E/∂Y`` and fill ``grads``. Layers with weights may skip
        the input gradient when ``need_input_grad`` is False (and return ``None``)."""
        raise NotImplementedError

    def forward_in_step(self, x: np.ndarray) -> np.ndarray:
        """``forward(x, training=True)`` inside a training step (``fit``, ``train_on_batch``), which
        reads back only the loss and the gradients: a layer may keep less for inspection here
        (``Dense``). The default is ``forward``."""
        return self.forward(x, training=True)

    def logits_in_step(self, x: np.ndarray) -> None:
        """The fused output layer's forward pass in a training step whose outputs nobody reads (the
        loss reads the ``logits``): a layer may skip its activation. The default is ``forward``."""
        self.forward(x, training=True)

    def backward_in_step(self, dy: np.ndarray, need_input_grad: bool, may_overwrite_dy: bool) -> np.ndarray | None:
        """``backward`` inside a training step; ``may_overwrite_dy``: ``dy`` is the step's own scratch
        array (the ``∂E/∂X`` of a layer above that ``returns_new_input_grad``, nobody else's), which
        the layer may write its ``∂E/∂Z`` over."""
        return self.backward(dy, need_input_grad)

    def release_backward_arrays(self) -> None:
        """Drop what ``backward`` kept for inspection (a Dense layer's ``dZ``); the training loop
        calls it once the layer below has its gradient, so that no step holds them."""

    def passes_through(self, training: bool) -> bool:
        """Whether the layer hands its input on untouched (the identity) in this mode; a
        crossentropy then still sees the logits of the output activation before it."""
        return False

    def jacobian_backward(self, sensitivities: np.ndarray, columns: dict) -> np.ndarray:
        """Backpropagate the sensitivities of every model output through this layer, after a
        forward pass in inference mode (Levenberg–Marquardt's Jacobian).

        Args:
            sensitivities: ``S[n, k, :] = ∂ŷ[n, k]/∂Y[n, :]``, shape ``(N, K, output width)``, for
                each of the model's K outputs.
            columns: ``{param name: view of shape (N, K, param.size)}`` of the Jacobian, which
                receives ``∂ŷ[n, k]/∂param``.

        Returns:
            ``∂ŷ[n, k]/∂X[n, :]``, shape ``(N, K, input width)``.
        """
        raise TypeError(
            f"Layer {self.name!r} of type {type(self).__name__} has no Jacobian rows: "
            "Levenberg–Marquardt supports Dense, Activation and Dropout layers."
        )

    # ---- weights (Keras's layer API) ----------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """The live parameter arrays in Keras's order (``[kernel, bias]`` for Dense); writing into
        them changes the layer (and its model's flat parameter vector, of which they are views)."""
        return list(self.params.values())

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """Every parameter: refnn layers have no frozen (non-trainable) weights."""
        return self.weights

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return []

    def get_weights(self) -> list[np.ndarray]:
        """Copies of ``weights``."""
        return [value.copy() for value in self.params.values()]

    def set_weights(self, weights) -> None:
        """Write ``weights`` (a list in ``get_weights`` order) into the live arrays — inside a model,
        the model's packed views (relinked first, so training sees the new values). The count,
        dtypes and shapes are checked first (``write_weights``): on a mismatch nothing changes."""
        if self._model is not None:
            self._model._check_parameters_linked()
        prefix = f"{self.name}/" if self.name else ""  # a layer of no model may have no name yet
        targets = {f"{prefix}{key}": value for key, value in self.params.items()}
        owner = f"layer {self.name!r}" if self.name else f"this {type(self).__name__} layer"
        write_weights(targets, weights, owner + ("" if self.built else " (not built yet)"))

    def count_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})" if args else f"{type(self).__name__}()"

"""What a model hands out and takes back: its weights as arrays, its files and its random
generators (a mixin of ``Sequential``, which provides the layers and the packed parameters)."""

from __future__ import annotations

import numpy as np

from refnn.models import saving
from refnn.utils.weights import write_weights

__all__ = ["Persistence"]


class Persistence:
    """``get_weights``/``set_weights``, ``save_weights``/``load_weights``/``save`` and
    ``random_state``/``set_random_state`` of a ``Sequential``."""

    # ---- weights -------------------------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of the parameters in Keras's order: ``[W0 (in, out), b0, W1, b1, ...]``."""
        self._check_parameters_linked()
        self._require_built("get_weights")
        return [value.copy() for value in self.params.values()]

    def set_weights(self, weights) -> None:
        """Set every parameter from a list in ``get_weights`` order (``write_weights``: the count,
        dtypes and shapes are checked first; on a mismatch nothing is changed)."""
        self._check_parameters_linked()
        self._require_built("set_weights")
        write_weights(self.params, weights, "the model")

    @property
    def weights(self) -> list[np.ndarray]:
        """The live parameter arrays, Keras's order (layer by layer, kernel then bias)."""
        return [value for layer in self.layers for value in layer.weights]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [value for layer in self.layers for value in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return [value for layer in self.layers for value in layer.non_trainable_weights]

    def get_layer(self, name: str | None = None, index: int | None = None):
        """The layer named ``name`` or at position ``index`` (Keras's rules and messages)."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"`index` must be an integer. Received: index={index!r}")
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def save_weights(self, path) -> None:
        """Write every parameter to a ``.npz`` file, keyed by its path (``"dense_0/kernel"``);
        atomically: a crash never leaves a half-written file where a good one stood."""
        self._check_parameters_linked()
        saving.save_weights(self, path)

    def load_weights(self, path) -> None:
        """Load parameters saved by ``save_weights`` (or ``save``). Names and shapes must match
        the model exactly; otherwise nothing is changed and the first mismatch is reported."""
        self._check_parameters_linked()
        saving.load_weights(self, path)

    def save(self, path) -> None:
        """Save the architecture and compile configuration (JSON), the weights, the optimizer's
        state and the random generators to one archive; ``refnn.load_model(path)`` rebuilds the
        model, and training continues as this one's would."""
        self._check_parameters_linked()
        saving.save_model(self, path)

    # ---- random state -------------------------------------------------------------------------
    def random_state(self) -> dict:
        """The state of every generator training draws from — ``fit``'s shuffling and each
        layer's own (dropout masks) — as JSON-ready data; a saved model keeps it."""
        layers = {layer.name: layer.random_state() for layer in self.layers}
        return {"shuffle": self._shuffle_rng.bit_generator.state,
                "layers": {name: state for name, state in layers.items() if state is not None}}

    def set_random_state(self, state: dict) -> None:
        """Restore what ``random_state`` returned: the next shuffle and masks are the ones the
        saved model would have drawn."""
        self._shuffle_rng.bit_generator.state = state["shuffle"]
        for layer in self.layers:
            layer.set_random_state(state["layers"].get(layer.name))

"""Models: ``Sequential`` (a stack of layers and its training loop), saving and loading —
``keras.models``'s names for what refnn has."""

from refnn.models.loading import load_model, model_from_config
from refnn.models.sequential import Sequential
from refnn.utils.unsupported import missing_name

__all__ = ["Sequential", "load_model", "model_from_config"]

_CHAIN = ("refnn builds Sequential models: write the chain of layers as Sequential([Input((d,)), Dense(...), ...]); "
          "keras_bridge.from_keras converts a Keras Functional model that is such a chain.")
__getattr__ = missing_name("refnn.models", "Sequential, load_model and model_from_config",
                           {"Model": _CHAIN, "Functional": _CHAIN, "clone_model": "Use copy.deepcopy(model)."})

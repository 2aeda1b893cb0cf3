"""``from refnn import keras``: Keras's top-level names, served by refnn.

The same names as ``import refnn as keras`` — this module only re-exports them, so a script can
keep the word ``keras`` while its first line says where the implementation comes from.
"""

from refnn import (  # noqa: F401  (re-exported)
    Input,
    Sequential,
    activations,
    callbacks,
    config,
    initializers,
    layers,
    load_model,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    utils,
)
from refnn import __getattr__  # noqa: F401  (the same clear errors for what refnn does not have)

__all__ = ["Input", "Sequential", "activations", "callbacks", "config", "initializers", "layers", "load_model",
           "losses", "metrics", "models", "optimizers", "regularizers", "utils"]

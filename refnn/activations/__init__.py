"""Activation functions: value and backward pass (vector–Jacobian product).

``refnn.activations.basic`` has linear, relu, sigmoid, tanh and softmax (and softmax's teaching
switch ``derivative="diagonal"``); ``refnn.activations.keras_family`` has the rest of Keras 3's
common activations — elu, selu, gelu (exact and tanh-approximate), leaky_relu, softplus,
silu (alias swish) and hard_sigmoid — with Keras's defaults and TensorFlow's float formulas.

Every activation takes ``backward(x, y, dy)`` → ``dx = J_f(x)ᵀ dy`` from the input ``x``, the
cached output ``y = f(x)`` and the upstream gradient ``dy``. An activation with options
(``ELU(alpha=0.5)``, ``GELU(approximate=True)``, ``LeakyReLU(negative_slope=0.1)``,
``Softmax(derivative="diagonal")``) is serialized as ``{"name", "config"}``; with its defaults, as
its name, so layer configs (and saved models) keep their options.
"""

from __future__ import annotations

from refnn.activations.basic import Activation, Linear, ReLU, Sigmoid, Softmax, Tanh, uses_diagonal_shortcut
from refnn.activations.keras_family import ELU, GELU, SELU, HardSigmoid, LeakyReLU, SiLU, Softplus
from refnn.utils.unsupported import missing_name

__all__ = ["Activation", "Linear", "ReLU", "Sigmoid", "Tanh", "Softmax", "ELU", "SELU", "GELU", "LeakyReLU",
           "Softplus", "SiLU", "HardSigmoid", "get", "serialize", "ACTIVATIONS", "ALIASES", "uses_diagonal_shortcut",
           "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "leaky_relu", "softplus", "silu",
           "swish", "hard_sigmoid"]

ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Linear, ReLU, Sigmoid, Tanh, Softmax, ELU, SELU, GELU, LeakyReLU, Softplus, SiLU,
                              HardSigmoid)
}
#: other names for the same function (as in Keras, ``"swish"`` is ``silu``)
ALIASES: dict[str, str] = {"swish": "silu"}

# Keras's function names, ``Dense(8, activation=keras.activations.relu)``: here default instances
# (stateless, so layers may share them), callable on an array as Keras's functions are
linear, relu, sigmoid, tanh, softmax = Linear(), ReLU(), Sigmoid(), Tanh(), Softmax()
elu, selu, gelu, leaky_relu, softplus = ELU(), SELU(), GELU(), LeakyReLU(), Softplus()
silu = swish = SiLU()
hard_sigmoid = HardSigmoid()


def _lookup(name) -> type[Activation] | None:
    name = str(name).lower()
    return ACTIVATIONS.get(ALIASES.get(name, name))


def serialize(activation: Activation):
    """The activation as a layer config stores it: its name, or ``{"name", "config"}`` when an
    option differs from its default (``Softmax(derivative="diagonal")``, ``ELU(alpha=0.5)``)."""
    config = activation.get_config()
    if config == type(activation)().get_config():
        return activation.name
    return {"name": activation.name, "config": config}


def get(identifier) -> Activation:
    """Return the activation for a name (``"relu"``, ``"swish"``, ...), ``None`` (linear), an instance,
    or a ``{"name", "config"}`` dict written by ``serialize``."""
    if identifier is None:
        return Linear()
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str) and _lookup(identifier) is not None:
        return _lookup(identifier)()
    if isinstance(identifier, dict) and _lookup(identifier.get("name", "")) is not None:
        config = identifier.get("config", {})
        try:
            if not isinstance(config, dict):
                raise TypeError("config is not a dict")
            return _lookup(identifier["name"])(**config)
        except TypeError:
            raise ValueError(f"The activation's `config` does not fit {identifier['name']!r}. "
                             f"Received: activation={identifier!r}") from None
    raise ValueError(
        f"Unknown activation. `activation` must be one of {sorted([*ACTIVATIONS, *ALIASES])}, None, an Activation or "
        f'a {{"name", "config"}} dict. Received: activation={identifier!r}'
    )


__getattr__ = missing_name("refnn.activations", ", ".join(sorted([*ACTIVATIONS, *ALIASES])) + " (names, classes and "
                           "instances)", {})

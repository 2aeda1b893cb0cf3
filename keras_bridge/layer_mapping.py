"""Layer by layer: a refnn layer ↔ its Keras counterpart — Dense (activation, ``use_bias``,
initializer classes, options and seeds, ``L1``/``L2``/``L1L2`` regularizers), Activation (and Keras's
``Softmax()``, ``ReLU()`` — with a ``negative_slope`` it is a leaky ReLU —, ``LeakyReLU(negative_slope)``
and ``ELU(alpha)`` layers), Dropout. The model level is ``keras_bridge.architecture``; anything
without a counterpart raises ``NotMappableError`` naming the layer and the option.

Activations: every refnn activation with its default options is a Keras name (``"gelu"`` is the
exact erf form in both, ``"leaky_relu"`` has slope 0.2, ``"swish"`` is ``"silu"``). Options Keras
cannot name in a string: an ``Activation`` layer with ``LeakyReLU(s)`` or ``ELU(α)`` becomes
``keras.layers.LeakyReLU(negative_slope=s)`` / ``keras.layers.ELU(alpha=α)``; a ``Dense`` with such
an option, and ``GELU(approximate=True)`` anywhere, are refused (Keras would need a custom function).

Initializers: Glorot/He/LeCun presets, ``VarianceScaling(scale, mode, distribution)``,
``Orthogonal(gain)``, ``RandomUniform``/``RandomNormal``, ``Zeros``/``Ones``, with their seeds."""

from __future__ import annotations

import keras
import numpy as np

from refnn import activations as ractivations
from refnn import initializers as rinit
from refnn import layers as rlayers
from refnn import regularizers as rreg
from keras_bridge.dtypes import shortest_float32
from keras_bridge.errors import NotMappableError

__all__ = ["layer_to_keras", "layer_from_keras"]

_INITIALIZERS = {  # refnn name -> Keras class name
    "glorot_uniform": "GlorotUniform",
    "glorot_normal": "GlorotNormal",
    "he_uniform": "HeUniform",
    "he_normal": "HeNormal",
    "lecun_uniform": "LecunUniform",
    "lecun_normal": "LecunNormal",
    "variance_scaling": "VarianceScaling",
    "orthogonal": "Orthogonal",
    "random_uniform": "RandomUniform",
    "random_normal": "RandomNormal",
    "zeros": "Zeros",
    "ones": "Ones",
}
_INITIALIZERS_BACK = {keras_name: refnn_name for refnn_name, keras_name in _INITIALIZERS.items()}
_ACTIVATIONS = tuple(ractivations.ACTIVATIONS)  # the names Keras and refnn share (Keras's "swish" is "silu")


# ---- pieces of a Dense layer --------------------------------------------------------------------
def _initializer_to_keras(init: rinit.Initializer, where: str):
    name = getattr(init, "name", None)
    if name not in _INITIALIZERS:
        raise NotMappableError(f"{where}: initializer {init!r} has no Keras counterpart.")
    return getattr(keras.initializers, _INITIALIZERS[name])(**init.get_config())


def _initializer_from_keras(init, where: str) -> rinit.Initializer:
    cls_name = type(init).__name__
    if cls_name not in _INITIALIZERS_BACK:
        raise NotMappableError(
            f"{where}: Keras initializer {cls_name} has no refnn counterpart. Supported: "
            f"{sorted(_INITIALIZERS_BACK)}."
        )
    config = dict(init.get_config())
    for axes in ("input_axes", "output_axes"):
        if config.pop(axes, None) is not None:
            raise NotMappableError(
                f"{where}: option `{axes}` of the Keras initializer {cls_name} has no refnn counterpart. "
                f"Received: {axes}={init.get_config()[axes]!r}"
            )
    cls = rinit.INITIALIZERS[_INITIALIZERS_BACK[cls_name]]
    return cls(**config)


def _regularizer_to_keras(reg: rreg.Regularizer | None, where: str):
    if reg is None:
        return None
    if type(reg) is rreg.L1:
        return keras.regularizers.L1(reg.l1)
    if type(reg) is rreg.L2:
        return keras.regularizers.L2(reg.l2)
    if type(reg) is rreg.L1L2:
        return keras.regularizers.L1L2(l1=reg.l1, l2=reg.l2)
    raise NotMappableError(f"{where}: regularizer {reg!r} has no Keras counterpart.")


def _regularizer_from_keras(reg, where: str) -> rreg.Regularizer | None:
    if reg is None:
        return None
    cls_name = type(reg).__name__
    config = reg.get_config()
    if cls_name == "L1":
        return rreg.L1(shortest_float32(config["l1"]))  # Keras keeps the L1 factor in float32
    if cls_name == "L2":
        return rreg.L2(config["l2"])
    if cls_name == "L1L2":
        return rreg.L1L2(l1=config["l1"], l2=config["l2"])
    raise NotMappableError(
        f"{where}: Keras regularizer {cls_name} has no refnn counterpart (refnn has L1, L2, L1L2)."
    )


def _as_keras_computes(activation):
    """The activation as Keras computes it, options Keras cannot tell apart dropped: TensorFlow's
    LeakyRelu holds its slope as float32 (slopes equal in float32 are one Keras function), and its
    gelu always uses float32-rounded constants (``GELU(keras_float32_constants=True)``)."""
    if isinstance(activation, ractivations.LeakyReLU) and np.float32(activation.negative_slope) == np.float32(0.2):
        return ractivations.LeakyReLU()
    if isinstance(activation, ractivations.GELU):
        return ractivations.GELU(approximate=activation.approximate)
    return activation


def _activation_name_to_keras(activation, where: str) -> str:
    """The Keras name of an activation with default options; other options are refused."""
    shown = ractivations.serialize(_as_keras_computes(activation))
    if not isinstance(shown, str):
        hint = "" if isinstance(activation, ractivations.GELU) else (
            f" Use Dense(..., activation=None) followed by layers.Activation({activation!r}), which maps to "
            f"keras.layers.{type(activation).__name__}.")
        raise NotMappableError(
            f"{where}: activation {activation!r} has no Keras name: Keras's activation strings take the default "
            f"options only.{hint}"
        )
    return shown


def _activation_layer_to_keras(layer, dtype: str):
    activation = _as_keras_computes(layer.activation)
    if isinstance(activation, ractivations.LeakyReLU) and activation.get_config() != {"negative_slope": 0.2}:
        return keras.layers.LeakyReLU(negative_slope=activation.negative_slope, name=layer.name, dtype=dtype)
    if isinstance(activation, ractivations.ELU) and activation.alpha != 1.0:
        return keras.layers.ELU(alpha=activation.alpha, name=layer.name, dtype=dtype)
    name = _activation_name_to_keras(activation, f"Layer {layer.name!r} (Activation)")
    return keras.layers.Activation(name, name=layer.name, dtype=dtype)


def _activation_name_from_keras(fn, where: str) -> str:
    try:
        name = keras.activations.serialize(fn)
    except (ValueError, TypeError):
        name = None
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        shown = name if isinstance(name, str) else getattr(fn, "__name__", repr(fn))
        raise NotMappableError(
            f"{where}: activation {shown!r} has no refnn counterpart. Supported: {sorted(_ACTIVATIONS)}."
        )
    return name


# ---- layers -------------------------------------------------------------------------------------
def layer_to_keras(layer: rlayers.Layer, dtype: str):
    """The Keras layer with the same configuration as the refnn ``layer`` (weights not copied)."""
    where = f"Layer {layer.name!r} ({type(layer).__name__})"
    _refuse_diagonal_softmax(layer, where)
    if type(layer) is rlayers.Dense:
        return keras.layers.Dense(
            layer.units,
            activation=_activation_name_to_keras(layer.activation, where),
            use_bias=layer.use_bias,
            kernel_initializer=_initializer_to_keras(layer.kernel_initializer, where + " kernel_initializer"),
            bias_initializer=_initializer_to_keras(layer.bias_initializer, where + " bias_initializer"),
            kernel_regularizer=_regularizer_to_keras(layer.kernel_regularizer, where + " kernel_regularizer"),
            bias_regularizer=_regularizer_to_keras(layer.bias_regularizer, where + " bias_regularizer"),
            name=layer.name,
            dtype=dtype,
        )
    if type(layer) is rlayers.Activation:
        return _activation_layer_to_keras(layer, dtype)
    if type(layer) is rlayers.Dropout:
        return keras.layers.Dropout(layer.rate, seed=layer.seed, name=layer.name, dtype=dtype)
    raise NotMappableError(f"{where} has no Keras counterpart in keras_bridge.")


def _refuse_diagonal_softmax(layer, where: str) -> None:
    """Keras's softmax always differentiates its full Jacobian: a twin would train differently."""
    activation = getattr(layer, "activation", None)
    if ractivations.uses_diagonal_shortcut(activation):
        raise NotMappableError(
            f"{where}: Softmax(derivative={activation.derivative!r}) backpropagates the textbook diagonal "
            "f(1 − f) instead of the softmax's Jacobian diag(f) − f fᵀ; Keras always uses the Jacobian, so no Keras "
            "model trains like this one. The switch is for showing its effect in refnn; use Softmax() (the "
            "default) for a model to export or compare."
        )


def _check_defaults(klayer, where: str, **defaults) -> None:
    config = klayer.get_config()
    for option, default in defaults.items():
        value = config.get(option, default)
        if value != default:
            raise NotMappableError(
                f"{where}: option `{option}` has no refnn counterpart. Received: {option}={value!r}"
            )


def layer_from_keras(klayer) -> rlayers.Layer | None:
    """The refnn layer for a Keras layer (``None`` for an ``InputLayer``).

    Raises:
        NotMappableError: naming the layer and the class or option that refnn does not have.
    """
    cls_name = type(klayer).__name__
    where = f"Layer {klayer.name!r} ({cls_name})"
    if isinstance(klayer, keras.layers.InputLayer):
        return None
    if not klayer.trainable and klayer.weights:
        raise NotMappableError(f"{where}: frozen layers (trainable=False) have no refnn counterpart.")
    if type(klayer) is keras.layers.Dense:
        _check_defaults(klayer, where, kernel_constraint=None, bias_constraint=None,
                        quantization_config=None, lora_rank=None)
        frozen = [v.name for v in klayer.weights if not v.trainable]
        if frozen:
            raise NotMappableError(
                f"{where}: variable(s) {frozen} are frozen (trainable=False); refnn trains every parameter "
                "of a layer, so a frozen variable has no refnn counterpart."
            )
        if klayer.activity_regularizer is not None:
            raise NotMappableError(
                f"{where}: option `activity_regularizer` has no refnn counterpart. Received: "
                f"activity_regularizer={klayer.activity_regularizer!r}"
            )
        return rlayers.Dense(
            klayer.units,
            activation=_activation_name_from_keras(klayer.activation, where),
            use_bias=klayer.use_bias,
            kernel_initializer=_initializer_from_keras(klayer.kernel_initializer, where + " kernel_initializer"),
            bias_initializer=_initializer_from_keras(klayer.bias_initializer, where + " bias_initializer"),
            kernel_regularizer=_regularizer_from_keras(klayer.kernel_regularizer, where + " kernel_regularizer"),
            bias_regularizer=_regularizer_from_keras(klayer.bias_regularizer, where + " bias_regularizer"),
            name=klayer.name,
        )
    if type(klayer) is keras.layers.Activation:
        return rlayers.Activation(_activation_name_from_keras(klayer.activation, where), name=klayer.name)
    if type(klayer) is keras.layers.Softmax:
        _check_defaults(klayer, where, axis=-1)
        return rlayers.Activation("softmax", name=klayer.name)
    if type(klayer) in (keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.ELU):
        return rlayers.Activation(_activation_layer_from_keras(klayer, where), name=klayer.name)
    if type(klayer) is keras.layers.Dropout:
        _check_defaults(klayer, where, noise_shape=None)
        return rlayers.Dropout(klayer.rate, seed=klayer.seed, name=klayer.name)
    raise NotMappableError(
        f"{where} has no refnn counterpart. keras_bridge maps Dense, Activation, Dropout, Softmax, "
        "ReLU, LeakyReLU, ELU and InputLayer."
    )


def _activation_layer_from_keras(klayer, where: str) -> ractivations.Activation:
    """Keras's ReLU (plain, or leaky when it has only a ``negative_slope``), LeakyReLU and ELU layers."""
    config = klayer.get_config()
    if type(klayer) is keras.layers.ELU:
        return ractivations.ELU(alpha=float(config["alpha"]))
    if type(klayer) is keras.layers.ReLU:
        _check_defaults(klayer, where, max_value=None, threshold=0.0)
        if config.get("negative_slope", 0.0) == 0.0:
            return ractivations.ReLU()
    return ractivations.LeakyReLU(negative_slope=float(config["negative_slope"]))


# ---- models -------------------------------------------------------------------------------------

"""The same network on both sides: refnn ``Sequential`` ↔ ``keras.Sequential``, layer by layer.

================================ =============================================================
refnn                            Keras
================================ =============================================================
``Sequential(input_dim=d)``      ``keras.Sequential([keras.Input((d,)), ...])``
``Dense(units, activation, …)``  ``layers.Dense`` — activation name, ``use_bias``, initializer
                                 classes and seeds, ``L1``/``L2``/``L1L2`` regularizers
``Activation(name)``             ``layers.Activation(name)``; from Keras also ``layers.Softmax()``
                                 and ``layers.ReLU()`` with default arguments
``Dropout(rate, seed)``          ``layers.Dropout(rate, seed=seed)``
``compile(opt, loss, metrics)``  ``compile`` with ``keras_bridge.optimizers`` /
                                 ``keras_bridge.losses`` twins and the same metric names
================================ =============================================================

Parameters are copied, never re-drawn: the initializer *classes and seeds* carry over, but Keras
draws with TensorFlow's Philox generator, so only ``keras_bridge.weights`` makes the values equal.

dtype: a float64 refnn model becomes a float64 Keras model. Every layer, the ``Input`` and the loss
get ``dtype=`` explicitly (so the saved config says float64), and the model is built and compiled
inside ``keras_bridge.floatx(dtype)`` (so the optimizer's learning-rate variable and the metrics
``compile`` creates are float64 too); the global ``floatx`` is restored afterwards. NumPy inputs
to ``fit``/``evaluate``/``predict`` are cast to the *global* floatx by Keras: run a float64 twin
under ``with keras_bridge.floatx("float64"):``.

Values Keras stores as float32 whatever the mode (the ``L1`` factor, and a float32 model's
learning-rate variable) come back as the shortest decimal that rounds to the same float32
(``0.009999999776482582`` → ``0.01``), so refnn → Keras → refnn gives back the configuration you
wrote. Anything without a counterpart raises ``NotMappableError`` naming the layer and option.
"""

from __future__ import annotations

import keras
import numpy as np

import refnn
from refnn import layers as rlayers
from refnn.activations import GELU, LeakyReLU
from refnn import regularizers as rreg
from keras_bridge import losses as blosses
from keras_bridge import optimizers as boptimizers
from keras_bridge import weights as bweights
from keras_bridge.dtypes import floatx, model_dtype
from keras_bridge.errors import NotMappableError
from keras_bridge.functional_chain import chain_layers
from keras_bridge.layer_mapping import layer_from_keras, layer_to_keras
from keras_bridge.plugins.full_batch import full_batch_fit
from keras_bridge.optimizer_state import has_state, state_from_keras, state_to_keras

__all__ = ["to_keras", "from_keras", "keras_exact_copy"]


def _round_regularizer(reg):
    if reg is None:
        return None
    f32 = lambda v: float(np.float32(v))  # noqa: E731
    if type(reg) is rreg.L1:
        return rreg.L1(f32(reg.l1))
    if type(reg) is rreg.L2:
        return rreg.L2(f32(reg.l2))
    return rreg.L1L2(l1=f32(reg.l1), l2=f32(reg.l2))


def keras_exact_copy(model: refnn.Sequential) -> refnn.Sequential:
    """A copy of ``model`` that computes what its Keras twin computes, to rounding level.

    Keras rounds some hyper-parameters through float32 whatever the model's dtype
    (``docs/keras-numerics.md``): the ``L1``/``L2``/``L1L2`` factors (``ops.cast`` of a Python float) and,
    in its optimizers, SGD's momentum, Adam's β's in ``β^t``, the weight-decay factor, Adagrad's
    initial accumulator and schedules — and TensorFlow's ``LeakyRelu`` op keeps its slope in a float32
    attribute (``0.2`` computes as ``0.20000000298…``, a 1.5e-8 relative difference), and its gelu
    casts its constants ``1/√2`` and ``0.044715`` through float32 (~4e-9 in the derivative). The copy
    has leaky-ReLU slopes, GELU's constants (``keras_float32_constants=True``) and the regularizer
    factors rounded through float32 and its optimizer built with ``keras_float32_constants=True``; weights, optimizer
    state and random generators are copied unchanged (``copy.deepcopy``). In float64 this is the
    difference between ~1e-9…1e-6 (measured: 3.5e-9 for the gradients of an L2(0.01) model;
    100-step trajectories 2.1e-7 for SGD with momentum 0.9, 3.7e-6 for Adam) and ~1e-16 relative
    agreement with Keras; in float32 it changes nothing measurable. The model itself is not modified.
    """
    import copy

    twin = copy.deepcopy(model)
    for layer in twin.layers:
        if isinstance(getattr(layer, "activation", None), LeakyReLU):
            layer.activation = LeakyReLU(float(np.float32(layer.activation.negative_slope)))
        if isinstance(getattr(layer, "activation", None), GELU):
            layer.activation = GELU(approximate=layer.activation.approximate, keras_float32_constants=True)
        if type(layer) is rlayers.Dense:
            layer.kernel_regularizer = _round_regularizer(layer.kernel_regularizer)
            layer.bias_regularizer = _round_regularizer(layer.bias_regularizer)
            layer.regularizers = {
                key: reg for key, reg in (("kernel", layer.kernel_regularizer), ("bias", layer.bias_regularizer))
                if reg is not None and (key == "kernel" or layer.use_bias)
            }
    if twin.optimizer is not None:  # the copy's own optimizer (bound to the copy, its state copied)
        twin.optimizer.keras_float32_constants = True
    return twin


def to_keras(model: refnn.Sequential, compile: bool = True, plugins: bool = False,
             optimizer_state: bool = True) -> keras.Sequential:
    """The Keras twin of a built refnn model: same layers, same weights, same dtype.

    Args:
        model: a built ``refnn.Sequential``.
        compile: when the refnn model is compiled, compile the twin with the equivalent optimizer
            (``keras_bridge.optimizers.optimizer_to_keras``), loss and metrics.
        plugins: allow ``keras_bridge.plugins`` classes where stock Keras has no counterpart:
            the Rprop and Quickprop optimizers, the ``sse`` loss, and for a model compiled with
            ``LevenbergMarquardt`` a ``plugins.LevenbergMarquardtModel`` instead of a
            ``keras.Sequential``. Loading such a file then needs ``import keras_bridge``.
        optimizer_state: give the Keras optimizer the refnn optimizer's state (step count and
            slots, ``keras_bridge.optimizer_state``), so that training continues in Keras where it
            stopped in refnn; ``False``: a fresh optimizer.

    Returns:
        a built ``keras.Sequential`` named like the refnn model.

    Raises:
        NotMappableError: a layer, loss, optimizer or option with no Keras counterpart.
        ValueError: the model is not built.
    """
    if not isinstance(model, refnn.Sequential):
        hint = " (a Keras model is already a Keras model; from_keras goes the other way)" \
            if isinstance(model, keras.Model) else ""
        raise TypeError(
            f"`model` must be a refnn.Sequential. Received: model of type {type(model).__module__}."
            f"{type(model).__name__}{hint}"
        )
    if not model.built:
        raise ValueError("The refnn model must be built (give `input_dim=` or call `build`) before to_keras.")
    dtype = model.dtype.name
    compile = compile and model.optimizer is not None and model.loss is not None
    lm = compile and type(model.optimizer).__name__ == "LevenbergMarquardt"
    if lm and not plugins:
        boptimizers.optimizer_to_keras(model.optimizer, plugins=False)  # raises, pointing to plugins
    with floatx(dtype):
        keras_layers = [layer_to_keras(layer, dtype) for layer in model.layers]
        inputs = [keras.Input(shape=(model.input_dim,), dtype=dtype), *keras_layers]
        if lm:
            from keras_bridge.plugins import LevenbergMarquardtModel

            config = {k: v for k, v in model.optimizer.get_config().items() if k != "name"}
            keras_model = LevenbergMarquardtModel(inputs, name=model.name, **config)
        else:
            keras_model = keras.Sequential(inputs, name=model.name)
        bweights.copy_to_keras(model, keras_model)
        if compile:
            _compile_twin(model, keras_model, dtype, lm, plugins, optimizer_state)
    return keras_model


def _compile_twin(model, keras_model, dtype: str, lm: bool, plugins: bool, optimizer_state: bool) -> None:
    """Compile the Keras twin with the counterparts of refnn's optimizer (its state too, if asked),
    loss and metrics; the twin of a full-batch method refuses mini-batches in ``fit``."""
    keras_model.compile(
        optimizer="sgd" if lm else boptimizers.optimizer_to_keras(model.optimizer, dtype=dtype, plugins=plugins),
        loss=blosses.loss_to_keras(model.loss, dtype, plugins=plugins),
        metrics=blosses.metrics_to_keras(model.metrics) or None,
        weighted_metrics=blosses.metrics_to_keras(model._weighted_metrics) or None,
    )
    if optimizer_state:
        state_to_keras(model, keras_model)
    if model.optimizer.requires_full_batch and not lm:  # LevenbergMarquardtModel checks its own
        keras_model.fit = full_batch_fit(keras_model.fit, type(model.optimizer).__name__)


def from_keras(keras_model, seed: int | None = None, compile: bool = True,
               keras_exact: bool = True, optimizer_state: bool = True,
               set_aside: list | None = None) -> refnn.Sequential:
    """The refnn twin of a built ``keras.Sequential`` — or of a Functional ``keras.Model(inputs,
    outputs)`` whose layers form one chain (``keras_bridge.functional_chain``) —: same layers,
    weights (read by name, shapes checked) and dtype.

    Args:
        keras_model: a built ``keras.Sequential`` or Functional chain made of Dense, Activation,
            Dropout, Softmax, ReLU, LeakyReLU, ELU layers (and its InputLayer).
        seed: the refnn model's seed (shuffling in ``fit``, dropout layers without a seed).
        compile: when the Keras model is compiled, compile the twin with the equivalent
            optimizer, loss and metrics.
        keras_exact: reproduce Keras's rounding of hyper-parameters through float32 (see
            ``keras_exact_copy``): regularizer factors rounded, optimizer with
            ``keras_float32_constants=True``. With ``False`` the configs are copied verbatim, and
            ``from_keras(to_keras(m), keras_exact=False)`` gives back ``m``'s configuration bit
            for bit; with ``True`` that holds for models that are already Keras-exact.
        optimizer_state: give the refnn optimizer the Keras optimizer's state (step count and
            slots), so that training continues in refnn where it stopped in Keras.
        set_aside: a list to receive a note for each compiled metric refnn cannot compute
            (``AUC()``, …), which is then left out instead of raising (metrics do not change
            training; ``compare`` uses this).

    Raises:
        NotMappableError: naming the first layer, loss, optimizer or option that refnn does not have,
            or the layer where a Functional graph branches, merges or shares a layer.
    """
    if isinstance(keras_model, refnn.Sequential):
        raise NotMappableError(
            f"from_keras takes a keras.Sequential or a Functional keras.Model chain. Received: "
            f"{type(keras_model).__module__}.{type(keras_model).__name__} {keras_model.name!r} (it is already a "
            "refnn model; to_keras goes the other way)"
        )
    if isinstance(keras_model, keras.Sequential) and (not keras_model.built or not keras_model.inputs):
        raise ValueError(
            f"The Keras model {keras_model.name!r} is not built: start it with keras.Input(shape=(d,)) "
            "or call build((None, d)) first."
        )
    klayers = chain_layers(keras_model)  # a Sequential's layers, or a Functional chain's; else refused
    # layers first, so that e.g. a Conv2D model is refused for its Conv2D layer
    layers = [layer for layer in (layer_from_keras(k) for k in klayers) if layer is not None]
    shape = tuple(keras_model.inputs[0].shape)
    if len(shape) != 2 or shape[1] is None:
        raise NotMappableError(
            f"refnn models take 2-D inputs (N, d). Received: Keras input shape {shape}"
        )
    dtype = model_dtype(keras_model)
    model = refnn.Sequential(layers, input_dim=int(shape[1]), seed=seed, dtype=dtype, name=keras_model.name)
    bweights.copy_from_keras(keras_model, model)
    if compile and getattr(keras_model, "optimizer", None) is not None and keras_model.compiled:
        _compile_like(keras_model, model, dtype, keras_exact, set_aside)
        if optimizer_state and has_state(keras_model):
            state_from_keras(keras_model, model)
    return keras_exact_copy(model) if keras_exact else model


def _compile_like(keras_model, model: refnn.Sequential, dtype: str, keras_exact: bool, set_aside) -> None:
    """Compile ``model`` with the refnn counterparts of the Keras model's optimizer, loss and
    metrics (refusing compile options refnn does not have)."""
    config = keras_model.get_compile_config() or {}
    if config.get("loss_weights"):
        raise NotMappableError(
            f"compile option `loss_weights` has no refnn counterpart. Received: loss_weights={config['loss_weights']!r}"
        )
    from keras_bridge.plugins import LevenbergMarquardtModel

    if isinstance(keras_model, LevenbergMarquardtModel):
        optimizer = refnn.optimizers.LevenbergMarquardt(
            mu=keras_model.initial_mu, mu_decrease=keras_model.mu_decrease,
            mu_increase=keras_model.mu_increase, mu_max=keras_model.mu_max, min_grad=keras_model.min_grad)
    else:
        optimizer = boptimizers.optimizer_from_keras(keras_model.optimizer, keras_float32_constants=False)
        _check_compiled_dtypes(keras_model, optimizer, dtype, keras_exact)
    model.compile(optimizer=optimizer, loss=blosses.loss_from_keras(keras_model.loss),
                  metrics=blosses.metrics_from_keras(config.get("metrics"), set_aside),
                  weighted_metrics=blosses.metrics_from_keras(config.get("weighted_metrics"), set_aside))


def _check_compiled_dtypes(keras_model, optimizer, dtype: str, keras_exact: bool) -> None:
    """A float64 Keras model compiled, or given a loss object made, outside ``floatx("float64")``
    keeps float32 pieces. Its loss is computed (and reported) in float32: refused, refnn has no
    mixed precision. Its learning-rate variable is float32: reproduced — ``optimizer_from_keras``
    maps the rate to the decimal the user wrote (shortest float32 repr), and the ``keras_exact``
    twin computes with the float32 value itself, as Keras does."""
    if dtype != "float64":
        return
    compile_loss = getattr(keras_model, "_compile_loss", None)
    losses = [compile_loss] + [loss for loss in keras.tree.flatten(keras_model.loss)
                               if isinstance(loss, keras.losses.Loss)]
    float32 = next((loss for loss in losses if loss is not None and loss.dtype != "float64"), None)
    if float32 is not None:
        raise NotMappableError(
            f"The Keras model {keras_model.name!r} is float64, but its loss {type(float32).__name__} computes in "
            f"{float32.dtype} (it was made, or the model compiled, while floatx was {float32.dtype!r}; a cast "
            "between the output and the loss also turns off the logits path), which a float64 refnn model cannot "
            "reproduce. Make the loss and compile under keras.config.set_floatx('float64') or "
            "`with keras_bridge.floatx('float64'):`, or pass the loss as a string."
        )
    variable = getattr(keras_model.optimizer, "_learning_rate", None)
    if keras_exact and getattr(variable, "dtype", None) == "float32" and isinstance(optimizer.learning_rate, float):
        optimizer.learning_rate = float(np.float32(optimizer.learning_rate))

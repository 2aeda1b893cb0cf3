"""Layer by layer: every layer's output (forward) and every gradient (backward), refnn vs Keras."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_bridge.compare.known_differences import label_known_differences
from keras_bridge.compare.results import Comparison, make_row
from keras_bridge.compare.twins import keras_layers, setup_notes, twins
from keras_bridge.dtypes import floatx
from refnn.utils.tolerance import TOLERANCES

__all__ = ["forward", "gradients"]


def forward(model, x, y=None, keras_exact: bool = True) -> Comparison:
    """Every layer's output in inference mode, and the loss (regularisation included) if ``y`` is
    given and the model is compiled.

    Args:
        model: a refnn or Keras ``Sequential``.
        x: inputs ``(N, d)``.
        y: optional targets, to compare the loss value too.
        keras_exact: compare against the ``keras_exact_copy`` (see ``keras_bridge.compare``).
    """
    aside = []
    mine, keras_model, dtype = twins(model, keras_exact, compile=y is not None, set_aside=aside)
    rtol = TOLERANCES["forward"][dtype]
    result = Comparison("forward", dtype, notes=setup_notes(keras_exact) + aside)
    x = np.asarray(x, dtype=dtype)
    with floatx(dtype):
        h_mine, h_keras = x, tf.constant(x)
        for layer, klayer in zip(mine.layers, keras_layers(keras_model)):
            h_mine = layer.forward(h_mine, training=False)
            h_keras = klayer(h_keras, training=False)
            result.rows.append(make_row(layer.name, "output", h_mine, h_keras.numpy(), rtol))
        if y is not None and mine.loss is not None:
            loss_mine = mine.evaluate(x, y, batch_size=x.shape[0], return_dict=True, verbose=0)["loss"]
            loss_keras = keras_model.compute_loss(x=x, y=y, y_pred=h_keras, training=False)
            result.rows.append(make_row("model", "loss", loss_mine, float(loss_keras), rtol))
            label_known_differences(result, mine, y)
    return result


def gradients(model, x, y, keras_exact: bool = True) -> Comparison:
    """The loss and, layer by layer from the output down, ``∂E/∂kernel``, ``∂E/∂bias`` and
    ``∂E/∂X`` (the gradient w.r.t. the layer's input), for the total loss incl. regularisation.

    Both sides run in inference mode (dropout is the identity: its masks cannot be matched;
    every other layer computes the same in both modes). Keras differentiates
    ``model.compute_loss`` under ``tf.GradientTape`` — the loss ``fit`` differentiates, with
    the logits path for a softmax/sigmoid output.

    Args:
        model: a compiled refnn or Keras ``Sequential``.
        x, y: a batch.
        keras_exact: compare against the ``keras_exact_copy`` (see ``keras_bridge.compare``).
    """
    aside = []
    mine, keras_model, dtype = twins(model, keras_exact, set_aside=aside)
    if mine.loss is None:
        raise ValueError("compare.gradients needs a compiled model (the loss defines the gradient).")
    x = np.asarray(x, dtype=dtype)
    loss_mine, grads_mine = mine.loss_and_gradients(x, y, training=False)
    dx_mine = dict(mine.input_gradients)
    loss_keras, dx_keras, grads_keras = _keras_gradients(keras_model, x, y, dtype)
    rtol = TOLERANCES["gradients"][dtype]
    result = Comparison("gradients", dtype, notes=setup_notes(keras_exact) + aside)
    result.rows.append(make_row("model", "loss", loss_mine, loss_keras, TOLERANCES["forward"][dtype]))
    for i in reversed(range(len(mine.layers))):
        layer = mine.layers[i]
        for name in layer.params:
            g = grads_keras[i].get(name)
            theirs = np.full(np.shape(layer.params[name]), np.nan) if g is None else g
            result.rows.append(make_row(layer.name, name, grads_mine[f"{layer.name}/{name}"], theirs, rtol))
        if dx_keras[i] is None and layer.name not in dx_mine:
            result.notes.append(
                f"{layer.name}: no dE/dX on either side — the loss is computed from the logits of an earlier "
                "layer, so it does not depend on this layer's input (TensorFlow returns None)")
            continue
        mine_dx = dx_mine.get(layer.name, np.full(np.shape(dx_keras[i]), np.nan))
        theirs_dx = np.full(np.shape(mine_dx), np.nan) if dx_keras[i] is None else dx_keras[i]
        result.rows.append(make_row(layer.name, "dE/dX", mine_dx, theirs_dx, rtol))
    label_known_differences(result, mine, y)
    return result


def _keras_gradients(keras_model, x, y, dtype):
    """``(loss, [∂E/∂(input of layer i)], [{variable name: ∂E/∂variable}])`` by ``GradientTape``."""
    klayers = keras_layers(keras_model)
    with floatx(dtype):
        with tf.GradientTape(persistent=True) as tape:
            h = tf.constant(x)
            inputs = []
            for klayer in klayers:
                tape.watch(h)
                inputs.append(h)
                h = klayer(h, training=False)
            loss = keras_model.compute_loss(x=x, y=y, y_pred=h, training=False)
        dx = [None if g is None else g.numpy() for g in tape.gradient(loss, inputs)]
        grads = []
        for klayer in klayers:
            variables = {v.name: v for v in klayer.trainable_weights}
            values = tape.gradient(loss, list(variables.values()))
            grads.append({name: None if g is None else g.numpy() for name, g in zip(variables, values)})
        del tape
    return float(loss), dx, grads

"""Optimizer steps on the model's own gradients: ``train_step`` in refnn and ``train_on_batch``
(Keras's compiled ``train_function``) on the same batch, step after step."""

from __future__ import annotations

import numpy as np

from keras_bridge.compare.known_differences import label_known_differences
from keras_bridge.compare.results import Comparison, make_row
from keras_bridge.compare.twins import setup_notes, training_twins
from keras_bridge.dtypes import floatx
from keras_bridge.weights import keras_weights_by_path
from refnn.utils.tolerance import TOLERANCES, relative_error

__all__ = ["steps"]


def steps(model, x, y, n_steps: int = 5, keras_exact: bool = True) -> Comparison:
    """``n_steps`` updates of a refnn or Keras model and its twin on the batch ``(x, y)``: the
    gradients are the model's own (its loss on that batch), not a synthetic sequence.

    Both sides start from the same weights with a fresh optimizer (a Keras model given is not
    trained: see ``training_twins``) and run in training mode
    (dropout masks cannot be matched: give a model without active dropout). Rows: the loss before
    each step (refnn ``train_step``'s return, Keras ``train_on_batch``'s), then every parameter —
    each row the worst step of its trajectory, against ``TOLERANCES["optimizer"]``.

    Args:
        model: a compiled refnn or Keras ``Sequential``.
        x, y: the batch (all of it is one step: full-batch methods such as Rprop, Quickprop and
            Levenberg–Marquardt take their own kind of step on it).
        n_steps: how many updates.
        keras_exact: compare against the ``keras_exact_copy`` (see ``keras_bridge.compare``).
    """
    aside = []
    mine, keras_model, dtype = training_twins(model, keras_exact, aside)
    if mine.loss is None:
        raise ValueError("compare.steps needs a compiled model (the loss defines the gradients).")
    x = np.asarray(x, dtype=dtype)
    losses_mine, losses_keras, worst = [], [], {}
    with floatx(dtype):
        for _ in range(n_steps):
            losses_mine.append(mine.train_step(x, y))
            losses_keras.append(float(keras_model.train_on_batch(x, y, return_dict=True)["loss"]))
            theirs = keras_weights_by_path(mine, keras_model)
            for path, value in mine.params.items():
                error = relative_error(value, theirs[path])
                if path not in worst or not error <= worst[path][0]:
                    worst[path] = (error, value.copy(), theirs[path])
    rtol = TOLERANCES["optimizer"][dtype]
    result = Comparison("steps", dtype, notes=setup_notes(keras_exact) + aside + [
        f"{n_steps} steps on one batch of {x.shape[0]} rows; each parameter row is its worst step"])
    loss_error = max((relative_error(a, b) for a, b in zip(losses_mine, losses_keras)), default=0.0)
    result.rows.append(make_row("model", "loss before each step", losses_mine, losses_keras, rtol, rel=loss_error))
    for path, (error, value, theirs) in worst.items():
        layer, _, name = path.rpartition("/")
        result.rows.append(make_row(layer, name, value, theirs, rtol, rel=error))
    label_known_differences(result, mine, y)
    return result

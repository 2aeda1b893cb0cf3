"""Training curves: refnn's ``fit`` and Keras's own ``fit`` on the same batches, epoch by epoch."""

from __future__ import annotations

import copy
import math

import keras
import numpy as np
import tensorflow as tf

from keras_bridge.compare.known_differences import label_known_differences
from keras_bridge.compare.results import TrainingComparison, make_row
from keras_bridge.compare.twins import setup_notes, training_twins
from keras_bridge.dtypes import floatx, model_dtype
from keras_bridge.errors import NotMappableError
from keras_bridge.weights import keras_weights_by_path
from refnn import callbacks as rcallbacks
from refnn.utils.data import split_validation
from refnn.utils.tolerance import TOLERANCES, relative_error

__all__ = ["training", "keras_fit_in_order", "callbacks_to_keras", "callbacks_from_keras"]

#: Keras callbacks that only watch training (files, logs, progress): set aside with a note
_OBSERVERS = ("History", "ProgbarLogger", "ModelCheckpoint", "TensorBoard", "CSVLogger", "RemoteMonitor")
#: Keras callbacks that change the numbers and that a comparison cannot run on both sides: refused
_CHANGERS = {
    "SwapEMAWeights": "refnn's optimizers keep no moving average of the weights",
    "LambdaCallback": "its functions may act on one side's model only; compare without it",
    "BackupAndRestore": "it may restore a backup on one side and change where training starts; compare "
                        "without it",
}
#: refnn callbacks that only watch training: not run on the Keras side (their files are refnn's)
_REFNN_OBSERVERS = (rcallbacks.History, rcallbacks.ProgressBar, rcallbacks.ModelCheckpoint, rcallbacks.CSVLogger)


def callbacks_to_keras(callbacks) -> list:
    """Keras counterparts of refnn callbacks (EarlyStopping, TerminateOnNaN, ReduceLROnPlateau,
    LearningRateScheduler — with the same schedule function); History, the progress bar,
    ModelCheckpoint and CSVLogger only watch and are not run on the Keras side.

    Raises:
        NotMappableError: a callback or option with no Keras counterpart in a comparison
            (``TimeLimit``, ``LambdaCallback``, ``BackupAndRestore``,
            ``comparison_dtype="float64"`` on EarlyStopping or ReduceLROnPlateau).
    """
    out = []
    for cb in callbacks or []:
        if isinstance(cb, _REFNN_OBSERVERS):
            continue
        if getattr(cb, "comparison_dtype", np.float32) != np.float32:
            raise NotMappableError(
                f"{type(cb).__name__}(comparison_dtype='float64') has no Keras counterpart: Keras compares "
                "the monitored values as float32 tensors."
            )
        if isinstance(cb, rcallbacks.EarlyStopping):
            out.append(keras.callbacks.EarlyStopping(
                monitor=cb.monitor, min_delta=cb.min_delta, patience=cb.patience, verbose=0,
                mode=cb.mode, baseline=cb.baseline, restore_best_weights=cb.restore_best_weights,
                start_from_epoch=cb.start_from_epoch))
        elif isinstance(cb, rcallbacks.TerminateOnNaN):
            out.append(keras.callbacks.TerminateOnNaN())
        elif isinstance(cb, rcallbacks.ReduceLROnPlateau):
            out.append(keras.callbacks.ReduceLROnPlateau(
                monitor=cb.monitor, factor=cb.factor, patience=cb.patience, verbose=0, mode=cb.mode,
                min_delta=cb.min_delta, cooldown=cb.cooldown, min_lr=cb.min_lr))
        elif isinstance(cb, rcallbacks.LearningRateScheduler):
            out.append(keras.callbacks.LearningRateScheduler(cb.schedule, verbose=0))
        else:
            why = _CHANGERS.get(type(cb).__name__, "")
            raise NotMappableError(f"Callback {type(cb).__name__} has no Keras counterpart in keras_bridge"
                                   + (f": {why}." if why else "."))
    return out


def callbacks_from_keras(callbacks, set_aside: list) -> list:
    """refnn counterparts of callbacks given for a comparison, which may be refnn's or Keras's:
    Keras's ``EarlyStopping``, ``TerminateOnNaN``, ``ReduceLROnPlateau`` and
    ``LearningRateScheduler`` map to refnn's (same arguments, the same schedule function);
    callbacks that only watch (``ModelCheckpoint``, ``TensorBoard``, ``CSVLogger``, …, and any
    other class that is not known to change training) are set aside with a note in ``set_aside``.

    Raises:
        NotMappableError: a Keras callback that changes the numbers and cannot run on both sides
            (``SwapEMAWeights``, ``LambdaCallback``, ``BackupAndRestore``).
    """
    out = []
    for cb in callbacks or []:
        if not isinstance(cb, keras.callbacks.Callback):
            out.append(cb)
            continue
        name = type(cb).__name__
        if isinstance(cb, keras.callbacks.EarlyStopping):
            out.append(rcallbacks.EarlyStopping(
                monitor=cb.monitor, min_delta=abs(cb.min_delta), patience=cb.patience, mode=cb.mode,
                baseline=cb.baseline, restore_best_weights=cb.restore_best_weights,
                start_from_epoch=cb.start_from_epoch))
        elif isinstance(cb, keras.callbacks.TerminateOnNaN):
            out.append(rcallbacks.TerminateOnNaN())
        elif isinstance(cb, keras.callbacks.ReduceLROnPlateau):
            out.append(rcallbacks.ReduceLROnPlateau(
                monitor=cb.monitor, factor=cb.factor, patience=cb.patience, mode=cb.mode,
                min_delta=abs(cb.min_delta), cooldown=cb.cooldown, min_lr=cb.min_lr))
        elif isinstance(cb, keras.callbacks.LearningRateScheduler):
            out.append(rcallbacks.LearningRateScheduler(cb.schedule))
        elif name in _CHANGERS:
            raise NotMappableError(
                f"Keras callback {name} changes training and cannot run in a comparison: {_CHANGERS[name]}.")
        else:
            why = "it only watches training" if name in _OBSERVERS else \
                "not a Keras callback refnn knows; the comparison assumes it only watches training"
            set_aside.append(f"callback {name}: not run ({why})")
    return out


def replay_dataset(x, y, orders, batch_size: int, dtype, sample_weight=None) -> tf.data.Dataset:
    """The ``tf.data`` pipeline of every epoch's batches in a given order: ``(x, y)`` or, with
    ``sample_weight``, ``(x, y, w)`` tuples of the rows ``orders[e][i·B : (i+1)·B]``, epoch after
    epoch (``B = batch_size``, the last batch of an epoch partial).

    ``x`` and ``sample_weight`` are cast to ``dtype``, ``y`` too unless it holds integers (class
    indices stay integers). Fed to ``fit`` with ``steps_per_epoch = ⌈n / B⌉`` and ``shuffle=False``,
    Keras trains on exactly these batches.
    """
    tensors = [tf.constant(np.asarray(x, dtype=dtype)),
               tf.constant(y if np.issubdtype(np.asarray(y).dtype, np.integer) else np.asarray(y, dtype=dtype))]
    if sample_weight is not None:
        tensors.append(tf.constant(np.asarray(sample_weight, dtype=dtype)))
    return (tf.data.Dataset.from_tensor_slices(np.asarray(orders, dtype=np.int64))
            .flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
            .map(lambda rows: tuple(tf.gather(t, rows) for t in tensors)))


def keras_fit_in_order(keras_model, x, y, orders, batch_size: int, validation_data=None,
                       callbacks=None):
    """Keras ``fit`` fed the batches of a given order, one epoch per row of ``orders``.

    Epoch ``e`` trains on ``x[orders[e]]`` in consecutive batches of ``batch_size`` (the last one
    partial). One ``tf.data`` pipeline (``replay_dataset``) holds all epochs' batches and ``fit`` runs once with
    ``steps_per_epoch`` (Keras keeps one iterator across epochs then), so history, validation
    and callbacks follow Keras's own ``fit``. Runs under ``floatx(model dtype)``.

    Returns:
        Keras's ``History``.
    """
    dtype = model_dtype(keras_model)
    orders = np.asarray(orders, dtype=np.int64)
    if orders.ndim != 2:
        raise ValueError(f"`orders` must be 2-D (epochs, rows). Received: orders.shape={orders.shape}")
    epochs, n = orders.shape
    steps = -(-n // batch_size)
    with floatx(dtype):
        data = replay_dataset(x, y, orders, batch_size, dtype)
        return keras_model.fit(data, epochs=epochs, steps_per_epoch=steps, validation_data=validation_data,
                               validation_batch_size=batch_size, callbacks=callbacks, shuffle=False, verbose=0)


def training(model, x, y, epochs: int = 20, batch_size: int = 32, validation_split: float = 0.0,
             validation_data=None, shuffle: bool = True, callbacks=None,
             keras_exact: bool = True) -> TrainingComparison:
    """Train the refnn model and its Keras twin side by side; compare both histories epoch by
    epoch and the final weights.

    The model passed in is not changed: the refnn side trains a copy (``keras_exact_copy`` or a
    deep copy), with the same random generators; Keras trains ``to_keras(model)``. refnn draws
    the batch order and Keras receives exactly those batches (see ``keras_bridge.compare``).

    Args:
        model: a compiled refnn ``Sequential`` or Keras ``Sequential`` (not trained itself: its
            twins are).
        x, y: training data (``validation_split`` takes the last rows, as both ``fit`` s do).
        epochs, batch_size, validation_split, validation_data, shuffle: as ``fit``.
        callbacks: refnn or Keras callbacks (EarlyStopping, TerminateOnNaN, ReduceLROnPlateau,
            LearningRateScheduler; callbacks that only watch are set aside with a note, or run on
            the refnn side only); each side gets its own copy.
        keras_exact: compare against the ``keras_exact_copy`` (see ``keras_bridge.compare``).

    Returns:
        a ``TrainingComparison``: rows ``history/<key>`` (worst epoch), ``history/epochs run``,
        and ``<layer>/<param>`` for the final weights; ``keras_callbacks`` holds the Keras
        callbacks Keras's ``fit`` ran, with their state after it (``EarlyStopping.best_epoch``, …).
    """
    set_aside = []
    callbacks = callbacks_from_keras(callbacks, set_aside)
    mine, keras_model, dtype = training_twins(model, keras_exact, set_aside)
    if mine.loss is None:
        raise ValueError("compare.training needs a compiled model.")
    x = np.asarray(x, dtype=dtype)
    x_train, y_train, x_val, y_val = split_validation(x, np.asarray(y), validation_split)
    if x_val is None and validation_data is not None:
        x_val, y_val = np.asarray(validation_data[0], dtype=dtype), validation_data[1]
    n = x_train.shape[0]
    # refnn's fit draws one permutation per epoch from the model's shuffle generator: replay it
    orders = mine.next_shuffle_orders(n, epochs) if shuffle else np.tile(np.arange(n), (epochs, 1))
    keras_callbacks = callbacks_to_keras(callbacks)
    history_mine = mine.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                            validation_split=validation_split, validation_data=validation_data,
                            callbacks=copy.deepcopy(list(callbacks or [])), verbose=0).history
    validation = None if x_val is None else (x_val, y_val)
    history_keras = keras_fit_in_order(keras_model, x_train, y_train, orders, batch_size,
                                       validation_data=validation, callbacks=keras_callbacks).history
    setup = (f"{epochs} epochs, batch_size={batch_size}, {n} training rows"
             + (f", {x_val.shape[0]} validation rows" if x_val is not None else "")
             + (", refnn's shuffle order" if shuffle else ", no shuffling"))
    result = TrainingComparison(
        "training", dtype, notes=setup_notes(keras_exact) + [setup] + set_aside,
        refnn_history={k: list(v) for k, v in history_mine.items()},
        keras_history={k: list(map(float, v)) for k, v in history_keras.items()},
        refnn_epochs=len(history_mine.get("loss", [])), keras_epochs=len(history_keras.get("loss", [])),
        keras_callbacks=list(keras_callbacks))
    _compare_histories(result, history_mine, history_keras, TOLERANCES["training"][dtype])
    final_keras = keras_weights_by_path(mine, keras_model)
    for path, value in mine.params.items():
        layer, _, name = path.rpartition("/")
        result.rows.append(make_row(layer, name, value, final_keras[path], TOLERANCES["training"][dtype]))
    label_known_differences(result, mine, y)
    return result


def _compare_histories(result: TrainingComparison, mine: dict, theirs: dict, rtol: float) -> None:
    """One row for the epochs run, then one per history key (its worst epoch): loss first, then
    the metrics, then the validation keys."""
    result.rows.append(make_row("history", "epochs run", [result.refnn_epochs], [result.keras_epochs], 0.0))
    for key in sorted(set(mine) | set(theirs), key=lambda k: (k.startswith("val_"), k != "loss", k)):
        a = np.asarray(mine.get(key, [np.nan]), dtype=np.float64)
        b = np.asarray(theirs.get(key, [np.nan]), dtype=np.float64)
        rel = max((relative_error(a[e], b[e]) for e in range(a.size)), default=0.0) \
            if a.shape == b.shape else math.inf
        result.rows.append(make_row("history", key, a, b, rtol, rel=rel))

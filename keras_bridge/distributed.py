"""Training under ``tf.distribute`` when one machine is not enough.

Under ``MirroredStrategy`` (several devices of one machine) Keras's own ``fit`` works, with stock
optimizers and with every plugin: Rprop, Quickprop, and ``LevenbergMarquardtModel``, which sums
``JᵀJ``, ``Jᵀe`` and ``Σe²`` over the replicas and takes one step for all of them.

Under ``MultiWorkerMirroredStrategy`` (several machines) Keras 3's ``fit`` itself fails before the
first step — it reduces the first batch and the step outputs in ways the multi-worker strategy
refuses (keras-team/keras#20585, open for Keras 3.x) — whatever the optimizer. ``fit`` here is the
loop Keras's ``fit`` runs, without those two reductions: the model's own ``train_step`` on each
replica's shard of each batch (``strategy.run``), the metrics read once per epoch. It works under
any strategy, and under none.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_bridge import plugins
from keras_bridge.plugins.full_batch import refuse_mini_batches

__all__ = ["fit"]


def fit(model, x, y, epochs: int = 1, batch_size: int | None = None, strategy=None) -> dict[str, list[float]]:
    """Train ``model`` (built and compiled inside ``strategy.scope()``) on ``(x, y)`` in batches of
    ``batch_size`` rows (default: all of them), without shuffling; returns the history
    ``{metric: [value per epoch]}`` as Keras's ``fit`` reports it (the loss averaged over the
    epoch's batches, the compiled metrics).

    Rprop, Quickprop and Levenberg–Marquardt refuse a ``batch_size`` below the number of rows.
    Every worker of a multi-worker cluster runs the same call on the same data; each replica
    trains on its shard of every batch (``tf.data`` auto-sharding by data), and the gradients (or,
    for ``LevenbergMarquardtModel``, the normal equations) are summed across all of them.
    """
    strategy = strategy or tf.distribute.get_strategy()
    rows = len(x)
    method = _full_batch_method(model)
    if method is not None:
        refuse_mini_batches(method, rows, rows if batch_size is None else batch_size)
    batch_size = rows if batch_size is None else int(batch_size)
    with strategy.scope():
        _build(model, x[:1], y[:1])
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).with_options(options)
    batches = strategy.experimental_distribute_dataset(dataset)

    def one_step(batch):
        return strategy.run(model.train_step, args=(batch,))

    if not model.run_eagerly:
        one_step = tf.function(one_step, reduce_retracing=True)
    history: dict[str, list[float]] = {}
    model.stop_training = False
    for _ in range(epochs):
        for metric in model.metrics:
            metric.reset_state()
        for batch in batches:
            one_step(batch)
        for name, value in model.get_metrics_result().items():
            history.setdefault(name, []).append(float(np.asarray(value)))
        if model.stop_training:
            break
    return history


def _full_batch_method(model) -> str | None:
    """The name of the full-batch method ``model`` trains with (Rprop, Quickprop,
    Levenberg–Marquardt), or None."""
    if isinstance(model, plugins.LevenbergMarquardtModel):
        return "Levenberg–Marquardt"
    optimizer = getattr(model, "optimizer", None)
    return type(optimizer).__name__ if isinstance(optimizer, (plugins.Rprop, plugins.Quickprop)) else None


def _build(model, x, y) -> None:
    """Create the optimizer's, the loss's and the metrics' variables before the first step, as
    Keras's ``fit`` does (variables are created once, in the strategy's scope, not per replica)."""
    if getattr(model, "optimizer", None) is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    y_pred = model(x, training=False)
    if model._compile_loss is not None and not model._compile_loss.built:
        model._compile_loss.build(y, y_pred)
    if model._compile_metrics is not None and not model._compile_metrics.built:
        model._compile_metrics.build(y, y_pred)

"""The replicas of a ``tf.distribute`` strategy, as the plugins that exchange more than gradients
see them (Levenberg–Marquardt's normal equations, iRprop+'s loss)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["replica_context", "sum_over_replicas"]


def replica_context():
    """The replica context when training runs on several replicas (``tf.distribute``), else None."""
    context = tf.distribute.get_replica_context()
    if context is None or not tf.distribute.has_strategy() or context.num_replicas_in_sync < 2:
        return None
    return context


def sum_over_replicas(*arrays) -> tuple[np.ndarray, ...]:
    """Each array summed over the replicas (all-reduce; every replica gets the sums)."""
    context = replica_context()
    if context is None:
        return arrays
    reduced = context.all_reduce(tf.distribute.ReduceOp.SUM, [tf.constant(a, tf.float64) for a in arrays])
    return tuple(np.asarray(r.numpy()) for r in reduced)

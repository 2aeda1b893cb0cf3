"""Full-batch methods in Keras: Rprop, Quickprop and Levenberg–Marquardt need the gradient (or the
Jacobian) of the whole training set, and Keras's default batch size is 32. A Keras optimizer never
sees the batch, so the checks sit where the batch is known: ``LevenbergMarquardtModel.fit``, the
``fit`` of the Keras twin ``to_keras`` makes of a full-batch refnn model, and
``keras_bridge.distributed.fit``. (A ``keras.Sequential`` a user compiles with ``plugins.Rprop``
has no such check: Keras gives an optimizer no way to see the batch.)"""

from __future__ import annotations

import functools
import inspect

from refnn.utils.validation import check_full_batch

__all__ = ["refuse_mini_batches", "full_batch_fit"]


def refuse_mini_batches(name: str, rows, batch_size, validation_split: float = 0.0) -> None:
    """Refuse a ``batch_size`` below the number of training rows (``rows`` minus Keras's held-out
    validation rows); ``rows=None`` (a dataset) cannot be checked."""
    if rows is None:
        return
    training_rows = int(rows * (1.0 - (validation_split or 0.0)))
    check_full_batch(name, batch_size, training_rows, default=(32, "Keras's"))


def full_batch_fit(fit, name: str):
    """``fit`` (a bound Keras ``fit``, same signature) that refuses mini-batches first."""
    signature = inspect.signature(fit)

    @functools.wraps(fit)
    def checked_fit(*args, **kwargs):
        arguments = signature.bind_partial(*args, **kwargs).arguments
        x = arguments.get("x")
        refuse_mini_batches(name, getattr(x, "shape", (None,))[0], arguments.get("batch_size"),
                            arguments.get("validation_split", 0.0))
        return fit(*args, **kwargs)

    return checked_fit

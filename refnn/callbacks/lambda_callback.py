"""A callback made of plain functions — Keras's ``LambdaCallback``."""

from __future__ import annotations

from refnn.callbacks.base import Callback

__all__ = ["LambdaCallback"]

#: hooks ``fit`` calls that a LambdaCallback may also take as keyword arguments (Keras's older names)
_EXTRA_HOOKS = ("on_batch_begin", "on_batch_end")
#: Keras hooks refnn's ``fit`` never calls (no test/predict callbacks): refused rather than ignored
_UNCALLED_HOOKS = ("on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
                   "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")


class LambdaCallback(Callback):
    """Call the given functions at the hooks of the same names, with Keras's signatures:

    * ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``
    * ``on_train_begin(logs)``, ``on_train_end(logs)``
    * ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end(batch, logs)``

    Epochs and batches are 0-based; ``logs`` is the dict ``fit`` passes (an epoch's losses and
    metrics at ``on_epoch_end``; the running means at ``on_train_batch_end``). As in Keras, the
    older names ``on_batch_begin``/``on_batch_end`` may be given as keyword arguments. Keras's
    test and predict hooks (``on_test_begin``, ...) are refused: refnn's ``fit`` and
    ``evaluate`` do not call them, and a function that is silently never called would mislead.

    Example::

        LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        for name in kwargs:
            if name in _UNCALLED_HOOKS:
                raise ValueError(f"LambdaCallback: refnn never calls `{name}` (it has no test or predict "
                                 f"callbacks). Received: {name}={kwargs[name]!r}")
            if name not in _EXTRA_HOOKS:
                raise TypeError(f"LambdaCallback got an unexpected keyword argument {name!r}; the hooks are "
                                "on_epoch_begin, on_epoch_end, on_train_begin, on_train_end, "
                                "on_train_batch_begin, on_train_batch_end, on_batch_begin, on_batch_end.")
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end, "on_train_begin": on_train_begin,
                 "on_train_end": on_train_end, "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end, **kwargs}
        for name, function in hooks.items():
            if function is None:
                continue
            if not callable(function):
                raise TypeError(f"LambdaCallback: `{name}` must be a function. Received: {name}={function!r}")
            setattr(self, name, function)  # an instance attribute, as in Keras: called without `self`

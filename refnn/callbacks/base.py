"""The callback hooks ``fit`` calls, Keras's names and order."""

from __future__ import annotations

from refnn.utils.unsupported import keras_class

__all__ = ["Callback", "CallbackList", "monitor_direction", "refuse_keras_callback"]


class Callback:
    """Base class. ``model`` is set by ``fit`` before ``on_train_begin``.

    Hooks (epochs and batches are 0-based): ``on_train_begin(logs)``,
    ``on_epoch_begin(epoch, logs)``, ``on_train_batch_begin(batch, logs)``,
    ``on_train_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_end(logs)``.
    A callback stops training by setting ``model.stop_training = True``; ``stop_reason`` is the
    reason ``fit`` then records in ``History.stop_reason`` (``"callback"`` when it is ``None``).
    """

    #: what ``History.stop_reason`` says when this callback stops training
    stop_reason: str | None = None

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...

    # Keras: the train-batch hooks call the older ``on_batch_*`` names, so overriding either works
    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


def monitor_direction(callback: Callback, monitor: str) -> str:
    """``"min"`` or ``"max"`` for ``mode="auto"``: "min" for ``loss``/``val_loss``, else the
    direction of the model's metric of that name (``"up"`` → "max"); an unknown direction is an
    error naming the callback and the monitor."""
    name = monitor.removeprefix("val_")
    if name == "loss":
        return "min"
    model = callback.model
    compiled = [*(getattr(model, "metrics", None) or []), *(getattr(model, "weighted_metrics", None) or [])]
    for metric in compiled:  # Keras searches the weighted metrics too
        if getattr(metric, "name", None) == name and getattr(metric, "direction", None) in ("up", "down"):
            return "max" if metric.direction == "up" else "min"
    who = type(callback).__name__
    raise ValueError(
        f"{who} cannot tell whether `{monitor}` should be minimised or maximised. "
        f'Pass mode="min" or mode="max". Received: monitor={monitor!r}, mode="auto"'
    )


def _overrides(cb: Callback, *names: str) -> bool:
    """Whether the class or the instance (``LambdaCallback``'s functions) defines one of ``names``."""
    own = getattr(cb, "__dict__", {})
    return any(name in own or getattr(type(cb), name) is not getattr(Callback, name) for name in names)


#: Keras callbacks with a refnn counterpart of the same name and arguments
_COUNTERPARTS = ("EarlyStopping", "TerminateOnNaN", "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler",
                 "CSVLogger", "LambdaCallback", "BackupAndRestore", "History", "ProgbarLogger")
#: Keras callbacks without one, and what to use instead (also the advice of ``refnn.callbacks.<name>``)
NO_COUNTERPART = {
    "TensorBoard": "refnn writes no TensorBoard logs: use refnn.callbacks.CSVLogger, or plot model.history",
    "RemoteMonitor": "refnn posts nothing over HTTP: use refnn.callbacks.LambdaCallback(on_epoch_end=...) "
                     "to send the logs yourself",
    "SwapEMAWeights": "refnn's optimizers have no exponential moving average of the weights",
    "OrbaxCheckpoint": "use refnn.callbacks.ModelCheckpoint or BackupAndRestore (refnn's own formats)",
}


def refuse_keras_callback(cb) -> None:
    """Raise a TypeError naming refnn's counterpart when ``cb`` is a Keras callback (found by its
    class's module: refnn never imports Keras); return quietly otherwise."""
    cls = type(cb)
    keras_base = keras_class(cb)
    if keras_base is None:
        return
    name = cls.__name__
    if keras_base is cls and name in _COUNTERPARTS:
        advice = (f"use refnn.callbacks.{name} with the same arguments" if name not in ("History", "ProgbarLogger")
                  else "drop it: refnn's fit makes its own History and progress bar (refnn.callbacks."
                       f"{'History' if name == 'History' else 'ProgressBar'})")
    elif keras_base is cls:
        advice = NO_COUNTERPART.get(name, "refnn has no counterpart: write a subclass of refnn.callbacks.Callback")
    else:
        advice = (f"subclass refnn.callbacks.Callback instead of {keras_base.__module__}.{keras_base.__name__} "
                  "(same hook names and arguments; `self.model` is the refnn model)")
    raise TypeError(f"`callbacks` holds a Keras callback, {name}, which refnn's fit cannot run: {advice}. "
                    f"Received: {cb!r}")


class CallbackList:
    """Calls each hook on every callback, in order, and remembers which callback stopped
    training (``stopped_by``: the one that last set ``model.stop_training`` from False to True).

    Batch hooks run once per step, so only the callbacks that override them are called there.
    """

    def __init__(self, callbacks, model, params: dict):
        self.callbacks = list(callbacks)
        self.model = model
        self.stopped_by: Callback | None = None
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                refuse_keras_callback(cb)
                raise TypeError(
                    "Each entry of `callbacks` must be a refnn.callbacks.Callback. "
                    f"Received: {cb!r} of type {type(cb).__name__}"
                )
            cb.set_model(model)
            cb.set_params(params)
        self._batch_begin = [cb for cb in self.callbacks if _overrides(cb, "on_train_batch_begin", "on_batch_begin")]
        self._batch_end = [cb for cb in self.callbacks if _overrides(cb, "on_train_batch_end", "on_batch_end")]

    @property
    def wants_batch_begin(self) -> bool:
        """Whether any callback acts at the start of a batch."""
        return bool(self._batch_begin)

    @property
    def wants_batch_logs(self) -> bool:
        """Whether any callback reads the running per-batch logs."""
        return bool(self._batch_end)

    def _call(self, callbacks, hook: str, *args) -> None:
        for cb in callbacks:
            running = not getattr(self.model, "stop_training", False)
            getattr(cb, hook)(*args)
            if running and getattr(self.model, "stop_training", False):
                self.stopped_by = cb  # the latest stop wins (a callback may have undone an earlier one)

    def on_train_begin(self, logs=None):
        self.stopped_by = None
        self._call(self.callbacks, "on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call(self.callbacks, "on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call(self.callbacks, "on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call(self.callbacks, "on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call(self._batch_begin, "on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call(self._batch_end, "on_train_batch_end", batch, logs)

"""The callback hooks ``fit`` calls, Keras's names and order."""

from __future__ import annotations

__all__ = ["Callback", "CallbackList", "monitor_direction"]


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
    for metric in getattr(callback.model, "metrics", None) or []:
        if getattr(metric, "name", None) == name and getattr(metric, "direction", None) in ("up", "down"):
            return "max" if metric.direction == "up" else "min"
    who = type(callback).__name__
    raise ValueError(
        f"{who} cannot tell whether `{monitor}` should be minimised or maximised. "
        f'Pass mode="min" or mode="max". Received: monitor={monitor!r}, mode="auto"'
    )


def _overrides(cb: Callback, *names: str) -> bool:
    return any(getattr(type(cb), name) is not getattr(Callback, name) for name in names)


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
                raise TypeError(
                    "Each entry of `callbacks` must be a refnn.callbacks.Callback. "
                    f"Received: {cb!r} of type {type(cb).__name__}"
                )
            cb.set_model(model)
            cb.set_params(params)
        self._batch_begin = [cb for cb in self.callbacks if _overrides(cb, "on_train_batch_begin", "on_batch_begin")]
        self._batch_end = [cb for cb in self.callbacks if _overrides(cb, "on_train_batch_end", "on_batch_end")]

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

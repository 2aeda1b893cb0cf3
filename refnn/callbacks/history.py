"""The record ``fit`` returns."""

from __future__ import annotations

from refnn.callbacks.base import Callback

__all__ = ["History"]


class History(Callback):
    """``history[key]`` is the list of per-epoch values of each log key, ``epoch`` the epochs run.

    ``history["loss"][e]`` follows Keras: ``Σ_b n_b L_b / Σ_b n_b`` over the batches of epoch e,
    where ``L_b`` is the batch loss (regularisation included, training mode) computed with the
    weights *before* that batch's update and ``n_b`` its size.
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"

"""Save the model (or its weights) during training — Keras's ``ModelCheckpoint``, in refnn's formats."""

from __future__ import annotations

import os
import warnings

from refnn.callbacks.monitoring import BatchCounter, MonitorCallback, check_save_freq
from refnn.utils.validation import check_bool

__all__ = ["ModelCheckpoint"]

_KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def _check_filepath(filepath, save_weights_only: bool) -> str:
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"`filepath` must be a path (it may hold placeholders such as {{epoch:02d}}). "
                        f"Received: filepath={filepath!r}")
    filepath = os.fspath(filepath)
    if filepath.lower().endswith(_KERAS_SUFFIXES):
        writer, example = ("model.save_weights", "best.weights.npz") if save_weights_only else \
            ("model.save", "best.refnn")
        raise ValueError(
            f"ModelCheckpoint writes refnn's own format ({writer}), which Keras cannot load, so it refuses a "
            f"Keras file name. Use another name, e.g. {example!r} (load it back with "
            f"{'model.load_weights' if save_weights_only else 'refnn.load_model'}), and write a Keras file "
            f"once training is done with keras_bridge.export(model, path). Received: filepath={filepath!r}")
    return filepath


class ModelCheckpoint(MonitorCallback):
    """Save the model at the end of every epoch (or every ``save_freq`` batches), Keras's rules.

    * ``filepath`` is formatted as ``filepath.format(epoch=e + 1, **logs)`` — the epoch 1-based,
      so ``"ckpt-{epoch:02d}-{val_loss:.2f}.refnn"`` works; with an integer ``save_freq`` also
      ``batch=b + 1`` (the running logs of the epoch). A placeholder missing from the logs is a
      ``KeyError`` naming the filepath.
    * ``save_best_only``: save only when ``improved(logs[monitor], best)`` (``MonitorCallback``:
      float32 comparison unless ``comparison_dtype="float64"``, no ``min_delta``), then
      ``best = logs[monitor]``; ``best`` starts at ``initial_value_threshold``. A monitor missing
      from the logs warns and saves anyway (Keras).
    * Files are refnn's: ``model.save`` (architecture, weights, optimizer and random state;
      ``refnn.load_model``) or, with ``save_weights_only``, ``model.save_weights`` (``.npz``;
      ``model.load_weights``); both write atomically. Keras's names (``.keras``, ``.h5``) are refused
      at construction, as refnn's saving refuses them: Keras could not read the file.
    * ``save_freq``: ``"epoch"`` or a number of batches, counted across epochs as Keras counts them.

    Attributes:
        best: the best monitored value so far (``save_best_only``).
        saved: the paths written, in order (refnn's addition, for inspection).
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq="epoch",
                 initial_value_threshold: float | None = None, comparison_dtype: str = "float32"):
        super().__init__(monitor, mode, initial_value_threshold, comparison_dtype=comparison_dtype,
                         baseline_name="initial_value_threshold")
        self.verbose = verbose
        self.save_best_only = check_bool("save_best_only", save_best_only)
        self.save_weights_only = check_bool("save_weights_only", save_weights_only)
        self.filepath = _check_filepath(filepath, self.save_weights_only)
        self.save_freq = check_save_freq(save_freq)
        self._batch_counter = None if self.save_freq == "epoch" else BatchCounter(self.save_freq)
        self._current_epoch = 0
        self.saved: list[str] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._batch_counter is not None and self._batch_counter.due(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._resolve_direction()
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_model(self, epoch: int, logs: dict, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                      f"saving model to {filepath}")
            self.best = float(current)
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save_model(self, epoch: int, batch: int | None, logs) -> None:
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise IsADirectoryError(f"Please specify a non-directory filepath for ModelCheckpoint. Filepath used "
                                    f"is an existing directory: {filepath}")
        if not self._should_save_model(epoch, logs, filepath):
            return
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)
        self.saved.append(filepath)

    def _get_file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as exc:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {exc}') from None

    def __repr__(self):
        return (f"ModelCheckpoint(filepath={self.filepath!r}, monitor={self.monitor!r}, "
                f"save_best_only={self.save_best_only}, save_weights_only={self.save_weights_only}, "
                f"mode={self.mode!r}, save_freq={self.save_freq!r})")

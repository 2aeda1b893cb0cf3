"""Resume an interrupted ``fit`` where it stopped — Keras's ``BackupAndRestore``, in refnn's format."""

from __future__ import annotations

import io
import json
import os

import numpy as np

from refnn.callbacks.base import Callback
from refnn.callbacks.monitoring import BatchCounter, check_save_freq
from refnn.utils.validation import check_bool

__all__ = ["BackupAndRestore"]

_BACKUP = "backup.npz"
_METADATA = "__metadata__"


def _saving():
    """``refnn.models.saving``, imported when first used: importing it at module level would run
    ``refnn.models``'s ``__init__``, whose ``Sequential`` imports ``refnn.callbacks`` — still being
    initialised when this module is."""
    import refnn.models.saving as saving
    return saving


def write_backup(path: str, metadata: dict, arrays: dict) -> None:
    """One ``.npz`` file — the arrays, and ``metadata`` as a JSON string — written atomically
    (``saving.atomic_write``): a crash leaves the previous backup whole, never a mix."""
    buffer = io.BytesIO()
    np.savez(buffer, **{_METADATA: np.array(json.dumps(metadata))}, **arrays)
    data = buffer.getvalue()
    _saving().atomic_write(path, lambda f: f.write(data))


def read_backup(path: str) -> tuple[dict, dict]:
    """``(metadata, arrays)`` of a backup, read without pickle (``saving.read_npz``)."""
    what = f"The backup {path!r}"
    try:
        arrays = _saving().read_npz(path, what)
        metadata = json.loads(str(arrays.pop(_METADATA)))
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{what} cannot be read ({exc}): delete it to start afresh.") from None
    return metadata, arrays


class BackupAndRestore(Callback):
    """Back up the training state at the end of every epoch (or every ``save_freq`` batches), and
    restore it when ``fit`` starts again with the same ``backup_dir``.

    The backup is one file, ``backup_dir/backup.npz``, written atomically: the weights, the
    optimizer's state (step count, carried scalars and slots), every random generator's state
    (``fit``'s shuffling, dropout masks), the epochs completed and the learning rate. At
    ``on_train_begin`` an existing backup is loaded into the model and
    ``model._initial_epoch`` is set to the epochs completed: ``fit`` then runs the remaining epochs
    (Keras's ``fit`` reads ``model._initial_epoch`` after ``on_train_begin``). Because the
    shuffle generator is restored, an interrupted run resumed this way ends with exactly the
    weights of an uninterrupted run. A float learning rate is restored too (Keras's optimizer
    saves its learning-rate variable with the weights), so a ``ReduceLROnPlateau`` reduction
    survives — but, as in Keras, the other callbacks' own counters (patience, best) start afresh.

    An exception ends ``fit`` without ``on_train_end``, so the backup stays; a ``fit`` that ends
    normally deletes it when ``delete_checkpoint`` (refnn deletes the file it wrote, and the
    directory only if that leaves it empty; Keras removes the whole directory tree).

    With an integer ``save_freq`` the backup is taken every ``save_freq`` batches, but — as in
    Keras 3 — a restored run restarts the epoch the backup was taken in, from the mid-epoch
    weights: that run is no longer the uninterrupted one.

    Args:
        backup_dir: the directory of the backup (created if needed).
        save_freq: ``"epoch"`` or a positive number of batches.
        delete_checkpoint: delete the backup when training ends normally.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir or not isinstance(backup_dir, (str, os.PathLike)):
            raise ValueError(f"`backup_dir` must be a directory path. Received: backup_dir={backup_dir!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = check_save_freq(save_freq)
        self.delete_checkpoint = check_bool("delete_checkpoint", delete_checkpoint)
        self._backup_path = os.path.join(self.backup_dir, _BACKUP)
        self._batch_counter = None if self.save_freq == "epoch" else BatchCounter(self.save_freq)
        self._current_epoch = 0

    def on_train_begin(self, logs=None):
        if os.path.exists(self._backup_path):
            self._restore(read_backup(self._backup_path))

    def _restore(self, backup: tuple) -> None:
        """Weights, optimizer and random state through ``refnn.models.saving`` (all checked before
        anything is written); the epoch and a float learning rate are the backup's own."""
        metadata, arrays = backup
        weights = {key.removeprefix("weights/"): value for key, value in arrays.items() if key.startswith("weights/")}
        try:
            _saving().assign_weights(self.model, weights, f"the backup {self._backup_path!r}")
            _saving().restore_training_state(self.model, metadata, arrays)
        except ValueError as exc:
            raise ValueError(f"The backup {self._backup_path!r} holds the weights of another model ({exc}). "
                             "Delete it or use another backup_dir.") from None
        optimizer = self.model.optimizer
        if metadata["learning_rate"] is not None and not callable(optimizer.learning_rate):
            optimizer.learning_rate = metadata["learning_rate"]
        self.model._initial_epoch = self._current_epoch = int(metadata["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self._batch_counter is not None and self._batch_counter.due(batch):
            self._save()

    def _save(self) -> None:
        state, arrays = _saving().training_state(self.model)
        learning_rate = self.model.optimizer.learning_rate
        metadata = {"epoch": self._current_epoch,
                    "learning_rate": None if callable(learning_rate) else float(learning_rate), **state}
        arrays.update({f"weights/{path}": np.asarray(value) for path, value in self.model.params.items()})
        os.makedirs(self.backup_dir, exist_ok=True)
        write_backup(self._backup_path, metadata, arrays)

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        if os.path.exists(self._backup_path):
            os.remove(self._backup_path)
        if os.path.isdir(self.backup_dir) and not os.listdir(self.backup_dir):
            os.rmdir(self.backup_dir)

    def __repr__(self):
        return (f"BackupAndRestore(backup_dir={self.backup_dir!r}, save_freq={self.save_freq!r}, "
                f"delete_checkpoint={self.delete_checkpoint})")

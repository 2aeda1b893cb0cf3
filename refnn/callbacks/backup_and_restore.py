"""Resume an interrupted ``fit`` where it stopped — Keras's ``BackupAndRestore``, in refnn's format."""

from __future__ import annotations

import json
import os

import numpy as np

from refnn.callbacks.base import Callback

__all__ = ["BackupAndRestore"]

_BACKUP = "backup.npz"


def write_backup(path: str, metadata: dict, arrays: dict) -> None:
    """One ``.npz`` file — the arrays, and ``metadata`` as a JSON string — written to a temporary
    file and renamed over ``path``: a crash leaves the previous backup whole, never a mix."""
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        np.savez(f, __metadata__=np.array(json.dumps(metadata)), **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_backup(path: str) -> tuple[dict, dict, dict]:
    """``(metadata, {param path: weights}, {optimizer key: slot})`` of a backup (no pickle)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            metadata = json.loads(str(archive["__metadata__"]))
            arrays = {key: archive[key] for key in archive.files if key != "__metadata__"}
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"The backup {path!r} cannot be read ({exc}): delete it to start afresh.") from None
    weights = {key.removeprefix("weights/"): value for key, value in arrays.items() if key.startswith("weights/")}
    slots = {key.removeprefix("optimizer/"): value for key, value in arrays.items() if key.startswith("optimizer/")}
    return metadata, weights, slots


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
        is_count = isinstance(save_freq, (int, np.integer)) and not isinstance(save_freq, bool) and save_freq > 0
        if save_freq != "epoch" and not is_count:
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq!r}. "
                             "Expected either 'epoch' or a positive integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._backup_path = os.path.join(self.backup_dir, _BACKUP)
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    def on_train_begin(self, logs=None):
        if os.path.exists(self._backup_path):
            self._restore(read_backup(self._backup_path))

    def _restore(self, backup: tuple) -> None:
        metadata, weights, slots = backup
        params = self.model.params
        expected = {path: np.shape(value) for path, value in params.items()}
        found = {path: np.shape(value) for path, value in weights.items()}
        if expected != found:
            raise ValueError(f"The backup {self._backup_path!r} holds the weights of another model "
                             f"({found}); this model has {expected}. Delete it or use another backup_dir.")
        for path, value in weights.items():
            params[path][...] = value
        self.model.set_random_state(metadata["random"])
        optimizer = self.model.optimizer
        optimizer.set_state(metadata["optimizer"], slots)
        if metadata["learning_rate"] is not None and not callable(optimizer.learning_rate):
            optimizer.learning_rate = metadata["learning_rate"]
        self.model._initial_epoch = self._current_epoch = int(metadata["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        added = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save()

    def _save(self) -> None:
        optimizer = self.model.optimizer
        scalars, slots = optimizer.get_state()
        learning_rate = optimizer.learning_rate
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen,
                    "learning_rate": None if callable(learning_rate) else float(learning_rate),
                    "random": self.model.random_state(), "optimizer": scalars}
        arrays = {f"weights/{path}": np.array(value) for path, value in self.model.params.items()}
        arrays.update({f"optimizer/{key}": value for key, value in slots.items()})
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

"""Which loader fits a file: refnn's own formats and Keras's are told apart by name when saving
and by content when loading, so that a file always reaches the loader that can read it.

refnn writes two formats (``Sequential.save``: a zip archive with ``metadata.json``,
``config.json``, ``model.weights.npz`` and the training state; ``save_weights``: a NumPy
``.npz``). Keras's are a ``.keras`` zip (``config.json``, ``metadata.json``,
``model.weights.h5``) and HDF5 ``.weights.h5`` / ``.h5`` files; refnn reads and writes those only
through ``keras_bridge`` (refnn imports NumPy alone).
"""

from __future__ import annotations

import os
import zipfile

__all__ = ["refuse_keras_name", "keras_file_hint"]

_KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def refuse_keras_name(path, what: str) -> None:
    """Refuse to write a refnn file under a Keras name: Keras could not load it."""
    name = os.fspath(path)
    if name.lower().endswith(_KERAS_SUFFIXES):
        raise ValueError(
            f"`{what}` writes refnn's own format, which Keras cannot load; a Keras file is written by "
            f"keras_bridge.export(model, {name!r}). Use another name (e.g. 'model.refnn' or 'weights.npz') "
            f"for refnn's format. Received: path={name!r}"
        )


def keras_file_hint(path) -> str:
    """A sentence naming the Keras loader when ``path`` holds a Keras file, else ``""``."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(_HDF5_SIGNATURE))
    except OSError:
        return ""
    if head == _HDF5_SIGNATURE:
        return (" It is an HDF5 file, as Keras writes weights: load it into a refnn model with "
                "keras_bridge.load(path, model=model).")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError):
        return ""
    if {"config.json", "model.weights.h5"} <= names:
        return (" It is a Keras .keras archive: load it with keras_bridge.load(path) (a refnn model) or "
                "keras.models.load_model(path).")
    return ""

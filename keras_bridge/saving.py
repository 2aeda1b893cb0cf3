"""Export a refnn model as a Keras file, and read Keras files back into refnn.

* ``export(model, "m.keras")`` writes Keras's native archive (``config.json`` with the layers,
  dtypes, loss/optimizer/metrics, and ``model.weights.h5``) of the Keras twin. A model made of
  stock pieces loads with ``keras.models.load_model("m.keras")`` in a process that has never
  imported refnn or keras_bridge. (With ``plugins=True`` a Rprop/Quickprop optimizer or the
  ``sse`` loss is saved as a ``keras_bridge.plugins`` class; loading then needs
  ``import keras_bridge``.)
* ``export(model, "m.weights.h5")`` writes only the weights, in Keras's HDF5 layout; they load
  with ``keras_model.load_weights`` into any Keras model of the same structure (e.g.
  ``to_keras(model)``).
* ``load("m.keras")`` returns a refnn model (``from_keras``); ``load("m.weights.h5", model=m)``
  loads the weights into the refnn model ``m`` and returns it.

What is saved is the configuration, the weights and the optimizer's state (step count and slots:
``keras_bridge.optimizer_state``), so ``fit`` continues in Keras — or, after ``load``, in refnn —
where it stopped. Keras casts NumPy inputs of ``predict``/``evaluate`` to the global
``floatx``: predict a float64 model under ``keras.config.set_floatx("float64")`` (or call
``model(x)`` on float64 arrays), else its inputs are rounded to float32.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib

import keras

import refnn
from keras_bridge.architecture import from_keras, to_keras
from keras_bridge.dtypes import floatx
from keras_bridge.weights import copy_from_keras

__all__ = ["export", "load", "load_keras_model"]


def _kind(path) -> str:
    name = os.fspath(path)
    if name.endswith(".weights.h5"):
        return "weights"
    if name.endswith(".keras"):
        return "keras"
    raise ValueError(
        f"`path` must end with '.keras' (whole model) or '.weights.h5' (weights only). Received: path={name!r}"
    )


def export(model: refnn.Sequential, path, plugins: bool = False, include_optimizer: bool = True) -> str:
    """Write the refnn ``model`` as a Keras ``.keras`` archive or ``.weights.h5`` file.

    Args:
        model: a built refnn model (compiled or not).
        path: ``*.keras`` or ``*.weights.h5``.
        plugins: allow ``keras_bridge.plugins`` classes (see ``to_keras``).
        include_optimizer: save the compiled model with its optimizer — configuration and state
            (step count and slots) — so that ``fit`` continues in Keras where refnn stopped.
            ``False``: architecture and weights only, a file stock Keras loads even when a plugin
            optimizer (Rprop, Quickprop, Levenberg–Marquardt) trained the model. (A ``.keras``
            file cannot hold a loss without an optimizer: Keras's ``compile`` needs one; compile
            the loaded model with the optimizer you train with next.)

    Returns:
        the path written.
    """
    kind = _kind(path)
    keras_model = to_keras(model, compile=kind == "keras" and include_optimizer, plugins=plugins)
    with floatx(model.dtype):
        if kind == "keras":
            if getattr(keras_model, "optimizer", None) is not None:
                # saved with its slots (refnn's state, or zeros), so that loading finds the variables it builds
                keras_model.optimizer.build(keras_model.trainable_variables)
            keras_model.save(path)
        else:
            keras_model.save_weights(path)
    return os.fspath(path)


def _saved_config(path) -> dict:
    """The ``config.json`` of a ``.keras`` archive.

    Raises:
        ValueError: naming the file, when it is not a readable ``.keras`` archive (Keras itself
            would report a damaged file as "File not found").
    """
    what = f"The file {os.fspath(path)!r}"
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what} does not exist.")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{what} is not a Keras .keras archive (a zip file written by model.save).")
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    except KeyError:
        raise ValueError(f"{what} is not a Keras .keras archive: it has no config.json.") from None
    except (zipfile.BadZipFile, EOFError, zlib.error, json.JSONDecodeError) as exc:
        raise ValueError(f"{what} is damaged: it cannot be read as a .keras archive ({exc}).") from None


def _refuse_refnn_file(path) -> None:
    """refnn's own files (``model.save``'s archive, ``save_weights``'s ``.npz``) go to refnn's
    loaders; say so rather than let Keras fail on them."""
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, EOFError, zlib.error):
        return
    if "model.weights.npz" in names:
        raise ValueError(f"The file {os.fspath(path)!r} is a refnn model archive (written by refnn's model.save): "
                         "load it with refnn.load_model(path); keras_bridge.export writes Keras files.")
    if names and all(name.endswith(".npy") for name in names):
        raise ValueError(f"The file {os.fspath(path)!r} is a refnn weights file (NumPy .npz, written by "
                         "save_weights): load it with model.load_weights(path).")


def _saved_dtype(config: dict) -> str:
    """The dtype recorded in a ``.keras`` archive's layer configs (``float32`` if none)."""
    for layer in config.get("config", {}).get("layers", []):
        dtype = layer.get("config", {}).get("dtype")
        if isinstance(dtype, dict):
            dtype = dtype.get("config", {}).get("name")
        if dtype in ("float32", "float64"):
            return dtype
    return "float32"


def load_keras_model(path):
    """``keras.models.load_model(path)`` with the checks ``load`` makes: a file that is not a
    ``.keras`` archive (or is one of refnn's) is refused naming the file and the right loader, and
    the model is loaded under the ``floatx`` of its saved dtype (so that its optimizer's
    learning-rate variable has the model's dtype)."""
    _refuse_refnn_file(path)
    if _kind(path) != "keras":
        raise ValueError(f"`path` must be a Keras '.keras' model file. Received: path={os.fspath(path)!r}")
    with floatx(_saved_dtype(_saved_config(path))):
        return keras.models.load_model(path)


def load(path, model: refnn.Sequential | None = None, seed: int | None = None,
         keras_exact: bool = True) -> refnn.Sequential:
    """Read a Keras file into refnn.

    Args:
        path: a ``.keras`` archive (returns a new refnn model, compiled if the archive is) or a
            ``.weights.h5`` file (needs ``model``: its weights are replaced).
        model: the refnn model to load ``.weights.h5`` into.
        seed: the new model's seed (``.keras`` only).
        keras_exact: see ``from_keras``: the loaded model computes what Keras computes with the
            file (hyper-parameters Keras rounds through float32 rounded alike); ``False`` keeps
            the saved configuration verbatim, so ``load(export(m), keras_exact=False)`` gives back
            ``m``'s configuration.

    Returns:
        the refnn model.
    """
    _refuse_refnn_file(path)
    kind = _kind(path)
    if kind == "keras":
        if model is not None:
            raise ValueError("`model` is only used with '.weights.h5' files; a '.keras' archive holds its own.")
        return from_keras(load_keras_model(path), seed=seed, keras_exact=keras_exact)
    if model is None:
        raise ValueError("Loading a '.weights.h5' file needs the refnn `model` to load it into.")
    if zipfile.is_zipfile(path):
        raise ValueError(f"The file {os.fspath(path)!r} is not an HDF5 Keras weights file: it is a zip archive.")
    keras_model = to_keras(model, compile=False)
    with floatx(model.dtype):
        keras_model.load_weights(path)
    copy_from_keras(keras_model, model)
    return model

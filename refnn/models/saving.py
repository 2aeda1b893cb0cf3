"""Saving: weights as ``.npz``, whole models as a zip of JSON + ``.npz``. No pickle.

Two formats:

* **weights** (``save_weights``/``load_weights``): a NumPy ``.npz`` archive with one array per
  parameter, keyed by its path (``"dense_0/kernel"``, ``"dense_0/bias"``, ...). It is read with
  ``allow_pickle=False``, so a file can hold numbers only, never code. Loading matches *names*
  and shapes exactly (Keras's ``.weights.h5`` matches by layer order instead); on any mismatch
  the model is left unchanged and the error names the first mismatch (in the model's order).
* **model** (``Sequential.save``/``refnn.load_model``, in ``refnn.models.loading``): a zip
  archive, like Keras's ``.keras``, with ``metadata.json`` (format, versions, date),
  ``config.json`` (the architecture — every layer's class and config, with initializers and
  regularizers as ``{"module", "class_name", "config"}`` — and the compile configuration:
  optimizer, loss and metric names), ``model.weights.npz`` (the weights format above) and the
  training state: ``state.json`` (the optimizer's step count and carried scalars, the state of
  every random generator — ``fit``'s shuffling, each dropout layer's masks) and ``state.npz``
  (the optimizer's slots, ``"optimizer/<path>/<slot>"``). Saving, loading and training on gives
  the run that training on without saving gives, bit for bit. Classes are looked up only in
  refnn's own modules, never imported by name. Archives of format version 1 (without the
  training state) still load; their optimizer starts afresh.

Every save is atomic: the file is written to a temporary file in the same directory, flushed to
disk, then renamed over the target with ``os.replace``; a crash leaves either the old file or
the new one, never half a file.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import io
import json
import os
import tempfile
import zipfile
import zlib
from typing import Callable

import numpy as np

from refnn import initializers, layers, losses, metrics, optimizers, regularizers
from refnn.models.file_kinds import keras_file_hint, refuse_keras_name
from refnn.version import __version__

__all__ = ["save_weights", "load_weights", "save_model", "read_model_archive", "assign_weights",
           "model_config", "deserialize_object", "atomic_write", "training_state", "restore_training_state", "read_npz"]

FORMAT = "refnn.model"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.npz"
_STATE, _STATE_ARRAYS = "state.json", "state.npz"


# ---- atomic writes -------------------------------------------------------------------------------
def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path, write: Callable) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path``, then rename it to
    ``path``. On any error the temporary file is removed and ``path`` is untouched."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_file_mode())  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# ---- weights ------------------------------------------------------------------------------------
def _weights_bytes(model) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{path: np.asarray(value) for path, value in model.params.items()})
    return buffer.getvalue()


def save_weights(model, path) -> None:
    """Write ``model``'s parameters to the ``.npz`` file ``path`` (exactly that name: no
    suffix is added), atomically."""
    model._require_built("save_weights")
    refuse_keras_name(path, "save_weights")
    data = _weights_bytes(model)
    atomic_write(path, lambda f: f.write(data))


#: what a damaged (truncated, overwritten) zip archive raises while it is read
_DAMAGED = (zipfile.BadZipFile, EOFError, zlib.error)


def read_npz(source, what: str) -> dict[str, np.ndarray]:
    try:
        archive = np.load(source, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{what} is not a NumPy .npz weights file ({exc})") from None
    except _DAMAGED as exc:
        raise ValueError(f"{what} is damaged: it cannot be read as a .npz weights file ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{what} is not a .npz archive of named arrays: it holds a single array")
    arrays = {}
    with archive:
        for key in archive.files:
            try:
                arrays[key] = archive[key]
            except ValueError as exc:  # object arrays need pickle: refused
                raise ValueError(f"{what}: entry {key!r} cannot be loaded safely ({exc})") from None
            except _DAMAGED as exc:
                raise ValueError(f"{what} is damaged: entry {key!r} cannot be read ({exc})") from None
    return arrays


def _read_weights(path) -> dict[str, np.ndarray]:
    """The arrays of a weights file, or of the weights inside a model archive."""
    hint = keras_file_hint(path)
    if hint:
        raise ValueError(f"The file {os.fspath(path)!r} is not a refnn weights file.{hint}")
    what = f"The file {os.fspath(path)!r}"
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                if _WEIGHTS in archive.namelist() and _CONFIG in archive.namelist():
                    return read_npz(io.BytesIO(archive.read(_WEIGHTS)), what)
        except _DAMAGED as exc:
            raise ValueError(f"{what} is damaged: it cannot be read ({exc})") from None
    return read_npz(path, what)


def assign_weights(model, arrays: dict, source: str = "the file") -> None:
    """Set ``model``'s parameters from ``{path: array}``; all names and shapes are checked
    before anything is written, and the first mismatch (in the model's order, then unexpected
    names) is reported."""
    params = model.params
    for path, current in params.items():
        if path not in arrays:
            raise ValueError(
                f"Cannot load weights: {source} has no entry {path!r} (the model's parameter of "
                f"shape {current.shape}). It holds: {sorted(arrays)}"
            )
        array = arrays[path]
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise ValueError(
                f"Cannot load weights: entry {path!r} of {source} is not numeric. "
                f"Received: dtype={array.dtype}"
            )
        if array.shape != current.shape:
            raise ValueError(
                f"Cannot load weights: shape mismatch for {path!r}: the model has {current.shape}, "
                f"{source} has {array.shape}"
            )
    extra = [key for key in arrays if key not in params]
    if extra:
        raise ValueError(
            f"Cannot load weights: {source} has an entry the model does not: {extra[0]!r}. "
            f"The model's parameters: {list(params)}"
        )
    model.set_weights([arrays[path] for path in params])


def load_weights(model, path) -> None:
    """Load a file written by ``save_weights`` (or a model archive written by ``save``) into
    ``model``; on any mismatch nothing is changed."""
    model._require_built("load_weights")
    assign_weights(model, _read_weights(path), f"the file {os.fspath(path)!r}")


# ---- configs ------------------------------------------------------------------------------------
#: where a saved class may come from: refnn's own modules only, never an import by name
_MODULES = {
    "refnn.initializers": (initializers, initializers.Initializer),
    "refnn.regularizers": (regularizers, regularizers.Regularizer),
    "refnn.layers": (layers, layers.Layer),
    "refnn.losses": (losses, losses.Loss),
    "refnn.optimizers": (optimizers, optimizers.Optimizer),
}


def _serialize_object(obj, module_name: str, where: str) -> dict:
    config = obj.get_config()
    return {
        "module": module_name,
        "class_name": type(obj).__name__,
        "config": {key: _serialize_value(value, f"{where}.{key}") for key, value in config.items()},
    }


def _serialize_value(value, where: str):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_serialize_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): _serialize_value(v, f"{where}.{k}") for k, v in value.items()}
    for module_name, (_, base) in _MODULES.items():
        if isinstance(value, base):
            return _serialize_object(value, module_name, where)
    raise TypeError(f"Cannot save the model: {where} = {value!r} has no JSON form")


def _deserialize_value(value, custom_objects=None):
    if isinstance(value, list):
        return [_deserialize_value(v, custom_objects) for v in value]
    if isinstance(value, dict) and {"module", "class_name", "config"} <= set(value):
        return deserialize_object(value, custom_objects)
    if isinstance(value, dict):
        return {k: _deserialize_value(v, custom_objects) for k, v in value.items()}
    return value


def deserialize_object(spec: dict, custom_objects: dict | None = None):
    """The refnn object a ``{"module", "class_name", "config"}`` entry describes; a class of the
    user's own (a custom ``Loss`` subclass) is looked up in ``custom_objects`` by its name, as
    Keras's ``load_model(..., custom_objects=...)`` does."""
    if spec["module"] not in _MODULES:
        raise ValueError(f"Cannot load the model: unknown module {spec['module']!r} (refnn's own only)")
    module, base = _MODULES[spec["module"]]
    name = str(spec["class_name"])
    cls = (custom_objects or {}).get(name) or getattr(module, name, None)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(
            f"Cannot load the model: {spec['module']} has no class {name!r}. If it is a class of your own, "
            f"pass it: load_model(path, custom_objects={{{name!r}: {name}}})"
        )
    config = {k: _deserialize_value(v, custom_objects) for k, v in spec["config"].items()}
    if hasattr(cls, "from_config"):
        return cls.from_config(config)
    return cls(**config)


def model_config(model) -> dict:
    """The architecture and compile configuration of a ``Sequential`` as JSON-ready data."""
    config = {
        "class_name": type(model).__name__,
        "config": {
            "name": model.name,
            "input_dim": model.input_dim,
            "seed": model.seed,
            "dtype": model.dtype.name,
            "layers": [_serialize_object(layer, "refnn.layers", f"layer {layer.name!r}")
                       for layer in model.layers],
        },
        "compile_config": None,
    }
    if model.optimizer is not None and model.loss is not None:
        config["compile_config"] = {
            "optimizer": _serialize_object(model.optimizer, "refnn.optimizers", "optimizer"),
            "loss": _serialize_object(model.loss, "refnn.losses", "loss"),
            "metrics": [_serialize_metric(metric) for metric in model.metrics],
            "weighted_metrics": [_serialize_metric(metric) for metric in model.weighted_metrics],
        }
    return config


def _serialize_metric(metric):
    """A metric as its name when ``metrics.get(name)`` rebuilds it identically (``"accuracy"``,
    ``"mse"``, ``"auc"``), else ``{"class_name", "config"}`` with its options (``AUC(curve="PR")``);
    ``metrics.get`` reads both back. A metric of a function of its own cannot be saved."""
    try:
        rebuilt = metrics.get(metric.name)
    except ValueError:
        rebuilt = None
    if rebuilt is not None and type(rebuilt) is type(metric) and rebuilt.get_config() == metric.get_config() \
            and (type(metric) is not metrics.Metric or rebuilt.fn is metric.fn):
        return metric.name
    try:
        return metrics.serialize(metric)
    except ValueError:
        raise TypeError(
            f"Cannot save the model: metric {metric.name!r} is not one of refnn's named metrics or metric "
            "classes (a function of its own cannot be saved); save it uncompiled or recompile after loading"
        ) from None


# ---- whole models -------------------------------------------------------------------------------
def save_model(model, path) -> None:
    """Write architecture, compile configuration and weights to the zip archive ``path``,
    atomically."""
    refuse_keras_name(path, "save")
    config = json.dumps(model_config(model), indent=2)
    metadata = json.dumps({
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "refnn_version": __version__,
        "numpy_version": np.__version__,
        "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }, indent=2)
    weights = _weights_bytes(model) if model.built else _npz_bytes({})
    state, state_arrays = training_state(model)
    state, state_arrays = json.dumps(state, indent=1), _npz_bytes(state_arrays)

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_METADATA, metadata)
            archive.writestr(_CONFIG, config)
            archive.writestr(_WEIGHTS, weights)
            archive.writestr(_STATE, state)
            archive.writestr(_STATE_ARRAYS, state_arrays)

    atomic_write(path, write)


def _npz_bytes(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def training_state(model) -> tuple[dict, dict]:
    """What training carries besides the weights, as ``(JSON-ready data, {name: array})``: the
    random generators' states and, for a compiled model, the optimizer's (``get_state``)."""
    state = {"random": model.random_state(), "optimizer": None}
    arrays = {}
    if model.optimizer is not None:
        state["optimizer"], slots = model.optimizer.get_state()
        arrays = {f"optimizer/{key}": value for key, value in slots.items()}
    return state, arrays


def restore_training_state(model, state: dict, arrays: dict) -> None:
    """Put back what ``training_state`` saved (the optimizer's part only into a compiled model).

    Raises:
        ValueError: optimizer slots that are not the ones this optimizer keeps for this model
            (missing, unknown, or of another shape than their parameter).
    """
    model.set_random_state(state["random"])
    if model.optimizer is not None and state.get("optimizer") is not None:
        slots = {key.removeprefix("optimizer/"): value for key, value in arrays.items() if key.startswith("optimizer/")}
        if slots or state["optimizer"].get("iterations"):
            _check_slots(model, slots)
        model.optimizer.set_state(state["optimizer"], slots)


def _check_slots(model, slots: dict) -> None:
    """``slots`` must be exactly what the optimizer builds for every parameter (a fresh copy of it
    is asked, so that building leaves the model's optimizer untouched)."""
    probe = type(model.optimizer).from_config(model.optimizer.get_config())
    expected = {f"{path}/{slot}": param.shape for path, param in model.params.items()
                for slot in probe.build_state(path, param)}
    mismatched = sorted(set(expected) ^ set(slots))
    if mismatched:
        key = mismatched[0]
        raise ValueError(f"optimizer slot {key!r} is {'missing' if key in expected else 'not one this model has'}")
    for key, value in slots.items():
        if np.shape(value) != expected[key]:
            raise ValueError(f"optimizer slot {key!r} has shape {np.shape(value)}; its parameter has {expected[key]}")


def _read_json(archive: zipfile.ZipFile, name: str, what: str) -> dict:
    try:
        value = json.loads(archive.read(name))
    except ValueError as exc:  # not UTF-8, not JSON
        raise ValueError(f"{what} is damaged: {name} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what} is damaged: {name} holds a {type(value).__name__}, not a JSON object")
    return value


def read_model_archive(path) -> tuple[dict, dict, tuple | None]:
    """``(config, {path: array}, (state, state arrays) or None)`` of a model archive written by
    ``save_model`` (``None``: an archive of format version 1, without training state).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: naming the file, when it is not a readable refnn model archive.
    """
    what = f"The file {os.fspath(path)!r}"
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), os.fspath(path))
    hint = keras_file_hint(path)
    if hint or not zipfile.is_zipfile(path):
        raise ValueError(f"{what} is not a refnn model archive (written by model.save).{hint}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if _METADATA not in names or _CONFIG not in names or _WEIGHTS not in names:
                raise ValueError(
                    f"{what} is not a refnn model archive: it lacks {_METADATA}, {_CONFIG} or {_WEIGHTS}"
                    " (for a weights file use model.load_weights)"
                )
            metadata = _read_json(archive, _METADATA, what)
            _check_format(metadata, what)
            config = _read_json(archive, _CONFIG, what)
            weights = read_npz(io.BytesIO(archive.read(_WEIGHTS)), what)
            state = None
            if metadata["format_version"] >= 2:
                if _STATE not in names or _STATE_ARRAYS not in names:
                    raise ValueError(f"{what} is damaged: a version 2 archive holds {_STATE} and {_STATE_ARRAYS}")
                state = (_read_json(archive, _STATE, what), read_npz(io.BytesIO(archive.read(_STATE_ARRAYS)), what))
    except _DAMAGED as exc:
        raise ValueError(f"{what} is damaged: it cannot be read as a refnn model archive ({exc})") from None
    return config, weights, state


def _check_format(metadata: dict, what: str) -> None:
    if metadata.get("format") != FORMAT or metadata.get("format_version") not in READABLE_VERSIONS:
        raise ValueError(
            f"{what} has format {metadata.get('format')!r} version {metadata.get('format_version')!r}; "
            f"this refnn reads {FORMAT!r} versions {list(READABLE_VERSIONS)}"
        )

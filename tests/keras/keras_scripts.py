"""Run a Keras tutorial script twice — as written (``import keras``) and with ``import refnn as
keras`` — and collect what each run computed, to compare the two.

The script's text is the same in both runs except for its ``import keras`` line and its Keras file
names: refnn writes its own format and refuses a ``.keras`` name (Keras could not read the file),
so the refnn run saves ``best.keras`` as ``best.refnn`` (``FILE_NAME_CHANGES``).

Two things a script leaves to chance are made equal between the runs, and nothing else:

* **initial weights** — refnn runs first; each model's weights at its first ``fit`` or
  ``train_on_batch`` are recorded and given to the Keras model at the same call (``set_weights``,
  Keras's weight order);
* **shuffling** — each ``fit(shuffle=True)`` in refnn draws its epochs' row orders from the model's
  generator (``next_shuffle_orders``); the Keras ``fit`` of the same rank is fed those batches through
  a ``tf.data`` pipeline (``validation_split`` then done beforehand, as Keras does it: the last rows).

Everything else (class weights, sample weights, callbacks, metrics, evaluate, predict, load) is the
script's and each library's own. The refnn run rounds the constants a float64 Keras run rounds through
float32 (``refnn.config.set_keras_float32_constants(True)``: Adam's β in its bias correction, ...);
with refnn's exact constants the curves differ by ~1e-6 (``test_keras_scripts`` measures that too).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
from pathlib import Path

import numpy as np

SCRIPTS = Path(__file__).parent / "scripts"
IMPORT_LINE = re.compile(r"^import keras$", re.MULTILINE)
FILE_NAME_CHANGES = {'.keras"': '.refnn"'}


def refnn_source(source: str) -> str:
    """The script as a refnn user runs it: the one import line, and Keras file names renamed."""
    if len(IMPORT_LINE.findall(source)) != 1:
        raise ValueError("a tutorial script must contain exactly one line `import keras`")
    source = IMPORT_LINE.sub("import refnn as keras", source)
    for old, new in FILE_NAME_CHANGES.items():
        source = source.replace(old, new)
    return source


def _bound(fit, args, kwargs) -> dict:
    bound = inspect.signature(fit).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.update(arguments.pop("kwargs", {}) or {})
    return arguments


def _n_train(x, validation_split) -> int:
    n = len(x)
    return int(np.floor(n * (1.0 - validation_split))) if validation_split else n


@contextlib.contextmanager
def _recording_refnn_fits(records: list, keras_float32_constants: bool):
    import refnn
    from refnn.models.trainer import Trainer

    original, original_step = Trainer.fit, Trainer.train_on_batch
    seen = set()

    def first_weights(model):
        first = id(model) not in seen
        seen.add(id(model))
        return model.get_weights() if first else None

    def fit(self, *args, **kwargs):
        a = _bound(original, (self, *args), kwargs)
        weights, orders = first_weights(self), None
        if a.get("shuffle", True):
            epochs = a.get("epochs", 1) - a.get("initial_epoch", 0)
            orders = self.next_shuffle_orders(_n_train(a["x"], a.get("validation_split", 0.0)), max(epochs, 0))
        records.append({"weights": weights, "orders": orders})
        return original(self, *args, **kwargs)

    def train_on_batch(self, *args, **kwargs):
        if id(self) not in seen:
            records.append({"weights": first_weights(self), "orders": None})
        return original_step(self, *args, **kwargs)

    Trainer.fit, Trainer.train_on_batch = fit, train_on_batch
    floatx, seeds = refnn.config.floatx(), refnn.utils.seeding._MODEL_SEEDS
    constants = refnn.config.keras_float32_constants()
    refnn.config.set_keras_float32_constants(keras_float32_constants)
    try:
        yield
    finally:
        Trainer.fit, Trainer.train_on_batch = original, original_step
        refnn.config.set_floatx(floatx)
        refnn.config.set_keras_float32_constants(constants)
        refnn.utils.seeding._MODEL_SEEDS = seeds


def _keras_fit_replaying(keras_module, original, model, a: dict, orders):
    """Keras ``fit`` on ``a``'s arguments, fed the batches of ``orders`` (one row per epoch)."""
    from keras_bridge.compare.training import replay_dataset

    x, y, sample_weight = a["x"], a["y"], a.get("sample_weight")
    split = a.pop("validation_split", 0.0)
    if split:
        n = _n_train(x, split)
        val = (x[n:], y[n:]) + ((sample_weight[n:],) if sample_weight is not None else ())
        a["validation_data"] = val
        x, y = x[:n], y[:n]
        sample_weight = None if sample_weight is None else sample_weight[:n]
    batch_size = a.get("batch_size") or 32
    data = replay_dataset(x, y, orders, batch_size, keras_module.config.floatx(), sample_weight)
    a.update(x=data, y=None, sample_weight=None, shuffle=False, steps_per_epoch=-(-len(x) // batch_size),
             batch_size=None, validation_batch_size=a.get("validation_batch_size") or batch_size)
    return original(model, **a)


@contextlib.contextmanager
def _replaying_keras_fits(keras_module, records: list):
    model_class = keras_module.Model
    original, original_step = model_class.fit, model_class.train_on_batch
    calls, seen = iter(records), set()

    def next_record(model):
        record = next(calls)
        seen.add(id(model))
        if record["weights"] is not None:
            model.set_weights(record["weights"])
        return record

    def fit(self, *args, **kwargs):
        a = _bound(original, (self, *args), kwargs)
        a.pop("self")
        record = next_record(self)
        if record["orders"] is None:
            return original(self, **a)
        return _keras_fit_replaying(keras_module, original, self, a, record["orders"])

    def train_on_batch(self, *args, **kwargs):
        if id(self) not in seen:
            next_record(self)
        return original_step(self, *args, **kwargs)

    model_class.fit, model_class.train_on_batch = fit, train_on_batch
    try:
        yield
    finally:
        model_class.fit, model_class.train_on_batch = original, original_step


def _run(source: str, name: str, workdir: Path) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    namespace = {"__name__": "__main__", "__file__": str(workdir / name)}
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(open(os.devnull, "w")):
            exec(compile(source, name, "exec"), namespace)
    finally:
        os.chdir(cwd)
    return namespace


def run_both(name: str, workdir: Path, keras_float32_constants: bool = True) -> tuple[dict, dict]:
    """``(refnn's namespace, Keras's namespace)`` after running ``scripts/<name>`` both ways
    (refnn's optimizers rounding Keras's float32 constants unless told otherwise)."""
    return run_source_both((SCRIPTS / name).read_text(), name, workdir, keras_float32_constants)


def run_source_both(source: str, name: str, workdir: Path, keras_float32_constants: bool = True) -> tuple[dict, dict]:
    """``run_both`` for a script given as text (``name`` labels it in tracebacks)."""
    import keras

    records: list = []
    with _recording_refnn_fits(records, keras_float32_constants):
        mine = _run(refnn_source(source), name, workdir / "refnn")
    with _replaying_keras_fits(keras, records):
        theirs = _run(source, name, workdir / "keras")
    return mine, theirs


def _numbers(value):
    """``value`` as a float array if it is a number, a numeric array (or a CSV's structured rows), or
    a non-empty list/tuple of numbers; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return np.asarray(value, dtype=float)
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in value):
        return np.asarray(value, dtype=float)
    if isinstance(value, np.ndarray) and value.dtype.names:
        return np.asarray(value.tolist(), dtype=float)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":  # predicted classes too
        return value.astype(float, copy=False)
    return None


def computed_values(namespace: dict) -> dict:
    """The numbers a script computed, by variable name: a History's curves (``name[key]``), a dict's
    numbers (``name[key]``), numbers, float arrays, and lists of numbers."""
    out = {}
    for name, value in namespace.items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        if isinstance(getattr(value, "history", None), dict):
            out.update({f"{name}[{key!r}]": np.asarray(curve, dtype=float) for key, curve in value.history.items()})
        elif isinstance(value, dict):
            out.update({f"{name}[{key!r}]": v for key, v in ((k, _numbers(v)) for k, v in value.items())
                        if v is not None})
        elif (numbers := _numbers(value)) is not None:
            out[name] = numbers
    return out

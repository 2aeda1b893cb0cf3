"""Validate a model against Keras in one call: forward pass, per-layer gradients, optimizer steps on
the model's own gradients and a short ``fit``, in float64 and in the model's own dtype.

>>> result = keras_bridge.compare.validate(keras_model, x, y)   # or a refnn model
>>> print(result)                  # one table per check, PASSED/FAILED, notes
>>> result.passed                  # False names the first disagreement in the table

``refnn-compare validate model.keras --data data.npz`` runs this from the command line and writes
the report. Things that do not change the compared numbers are set aside with a note (metrics
refnn does not compute, callbacks that only watch); known Keras behaviours are labelled where
they occur (``known_differences``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import keras
import numpy as np

import refnn
from keras_bridge.architecture import from_keras
from keras_bridge.compare.layerwise import forward, gradients
from keras_bridge.compare.results import Comparison
from keras_bridge.compare.steps import steps as optimizer_steps_on_batch
from keras_bridge.compare.training import training
from keras_bridge.errors import NotMappableError
from keras_bridge.optimizer_state import has_state, steps_taken
from keras_bridge.optimizers import optimizer_to_keras
from refnn import layers as rlayers
from refnn.utils.text import format_table

__all__ = ["Validation", "validate"]

CHECKS = ("forward", "gradients", "steps", "fit")


@dataclass
class Validation:
    """The checks of ``validate``: ``(dtype, check, Comparison)`` in the order they ran."""

    model_name: str
    model_dtype: str
    checks: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the refnn optimizer's class, and whether Keras runs it as refnn's own port
    #: (``keras_bridge.plugins``: the training checks are then consistency checks, not independent)
    optimizer: str = ""
    port: bool = False

    @property
    def passed(self) -> bool:
        return all(result.passed for _, _, result in self.checks)

    @property
    def first_failure(self) -> tuple[str, str, Comparison] | None:
        return next((c for c in self.checks if not c[2].passed), None)

    def summary_rows(self) -> list[tuple[str, str, str, str, str]]:
        """``(dtype, check, status, max relative difference, tolerance)`` per check."""
        rows = []
        for dtype, check, result in self.checks:
            status = "ok" if result.passed and not result.known_differences else \
                "ok (known differences)" if result.passed else "FAIL"
            tolerance = max((row.rtol for row in result.rows), default=0.0)
            rows.append((dtype, check, status, f"{result.max_rel:.3e}", f"{tolerance:.0e}"))
        return rows

    def table(self) -> str:
        status = "PASSED" if self.passed else "FAILED"
        header = ("dtype", "check", "status", "max rel diff", "tolerance")
        body = self.summary_rows()
        out = [f"validate {self.model_name!r} ({self.model_dtype}) — refnn vs Keras: {status}"]
        out += [f"  note: {n}" for n in self.notes]
        out += [format_table(header, body), ""]
        for dtype, check, result in self.checks:
            out += [f"[{dtype} · {check}]", result.table(), ""]
        return "\n".join(out).rstrip()

    def to_markdown(self) -> str:
        status = "PASSED" if self.passed else "FAILED"
        out = [f"# Validation of `{self.model_name}` ({self.model_dtype}) against Keras: {status}", ""]
        out += [f"- {n}" for n in self.notes] + [""]
        out += ["| dtype | check | status | max rel diff | tolerance |", "|---|---|---|---:|---:|"]
        out += [f"| {' | '.join(r)} |" for r in self.summary_rows()] + [""]
        for dtype, check, result in self.checks:
            out += [f"## {dtype} · {check}", "", "```", result.table(), "```", ""]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()


def validate(model, x, y, n_steps: int = 5, epochs: int = 3, batch_size: int | None = None, dtypes=None,
             validation_split: float = 0.0, callbacks=None) -> Validation:
    """Every comparison a Keras (or refnn) model needs, in float64 and in its own dtype.

    For each dtype: ``forward`` (every layer's output and the loss), ``gradients`` (per layer,
    ∂E/∂kernel, ∂E/∂bias, ∂E/∂X), ``steps`` (``n_steps`` optimizer updates on the first
    ``batch_size`` rows, the model's own gradients) and ``fit`` (``epochs`` epochs of ``fit`` from
    the same weights, refnn's batch order fed to Keras's compiled ``fit``). The model given is not
    changed. Dropout is compared in inference (forward, gradients); the training checks run with
    its rate set to 0 on both sides — TensorFlow's masks cannot be reproduced — with a note.

    Args:
        model: a compiled ``keras.Sequential`` or ``refnn.Sequential``.
        x, y: the data (targets as the loss expects them).
        n_steps, epochs, batch_size, validation_split, callbacks: the training checks' settings
            (Keras callbacks are accepted; those that only watch are set aside with a note).
            ``batch_size=None``: 32 (Keras's default), or every row for a full-batch method
            (Rprop, Quickprop, Levenberg–Marquardt).
        dtypes: the dtypes to check, default ``("float64", model dtype)``.
    """
    set_aside: list[str] = []
    base = from_keras(model, keras_exact=False, optimizer_state=False, set_aside=set_aside) \
        if isinstance(model, keras.Model) else model
    if isinstance(model, keras.Model) and has_state(model):
        set_aside.append(f"the Keras optimizer's state ({steps_taken(model)} steps taken) was not used: both sides "
                         "start from the model's weights with a fresh optimizer")
    if not isinstance(base, refnn.Sequential) or base.loss is None:
        raise ValueError(
            "validate needs a compiled model (keras.Sequential or refnn.Sequential): the loss and optimizer "
            f"define what is compared. Received: {type(model).__module__}.{type(model).__name__}")
    own = base.dtype.name
    dtypes = tuple(dict.fromkeys(dtypes or ("float64", own)))
    result = Validation(base.name, own, notes=list(dict.fromkeys(set_aside)),
                        optimizer=type(base.optimizer).__name__, port=_runs_as_port(base.optimizer))
    trainable = _without_dropout(base, result.notes)
    if batch_size is None:
        batch_size = len(x) if base.optimizer.requires_full_batch else 32
    rows = min(batch_size, len(x))
    for dtype in dtypes:
        checked, trained = _in_dtype(base, dtype), _in_dtype(trainable, dtype)
        result.checks.append((dtype, "forward", forward(checked, x, y)))
        result.checks.append((dtype, "gradients", gradients(checked, x, y)))
        result.checks.append((dtype, "steps", optimizer_steps_on_batch(trained, x[:rows], y[:rows], n_steps)))
        result.checks.append((dtype, "fit", training(trained, x, y, epochs=epochs, batch_size=batch_size,
                                                     validation_split=validation_split, callbacks=callbacks)))
    return result


def _runs_as_port(optimizer) -> bool:
    """Whether Keras runs ``optimizer`` as refnn's own port (no stock Keras counterpart)."""
    try:
        optimizer_to_keras(optimizer, plugins=False)
    except NotMappableError:
        return True
    return False


def _without_dropout(model: refnn.Sequential, notes: list) -> refnn.Sequential:
    """``model`` itself, or a copy whose Dropout layers have rate 0 (noted)."""
    active = [layer.name for layer in model.layers if isinstance(layer, rlayers.Dropout) and layer.rate > 0]
    if not active:
        return model
    notes.append(f"dropout ({', '.join(active)}): compared in inference (forward, gradients); the training checks "
                 "run with rate 0 on both sides, because TensorFlow's masks cannot be reproduced")
    twin = copy.deepcopy(model)
    for layer in twin.layers:
        if isinstance(layer, rlayers.Dropout):
            layer.rate = 0.0
    return twin


def _in_dtype(model: refnn.Sequential, dtype: str) -> refnn.Sequential:
    """``model`` in ``dtype``: the same layers, weights (cast), random state, optimizer
    configuration, loss and metrics."""
    if model.dtype == np.dtype(dtype):
        return model
    twin = refnn.Sequential([copy.deepcopy(layer) for layer in model.layers], input_dim=model.input_dim,
                            dtype=dtype, name=model.name)
    twin.set_weights([w.astype(dtype) for w in model.get_weights()])
    twin.set_random_state(model.random_state())
    optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
    twin.compile(optimizer, copy.deepcopy(model.loss), metrics=list(model.metrics))
    return twin

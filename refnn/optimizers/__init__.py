"""Optimizers: one file per algorithm; ``get(name, convention=...)`` by name."""

import sys

from refnn.optimizers import conventions, schedules
from refnn.optimizers.adadelta import Adadelta
from refnn.optimizers.adagrad import Adagrad
from refnn.optimizers.adam import Adam
from refnn.optimizers.adamax import Adamax
from refnn.optimizers.adamw import AdamW
from refnn.optimizers.base import ModelOptimizer, Optimizer
from refnn.optimizers.levenberg_marquardt import LevenbergMarquardt
from refnn.optimizers.nadam import Nadam
from refnn.optimizers.quickprop import Quickprop
from refnn.optimizers.rmsprop import RMSprop
from refnn.optimizers.rprop import Rprop
from refnn.optimizers.sgd import SGD
from refnn.utils.unsupported import missing_name, refuse_keras_object
from refnn.utils.validation import check_choice

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "Nadam",
    "Rprop", "Quickprop", "LevenbergMarquardt", "ModelOptimizer", "schedules", "conventions", "get",
]

#: name → class; a new optimizer registers here (names are lower case)
_BY_NAME = {
    "sgd": SGD,
    "momentum": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "adamax": Adamax,
    "nadam": Nadam,
    "rprop": Rprop,
    "quickprop": Quickprop,
    "levenbergmarquardt": LevenbergMarquardt,
    "levenberg_marquardt": LevenbergMarquardt,
    "lm": LevenbergMarquardt,
}


def get(identifier, convention: str = "keras", **overrides) -> Optimizer:
    """Return an optimizer from a name, a ``{"class_name", "config"}`` dict or an instance.

    Args:
        identifier: ``"adam"``, ``"Adam"``, ... (case-insensitive), a serialized optimizer
            ``{"class_name": "Adam", "config": {...}}``, or an ``Optimizer`` (returned as is).
        convention: ``"keras"`` (Keras's defaults) or ``"textbook"`` (the textbook forms, see
            ``conventions``); used for names only.
        **overrides: hyper-parameters that replace the preset's, for names only:
            ``get("sgd", convention="textbook", learning_rate=0.1, momentum=0.9)``.
    """
    check_choice("convention", convention, conventions.CONVENTIONS)
    if overrides and not isinstance(identifier, str):
        raise TypeError(
            "Hyper-parameters can be given with an optimizer name only. "
            f"Received: optimizer={identifier!r} with {', '.join(sorted(overrides))}"
        )
    if isinstance(identifier, Optimizer):
        return identifier
    refuse_keras_object("optimizer", identifier, sys.modules[__name__])
    if isinstance(identifier, dict) and "class_name" in identifier:
        name = str(identifier["class_name"]).lower()
        if name in _BY_NAME:
            return _BY_NAME[name].from_config(identifier.get("config", {}))
    elif isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        name = identifier.lower()
        return _BY_NAME[name](**{**conventions.CONVENTIONS[convention].get(name, {}), **overrides})
    raise ValueError(
        f"Unknown optimizer. `optimizer` must be one of {sorted(_BY_NAME)}, a dict with "
        f"'class_name' and 'config', or an Optimizer instance. Received: optimizer={identifier!r}"
    )


__getattr__ = missing_name(
    "refnn.optimizers", ", ".join(n for n in __all__ if n[0].isupper()) + " (and schedules, get)",
    {"LossScaleOptimizer": 'refnn computes in one dtype: Sequential(dtype="float32") or "float64".'},
)

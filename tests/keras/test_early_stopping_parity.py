"""EarlyStopping: the same synthetic sequences through Keras's callback and refnn's.

Keras's side runs live: ``keras.callbacks.EarlyStopping`` on a one-weight Keras model whose
kernel is set to the epoch number before each ``on_epoch_end``, so the weights it restores name
the epoch. Both must agree with each other and with the hand-worked expectations of
``tests/unit/test_callbacks_early_stopping.py``.
"""

import keras
import pytest

from refnn.callbacks import EarlyStopping
from tests.unit.test_callbacks_early_stopping import CASES, drive


def keras_drive(callback, values, monitor):
    """``drive`` with a one-weight Keras model: the same hook sequence, Keras's weights."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    return drive(callback, values, model=model, monitor=monitor)


@pytest.mark.parametrize("case_id, kwargs, values, expected", CASES, ids=[c[0] for c in CASES])
def test_same_stopped_and_restored_epoch_as_keras(case_id, kwargs, values, expected):
    kwargs = dict(kwargs)
    monitor = kwargs.setdefault("monitor", "loss")
    theirs = keras_drive(keras.callbacks.EarlyStopping(**kwargs), values, monitor)
    mine = drive(EarlyStopping(**kwargs), values, monitor=monitor)
    assert mine == theirs, f"{case_id}: refnn (stopped, run, restored)={mine}, Keras {theirs}"
    assert theirs == expected


def test_keras_compares_in_float32_even_in_float64_mode(float64):
    # the reason for refnn's comparison_dtype="float32" default: Keras passes Python floats to
    # ops.less, which makes float32 tensors whatever floatx is
    values = [1.0, 1.0 - 1e-9, 1.0 - 2e-9]
    theirs = keras_drive(keras.callbacks.EarlyStopping(monitor="loss", patience=1), values, "loss")
    assert theirs == (1, 2, 1)
    assert drive(EarlyStopping(monitor="loss", patience=1), values) == theirs

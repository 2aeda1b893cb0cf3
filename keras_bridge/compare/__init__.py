"""Live comparisons of refnn against Keras: forward, per-layer gradients, optimizer steps, training.

Each function runs the same computation on both sides *now* (no stored numbers) and returns a
``Comparison``: plain rows (layer, quantity, max absolute and relative difference, tolerance,
pass/fail) that print as a table. ``assert_passed()`` raises an ``AssertionError`` naming the
*first* layer and quantity that disagree (in the order they are computed: forward order for
outputs, backpropagation order for gradients) with both values, "refnn vs keras".

Errors are ``refnn.utils.tolerance.relative_error`` — ``max|a − b| / max(max|b|, 1e-300)``, the
worst deviation against the tensor's own scale; trajectories take the worst step, training curves
the worst epoch (each epoch's value against itself). Tolerances are the contract,
``refnn.utils.tolerance.TOLERANCES`` (``docs/tolerances.md``).

What each side runs:

* The argument may be a refnn model (its Keras twin is ``to_keras(model, plugins=True)``, so
  Rprop, Quickprop and Levenberg–Marquardt run as ``keras_bridge.plugins`` — refnn against its own
  Keras port, a consistency check rather than an independent one) or a Keras model (its refnn
  twin is ``from_keras(model)``). Both sides start with a fresh optimizer of the same
  configuration (optimizer state does not cross the bridge).
* The refnn side is ``keras_exact_copy(model)``: a copy with the hyper-parameters Keras rounds
  through float32 rounded the same way (regularizer factors, optimizer
  ``keras_float32_constants``). That turns ~1e-8 float64 differences into ~1e-16.
  ``keras_exact=False`` compares the model as it is.
* Keras runs under ``keras_bridge.floatx(model dtype)`` (restored afterwards).
* ``training``: refnn draws its batch order (``fit``'s per-epoch permutation from the model's
  seeded generator); Keras receives exactly those batches. The bridge replays refnn's generator
  to get the permutations, builds one ``tf.data`` pipeline holding every epoch's batches in that
  order, and calls Keras's own ``fit`` once with ``steps_per_epoch`` (Keras then keeps one
  iterator across epochs), ``validation_data`` = refnn's held-out last rows and
  ``validation_batch_size = batch_size``. So ``history["loss"]`` is Keras's size-weighted
  per-epoch mean of the training-mode batch losses (partial last batch included), validation runs
  at the end of each epoch, and Keras callbacks (EarlyStopping) act as in any ``fit``.
  ``keras_fit_in_order`` with the identity order is bit-identical to
  ``fit(x, y, shuffle=False, validation_split=v)`` (tested).
"""

from keras_bridge.compare.layerwise import forward, gradients
from keras_bridge.compare.results import Comparison, Row, TrainingComparison
from keras_bridge.compare.steps import steps
from keras_bridge.compare.training import callbacks_from_keras, callbacks_to_keras, keras_fit_in_order, training
from keras_bridge.compare.trajectories import optimizer_steps
from keras_bridge.compare.validate import Validation, validate
from refnn.utils.tolerance import TOLERANCES, relative_error

__all__ = [
    "TOLERANCES",
    "Row",
    "Comparison",
    "TrainingComparison",
    "forward",
    "gradients",
    "optimizer_steps",
    "steps",
    "training",
    "validate",
    "Validation",
    "keras_fit_in_order",
    "callbacks_to_keras",
    "callbacks_from_keras",
    "relative_error",
]

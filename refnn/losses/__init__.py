"""Loss functions with Keras's reductions, clipping and logits fusion.

Every loss computes a per-sample value ``ℓ_n`` and reduces it. The default reduction is Keras's
``"sum_over_batch_size"``: ``L = Σ_n w_n ℓ_n / N`` where ``N`` is the number of per-sample values
(the batch size) — never ``Σ w_n``. ``"sum"`` gives ``Σ_n w_n ℓ_n`` and ``"none"`` the vector.

``gradient(y_true, y_pred)`` is ``∂L/∂y_pred`` with the shape of ``y_pred``.

================================ ============================================================
loss                             per sample ``ℓ_n`` (D = size of the last axis)
================================ ============================================================
MeanSquaredError ("mse")         ``(1/D) Σ_d (ŷ − y)²``;  ``∂L/∂ŷ = 2(ŷ − y)/(N·D)``
MeanAbsoluteError ("mae")        ``(1/D) Σ_d |ŷ − y|``
SumSquaredError ("sse")          ``½ Σ_d (ŷ − y)²`` with reduction ``"sum"``: ``E = ½ Σ e²``,
                                 the classic error of Rprop/Quickprop/Levenberg–Marquardt
BinaryCrossentropy               ``−(1/D) Σ_d [y log p + (1 − y) log(1 − p)]``, p clipped
CategoricalCrossentropy          ``−Σ_d y log p``, p renormalised then clipped
SparseCategoricalCrossentropy    ``−log p_y``, p clipped then renormalised
================================ ============================================================

**Custom losses.** Subclass ``Loss`` and define the per-sample value ``call(y_true, y_pred)`` →
``ℓ`` of shape ``(N,)`` and its derivative ``call_gradient(y_true, y_pred)`` → ``∂ℓ_n/∂ŷ_n`` of the
shape of ``y_pred``; ``Loss`` applies the sample weights and the reduction, as for the built-ins.
Both receive 2-D float arrays of one shape (a ``(N,)`` target is read as ``(N, 1)``)::

    class LogCosh(refnn.losses.Loss):
        name = "log_cosh"
        def call(self, y_true, y_pred):            # ℓ_n = (1/D) Σ_d log cosh(ŷ − y)
            return np.mean(np.log(np.cosh(y_pred - y_true)), axis=1)
        def call_gradient(self, y_true, y_pred):   # ∂ℓ_n/∂ŷ_nd = tanh(ŷ − y)/D
            return np.tanh(y_pred - y_true) / y_pred.shape[1]

    model.compile("adam", loss=LogCosh())

A function works when it carries its derivative as a ``gradient`` attribute
(``LossFunctionWrapper``: ``log_cosh.gradient = lambda y_true, y_pred: ...``). A plain function is
refused: refnn trains with the exact derivative and never differentiates a loss by finite
differences (slow, and inexact at the ~1e-8 level).

Keras rules reproduced (see ``docs/keras-numerics.md``):

* On probabilities, crossentropies clip to ``[ε, 1 − ε]`` with ``ε = 1e-7`` (the bounds rounded
  to the working dtype: in float32 ``1 − 1e-7`` is ``1 − 1.19e-7``). The clip's gradient is 0
  outside the interval and passes at the bounds.
* CCE renormalises ``p ← p / Σp`` *before* clipping; SCCE clips *first* (it feeds
  ``log(clip(p))`` to a softmax crossentropy); BCE never renormalises.
* Label smoothing: BCE ``y ← y(1 − ls) + ls/2``; CCE ``y ← y(1 − ls) + ls/K``.
* ``from_logits=True`` uses the stable logits formulas, with no clipping:
  BCE ``max(z, 0) − z·y + log(1 + e^{−|z|})``, ∂/∂z ``= σ(z) − y``;
  CCE ``Σ_k y_k (logsumexp(z) − z_k)``, ∂/∂z ``= softmax(z)·Σy − y``
  (TensorFlow's kernel returns ``softmax(z) − y``, which equals this only when the labels of a
  row sum to 1, as one-hot and smoothed labels do; refnn keeps the exact derivative).
* **Fusion.** A model whose last layer ends in softmax (sigmoid) and is trained with CCE/SCCE
  (BCE) evaluates the loss from that layer's logits — as Keras does on TensorFlow — so a
  confident wrong prediction costs its full ``logsumexp(z) − z_y`` (60.0 for logits
  ``[30, 0, −30]``, target 2) instead of the clipped ``−log 1e-7 = 16.118``.
  ``fused_activation`` names the activation a loss fuses with.
* Keras quirk *not* reproduced: Keras attaches the logits to sigmoid *and* softmax outputs and
  every crossentropy uses them, so in Keras a sigmoid output with CCE computes the *softmax*
  crossentropy of the sigmoid's input (and softmax + BCE the sigmoid crossentropy of the
  softmax's input). refnn fuses only the matching pairs and evaluates a mismatched pair on the
  probabilities the model outputs; ``tests/keras/test_core_parity.py`` pins the difference.
"""

from __future__ import annotations

import sys

from refnn.losses.base import EPSILON, Loss
from refnn.losses.crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from refnn.losses.function_wrapper import LossFunctionWrapper
from refnn.losses.regression import MeanAbsoluteError, MeanSquaredError, SumSquaredError
from refnn.utils.unsupported import missing_name, refuse_keras_object

__all__ = [
    "EPSILON",
    "Loss",
    "LossFunctionWrapper",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "SumSquaredError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "get",
]


_BY_NAME = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "sse": SumSquaredError,
    "sum_squared_error": SumSquaredError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


_PLAIN_FUNCTION = """A plain function cannot be a refnn loss (received {name!r}): refnn trains with the exact \
derivative of the loss and does not take finite differences (slow and inexact). Subclass refnn.losses.Loss with \
the per-sample value and its derivative:

    class MyLoss(refnn.losses.Loss):
        def call(self, y_true, y_pred):           # shape (N,): one value per sample
            return np.mean((y_pred - y_true) ** 2, axis=1)
        def call_gradient(self, y_true, y_pred):  # shape of y_pred: d value_n / d y_pred[n]
            return 2 * (y_pred - y_true) / y_pred.shape[1]

    model.compile(optimizer, loss=MyLoss())

or give the function its derivative as an attribute, `{name}.gradient = lambda y_true, y_pred: ...`
(shape of y_pred)."""


def get(identifier) -> Loss:
    """Return a loss from a Keras string name (``"mse"``, ``"categorical_crossentropy"``, ...)
    or an instance. A plain function is refused with a TypeError showing how to write a custom
    ``Loss`` (``call`` and ``call_gradient``, module docstring)."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    refuse_keras_object("loss", identifier, sys.modules[__name__])
    if callable(identifier) and callable(getattr(identifier, "gradient", None)):
        return LossFunctionWrapper(identifier, identifier.gradient)
    if callable(identifier) and not isinstance(identifier, type):
        raise TypeError(_PLAIN_FUNCTION.format(name=getattr(identifier, "__name__", repr(identifier))))
    raise ValueError(
        f"Unknown loss. `loss` must be one of {sorted(_BY_NAME)} or a Loss instance. "
        f"Received: loss={identifier!r}"
    )


__getattr__ = missing_name(
    "refnn.losses", ", ".join(n for n in __all__ if n[0].isupper() and n not in ("EPSILON", "Loss"))
    + " and Loss, to subclass",
    {name: "Write it as a refnn.losses.Loss subclass with `call` and `call_gradient` (see refnn.losses.Loss)."
     for name in ("Huber", "LogCosh", "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge",
                  "CosineSimilarity", "MeanSquaredLogarithmicError", "MeanAbsolutePercentageError",
                  "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "Tversky", "Dice")},
)

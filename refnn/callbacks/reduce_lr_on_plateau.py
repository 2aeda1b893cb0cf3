"""Lower the learning rate when a monitored quantity stops improving — Keras's ``ReduceLROnPlateau``."""

from __future__ import annotations

import warnings

import numpy as np

from refnn.callbacks.monitoring import MonitorCallback, assign_learning_rate, check_number, read_learning_rate
from refnn.utils.validation import check_non_negative_int

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement.

    At the end of epoch ``e``, rule for rule as Keras 3:

    1. ``logs["learning_rate"] = lr`` — the rate *before* this epoch's change (so ``History``
       and ``CSVLogger`` gain a ``learning_rate`` column, as in Keras);
    2. ``a = logs[monitor]``; missing: a warning, nothing else;
    3. in cooldown (``cooldown_counter > 0``): ``cooldown_counter −= 1``, ``wait = 0``;
    4. if ``improved(a, best)`` (see ``MonitorCallback``: ``d = |min_delta|``, float32 by default):
       ``best = a``, ``wait = 0``;
       else, if not in cooldown (the counter as step 3 left it): ``wait += 1``, and when
       ``wait ≥ patience`` and ``float32(lr) > float32(min_lr)``:
       ``lr ← max(lr·factor, min_lr)``, ``cooldown_counter = cooldown``, ``wait = 0``.

    Textbook: "reduce on plateau" (step decay triggered by the validation curve), ``ηₖ₊₁ = max(γ ηₖ,
    η_min)``. Keras compares ``old_lr > np.float32(min_lr)``: NumPy ≥ 2 compares a Python float
    with a float32 scalar in float32, so a rate within float32 round-off of ``min_lr`` is not
    reduced again; refnn does the same. In float32 runs the new rate is rounded to float32, as
    Keras's float32 learning-rate variable stores it.

    Args:
        monitor: the log key to watch.
        factor: the multiplier, ``< 1``.
        patience: epochs without improvement before a reduction.
        verbose: 1 prints each reduction.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: an improvement must exceed ``|min_delta|``.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the floor of the learning rate.
        comparison_dtype: ``"float32"`` (Keras) or ``"float64"`` (exact) for ``improved`` — refnn's
            addition; the ``min_lr`` test stays float32 as in Keras.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 comparison_dtype: str = "float32"):
        super().__init__(monitor, mode, min_delta=min_delta, comparison_dtype=comparison_dtype)
        factor = check_number("factor", factor)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received: factor={factor!r}")
        if factor < 0.0:
            raise ValueError(f"`factor` must be in [0, 1): a negative learning rate ascends the loss. "
                             f"Received: factor={factor!r}")
        self.factor = factor
        self.min_lr = check_number("min_lr", min_lr)
        if self.min_lr < 0.0:
            raise ValueError(f"`min_lr` must be >= 0. Received: min_lr={min_lr!r}")
        self.patience = check_non_negative_int("patience", patience)
        self.verbose = verbose
        self.cooldown = check_non_negative_int("cooldown", cooldown)
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_epoch_end(self, epoch, logs=None):
        self._resolve_direction()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = read_learning_rate(self.model)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs)}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = float(current)
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce(self, epoch: int) -> bool:
        old_lr = read_learning_rate(self.model)
        if not old_lr > np.float32(self.min_lr):  # a float32 comparison (NumPy ≥ 2), as in Keras
            return False
        new_lr = assign_learning_rate(self.model, max(old_lr * self.factor, self.min_lr))
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True

    def __repr__(self):
        return (f"ReduceLROnPlateau(monitor={self.monitor!r}, factor={self.factor!r}, patience={self.patience}, "
                f"mode={self.mode!r}, min_delta={self.min_delta!r}, cooldown={self.cooldown}, "
                f"min_lr={self.min_lr!r})")

"""Stop when a monitored quantity stops improving — Keras's ``EarlyStopping``, rule for rule."""

from __future__ import annotations

from refnn.callbacks.monitoring import MonitorCallback, check_number, warn_missing_monitor
from refnn.utils.validation import check_bool, check_non_negative_int

__all__ = ["EarlyStopping"]


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    ``improved(a, ref)`` is ``MonitorCallback``'s rule (``d = |min_delta|``, strict, in float32 by
    default); ``best`` is the best value so far, ``None`` at the start (Keras's ``EarlyStopping``
    passes no baseline to ``MonitorCallback``: its ``baseline`` is the separate test of step 4).

    At the end of epoch ``e`` (0-based), with ``a = logs[monitor]``:

    1. if ``a`` is missing (a warning) or ``e < start_from_epoch``: nothing counts;
    2. if ``restore_best_weights`` and there is no snapshot yet: snapshot the weights
       (``best_epoch = e``);
    3. ``wait += 1``;
    4. if ``improved(a, best)``: ``best = a``, ``best_epoch = e``, snapshot (if restoring);
       ``wait = 0`` only if ``baseline`` is ``None`` or ``improved(a, baseline)``; and *return*:
       an improving epoch never stops training;
    5. else if ``wait ≥ patience`` and ``e > 0``: ``stopped_epoch = e`` and
       ``model.stop_training = True`` (``fit`` finishes this epoch and exits).

    At the end of training the best snapshot is restored if ``restore_best_weights`` — whether
    training stopped early or not. Consequences worth knowing (all Keras's): epoch 0 can never
    stop training, so ``patience=0`` stops at the first non-improving epoch ≥ 1; ``baseline`` is
    not the initial ``best`` — it only decides whether an improvement resets ``wait``, so with a
    baseline the first epoch already counts toward patience; a NaN ``best`` makes every later
    comparison false. ``mode="auto"`` means "min" for ``loss``/``val_loss`` and the metric's
    ``direction`` otherwise (``"up"`` for accuracies); an unknown direction is an error at
    ``on_train_begin``.

    **Float32 comparison.** As Keras on TensorFlow, ``float32(a + d) < float32(ref)`` by default
    (``comparison_dtype="float32"``; see ``MonitorCallback``); ``"float64"`` compares exactly.

    Args:
        monitor: the log key to watch (``"val_loss"``, ``"loss"``, ``"val_accuracy"``, ...).
        min_delta: an improvement must exceed ``|min_delta|``.
        patience: non-improving epochs to tolerate (counted as described above).
        verbose: 1 prints when it stops and when it restores weights.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        baseline: a value the monitored quantity must beat for an improvement to reset ``wait``.
        restore_best_weights: restore the weights of the best epoch at the end of training.
        start_from_epoch: epochs ``< start_from_epoch`` are ignored entirely (warm-up).
        comparison_dtype: ``"float32"`` (Keras) or ``"float64"`` (exact).

    Attributes:
        stopped_epoch: the epoch at which training was stopped (0 if it was not).
        best, best_epoch, best_weights, wait: the state described above.
    """

    stop_reason = "early stopping"

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0,
                 comparison_dtype: str = "float32"):
        super().__init__(monitor, mode, min_delta=min_delta, comparison_dtype=comparison_dtype)
        self.patience = check_non_negative_int("patience", patience)
        self.verbose = verbose
        self.baseline = check_number("baseline", baseline, optional=True)
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)
        self.start_from_epoch = check_non_negative_int("start_from_epoch", start_from_epoch)
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights: list | None = None

    def on_train_begin(self, logs=None):
        self.direction = None  # resolved afresh for each fit (the model's metrics may differ)
        self._resolve_direction()
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        self._resolve_direction()
        current = (logs or {}).get(self.monitor)
        if current is None:
            warn_missing_monitor(self, self.monitor, logs)
            return
        if epoch < self.start_from_epoch:
            return
        current = float(current)
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def __repr__(self):
        return (
            f"EarlyStopping(monitor={self.monitor!r}, min_delta={self.min_delta!r}, "
            f"patience={self.patience}, mode={self.mode!r}, baseline={self.baseline!r}, "
            f"restore_best_weights={self.restore_best_weights}, start_from_epoch={self.start_from_epoch})"
        )

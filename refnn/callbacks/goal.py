"""Stop once a monitored quantity reaches a goal — MATLAB's ``trainParam.goal`` (Keras has none)."""

from __future__ import annotations

from refnn.callbacks.base import Callback
from refnn.callbacks.monitoring import MODES, check_monitor, check_number, resolve_direction, warn_missing_monitor
from refnn.utils.validation import check_choice

__all__ = ["Goal"]


class Goal(Callback):
    """Stop training at the end of the first epoch whose ``monitor`` reaches ``goal``.

    Mode ``"min"`` stops when ``logs[monitor] ≤ goal``, mode ``"max"`` when ``logs[monitor] ≥ goal``;
    ``"auto"`` (the default) is "min" for ``loss``/``val_loss`` and the metric's direction
    otherwise ("max" for accuracies), as ``EarlyStopping`` decides. The epoch is completed;
    ``History.stop_reason`` is then ``"goal"``. MATLAB's training functions stop the same way when
    the performance reaches ``net.trainParam.goal`` ("Performance goal met").

    Reaching a fixed value is not ``MonitorCallback``'s strict "improved on the best so far", so
    ``Goal`` shares only its checks and its ``mode="auto"`` rule, and compares in the logs' dtype.

    Args:
        goal: the value to reach (a finite number).
        monitor: the log key to watch (``"loss"``, ``"val_loss"``, ``"accuracy"``, ...).
        mode: ``"auto"``, ``"min"`` or ``"max"``.

    Attributes:
        reached_epoch: the epoch (0-based) at which the goal was reached, ``None`` before.
    """

    stop_reason = "goal"

    def __init__(self, goal: float, monitor: str = "loss", mode: str = "auto"):
        super().__init__()
        self.goal = check_number("goal", goal, finite=True)
        self.monitor = check_monitor(monitor)
        self.mode = check_choice("mode", mode, MODES)
        self.direction: str | None = None
        self.reached_epoch: int | None = None

    def on_train_begin(self, logs=None):
        self.direction = None  # this fit's model may not be the last one's
        self._resolve_direction()  # now, so that an unknown direction is refused before training
        self.reached_epoch = None

    def _resolve_direction(self) -> str:
        """``"min"`` or ``"max"``, resolved once (``mode="auto"`` needs the compiled model)."""
        if self.direction is None:
            self.direction = resolve_direction(self, self.mode, self.monitor)
        return self.direction

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warn_missing_monitor(self, self.monitor, logs)
            return
        reached = value <= self.goal if self._resolve_direction() == "min" else value >= self.goal
        if reached:
            self.reached_epoch = epoch
            self.model.stop_training = True

    def __repr__(self):
        return f"Goal(goal={self.goal!r}, monitor={self.monitor!r}, mode={self.mode!r})"

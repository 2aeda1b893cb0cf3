"""The running ``loss`` and metric values of an epoch (or of one ``evaluate``), as Keras logs them.

Keras keeps a ``Mean`` tracker for the loss, updated once per batch with the batch's loss and the
batch's number of rows as weight (``Trainer.compute_loss``), so the logged loss is

    loss = Σ_b N_b E_b / Σ_b N_b

and the compiled metrics, stateful ``refnn.metrics.Metric`` objects (``reset_state``,
``update_state(y_true, y_pred, sample_weight, from_logits=...)``, ``result``); a mean metric's
``result()`` is ``Σ w_n m_n / Σ w_n`` over every row seen (0 when ``Σ w = 0``, Keras's
``divide_no_nan``). Both are reset at the start of each epoch, each ``evaluate`` and each
``train_on_batch``/``test_on_batch`` call.
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["LogTracker"]


class LogTracker:
    """The loss tracker and the compiled metrics of one model, reset together.

    ``metrics`` are updated without sample weights and ``weighted_metrics`` with them: Keras 3's
    ``CompileMetrics.update_state`` passes ``sample_weight`` (from ``sample_weight`` or
    ``class_weight``) to ``compile(weighted_metrics=...)`` only. A weighted metric whose name is
    taken is logged as ``weighted_<name>`` (Keras's rule).

    ``own_copies=True`` (evaluation) tracks copies of stateful metrics, so that an ``evaluate``
    run from a callback in the middle of an epoch leaves that epoch's running metrics alone
    (Keras resets the shared objects; refnn keeps the training logs right).
    """

    def __init__(self, metrics, weighted_metrics=(), own_copies: bool = False):
        self.metrics = [copy.deepcopy(m) if own_copies else m for m in metrics]
        self.weighted_metrics = [copy.deepcopy(m) if own_copies else m for m in weighted_metrics]
        self.all_metrics = self.metrics + self.weighted_metrics  # read every batch: built once
        self.names = log_names(metrics, weighted_metrics)
        self.reset()

    def reset(self) -> None:
        self.loss_sum, self.seen = 0.0, 0
        for metric in self.all_metrics:
            metric.reset_state()

    def add_loss(self, loss: float, rows: int) -> None:
        self.loss_sum += rows * loss
        self.seen += rows

    def result(self) -> dict[str, float]:
        """``{"loss": ..., metric name: ...}`` so far."""
        logs = {"loss": self.loss_sum / self.seen if self.seen else 0.0}
        logs.update({name: _log_value(metric.result()) for name, metric in zip(self.names, self.all_metrics)})
        return logs


def _log_value(result):
    """A metric's result as the logs hold it: a float, or an array for a metric with several values
    (``Precision(thresholds=[0.3, 0.5])``: one per threshold, as Keras logs it)."""
    return float(result) if np.ndim(result) == 0 else np.array(result, dtype=np.float64)


def log_names(metrics, weighted_metrics) -> list[str]:
    """The log keys of ``metrics`` then ``weighted_metrics`` (``weighted_<name>`` on a clash)."""
    names = [m.name for m in metrics]
    for m in weighted_metrics:
        names.append(m.name if m.name not in names else f"weighted_{m.name}")
    return names

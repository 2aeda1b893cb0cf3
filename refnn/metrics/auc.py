"""``AUC``: the area under the ROC or precision–recall curve on a threshold grid (Keras's ``AUC``).

The equations are in ``refnn.metrics.confusion``'s docstring; the counting in ``refnn.metrics.counting``.
"""

from __future__ import annotations

import numbers

import numpy as np

from refnn.metrics.base import Metric, sample_weights
from refnn.metrics.confusion import _as_pairs, _check_thresholds, _ratio
from refnn.metrics.counting import EPSILON, confusion_counts, evenly_distributed
from refnn.utils.validation import check_bool

__all__ = ["AUC"]

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "minoring", "majoring")


def _check_num_thresholds(value) -> int:
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 1):
        raise ValueError(f"`num_thresholds` must be an integer > 1. Received: num_thresholds={value!r}")
    return int(value)


class AUC(Metric):
    """Area under the ROC (``curve="ROC"``) or precision–recall (``"PR"``) curve, Keras's arguments.

    ``multi_label=True``, ``num_labels`` and ``label_weights`` are not supported (ValueError): refnn's
    AUC flattens a multi-unit output into one set of (label, prediction) pairs, Keras's default.
    ``from_logits=True`` applies the sigmoid first, as Keras does.
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, thresholds=None, multi_label: bool = False, num_labels=None,
                 label_weights=None, from_logits: bool = False):
        if not (isinstance(curve, str) and curve.lower() in _CURVES):
            raise ValueError(f"`curve` must be one of ['ROC', 'PR', 'PRGAIN']. Received: curve={curve!r}")
        self.curve = _CURVES[curve.lower()]
        if not (isinstance(summation_method, str) and summation_method.lower() in _SUMMATIONS):
            raise ValueError(f"`summation_method` must be one of {list(_SUMMATIONS)}. "
                             f"Received: summation_method={summation_method!r}")
        self.summation_method = summation_method.lower()
        if check_bool("multi_label", multi_label) or num_labels is not None or label_weights is not None:
            raise ValueError(
                "refnn's AUC does not support multi_label=True, num_labels or label_weights (it flattens the "
                f"outputs, Keras's default). Received: multi_label={multi_label!r}, num_labels={num_labels!r}, "
                f"label_weights={label_weights!r}"
            )
        self.from_logits = check_bool("from_logits", from_logits)
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_check_thresholds("thresholds", thresholds, low=None))
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_distributed([0.0] + inner + [1.0])
        else:
            self.num_thresholds = _check_num_thresholds(num_thresholds)
            n = self.num_thresholds
            inner = [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        super().__init__("auc" if name is None else name, None, "up")

    @property
    def thresholds(self) -> list:
        """The thresholds, end points ``−ε`` and ``1 + ε`` included."""
        return list(self._thresholds)

    def reset_state(self) -> None:
        zeros = np.zeros(len(self._thresholds))
        self.true_positives, self.false_positives = zeros, zeros.copy()
        self.true_negatives, self.false_negatives = zeros.copy(), zeros.copy()

    def update_state(self, y_true, y_pred, sample_weight=None, *, from_logits: bool = False) -> None:
        y_true, y_pred = _as_pairs("AUC", y_true, y_pred)
        w = sample_weights(sample_weight, y_pred.shape[0])
        if self.from_logits:
            with np.errstate(over="ignore"):
                one = y_pred.dtype.type(1.0)
                y_pred = one / (one + np.exp(-y_pred))  # σ(z); exp overflow gives the right limit 0
        tp, fp, fn, tn = confusion_counts(y_true, y_pred, w, self._thresholds, self._evenly, with_epsilon=True)
        self.true_positives = self.true_positives + tp
        self.false_positives = self.false_positives + fp
        self.false_negatives = self.false_negatives + fn
        self.true_negatives = self.true_negatives + tn

    def result(self) -> float:
        tp, fp, fn, tn = self.true_positives, self.false_positives, self.false_negatives, self.true_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_auc()
        recall = _ratio(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _ratio(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _ratio(tp, tp + fp)
        else:
            x, y = self._gains()
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(np.sum((x[:-1] - x[1:]) * heights))

    def _interpolated_pr_auc(self) -> float:
        """Davis & Goadrich's interpolation (equations in ``refnn.metrics.confusion``)."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _ratio(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both_positive, _ratio(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increments = _ratio(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
        return float(np.sum(increments))

    def _gains(self):
        tp, fp, fn, tn = self.true_positives, self.false_positives, self.false_negatives, self.true_negatives
        scaling = _ratio(tp + fn, tn + fp)
        recall_gain = np.where(tp == 0, 0.0, 1.0 - scaling * _ratio(fn, tp))
        precision_gain = np.where(tp == 0, 1.0, 1.0 - scaling * _ratio(fp, tp))
        return np.maximum(recall_gain, 0.0), precision_gain

    def get_config(self) -> dict:
        config = {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": False, "num_labels": None,
                  "label_weights": None, "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config

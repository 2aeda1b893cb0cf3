"""Inference and one-batch methods of a model — Keras 3's ``__call__``, ``predict``,
``predict_on_batch``, ``evaluate``, ``test_on_batch``, ``train_on_batch`` and ``metrics_names``.

A mixin of ``Trainer``; relies on ``Sequential`` for ``_forward``, ``_loss_input``, the input
checks and the training step ``_train_batch``.

Return values follow Keras: ``evaluate``, ``test_on_batch`` and ``train_on_batch`` give the
loss alone when nothing else is tracked, else the list ``[loss, *metrics]`` in
``metrics_names`` order, or the dict ``{name: value}`` with ``return_dict=True``. Keras 3's own
``model.metrics_names`` reads ``["loss", "compile_metrics"]`` once its metrics are built (the
names of its tracker objects); refnn's lists the names of the values in the returned list,
``["loss", *compiled metric names]`` (``weighted_<name>`` for a weighted metric named like an
unweighted one). The list follows Keras's ``_flatten_metrics_in_order`` to the letter, quirk
included: with ``metrics=["accuracy"], weighted_metrics=["accuracy"]`` it is
``[loss, accuracy, accuracy, weighted_accuracy]`` (the unweighted value twice).

The metrics are reset by each ``evaluate``, ``test_on_batch`` and ``train_on_batch`` (Keras 3
calls ``reset_metrics()`` in each): a batch method reports that batch alone.
"""

from __future__ import annotations

import numpy as np

from refnn.callbacks.progress import format_logs
from refnn.models.log_tracking import LogTracker, log_names
from refnn.models.weighting import check_sample_weight, training_sample_weight
from refnn.optimizers.base import ModelOptimizer
from refnn.utils.data import batches
from refnn.utils.validation import check_bool, check_positive_int

__all__ = ["BatchAPI", "check_array_input", "resolve_verbose"]


def check_array_input(name: str, value) -> None:
    """Refuse what refnn cannot iterate as arrays (tf.data datasets, generators, PyDatasets),
    naming it, before a NumPy conversion error would."""
    kind = type(value)
    module = kind.__module__ or ""
    if value is None:
        raise ValueError(f"`{name}` is required: refnn trains on NumPy arrays (x, y). Received: {name}=None")
    if hasattr(value, "__next__") or module.startswith(("tensorflow", "torch", "keras")) \
            or (hasattr(value, "__iter__") and not hasattr(value, "__len__")):
        raise TypeError(
            f"`{name}` must be a NumPy array (or a nested list of numbers): refnn does not take generators, "
            f"tf.data datasets or Keras PyDatasets. Convert it with np.asarray. Received: {name} of type "
            f"{module}.{kind.__name__}")


def resolve_verbose(verbose, auto: int) -> int:
    """Keras's ``verbose="auto"`` → ``auto``; else 0, 1 or 2 (``check_verbose``'s rule, with "auto" named)."""
    if verbose == "auto":
        return auto
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return verbose


class BatchAPI:
    """Mixed into ``Trainer`` (see the module docstring)."""

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *compiled metric names]``: the order of ``evaluate``'s list."""
        return ["loss", *log_names(self.metrics, self.weighted_metrics)]

    @property
    def weighted_metrics(self) -> list:
        """The metrics compiled with ``weighted_metrics=``: updated with the sample weights."""
        return getattr(self, "_weighted_metrics", [])

    def _log_tracker(self, evaluation: bool = False) -> LogTracker:
        return LogTracker(self.metrics, self.weighted_metrics, own_copies=evaluation)

    def _flatten_logs(self, logs: dict, return_dict: bool):
        """Keras's return forms: the dict, the loss alone, or ``[loss, *metrics]``."""
        if return_dict:
            return logs
        # Keras's _flatten_metrics_in_order: the metric objects' own names first (a weighted metric
        # named like an unweighted one repeats that one's value), then the other keys, sorted
        names = ["loss", *(m.name for m in self.metrics), *(m.name for m in self.weighted_metrics)]
        values = [logs[name] for name in names if name in logs]
        values += [logs[key] for key in sorted(logs) if key not in names]
        return values[0] if len(values) == 1 else values

    def _update_metrics(self, tracker: LogTracker, y, y_pred, sample_weight, training: bool) -> None:
        """Update each metric with the batch; a crossentropy metric takes the output layer's
        logits when ``y_pred`` is that layer's activation of them, as Keras's backend does (else,
        e.g. after Levenberg–Marquardt's trial steps overwrote the layers' caches, the
        probabilities)."""
        logits = {}
        unweighted = len(tracker.metrics)
        for position, metric in enumerate(tracker.all_metrics):
            weight = sample_weight if position >= unweighted else None
            activation = metric.fused_activation
            if activation is not None:
                if activation not in logits:
                    i = self._logits_layer(activation, training)
                    fused = i is not None and getattr(self.layers[i], "_y", None) is y_pred
                    logits[activation] = self.layers[i].logits if fused else None
                if logits[activation] is not None:
                    metric.update_state(y, logits[activation], weight, from_logits=True)
                    continue
            metric.update_state(y, y_pred, weight)

    # ---- inference --------------------------------------------------------------------------------
    def __call__(self, x, training: bool = False) -> np.ndarray:
        """``model(x)``: the outputs of the whole of ``x`` in one pass, as a NumPy array (Keras
        returns a tensor); ``training=True`` runs the layers in training mode (dropout on)."""
        check_array_input("x", x)
        return self._forward(self._check_x(x), check_bool("training", training))

    def predict(self, x, batch_size: int | None = None, verbose="auto", steps=None, callbacks=None) -> np.ndarray:
        """Outputs in inference mode (dropout off), in batches of ``batch_size`` rows.

        ``batch_size=None`` runs all rows in one pass, where Keras uses batches of 32: the rows are
        independent, so the numbers are the same and one pass is faster in NumPy. ``verbose``: 1 or
        2 print one line ``steps/steps`` once done; ``"auto"`` is silent here (Keras draws a
        progress bar), as ``predict`` runs in loops of plots and lessons. ``steps`` and
        ``callbacks`` exist for Keras's signature and take only ``None``.
        """
        verbose = resolve_verbose(verbose, auto=0)
        self._refuse_unsupported(steps=steps, callbacks=callbacks)
        check_array_input("x", x)
        x = self._check_x(x)
        if batch_size is None:
            out, steps_done = self._forward(x, training=False), 1
        else:
            batch_size = check_positive_int("batch_size", batch_size)
            parts = [self._forward(x[rows], False) for rows in batches(x.shape[0], batch_size)]
            out, steps_done = np.concatenate(parts), len(parts)
        if verbose:
            print(f"{steps_done}/{steps_done}")
        return out

    def predict_on_batch(self, x) -> np.ndarray:
        """The outputs of one batch in inference mode (``predict`` in a single pass)."""
        return self.predict(x, batch_size=None, verbose=0)

    # ---- evaluate -----------------------------------------------------------------------------------
    def _evaluate(self, x, y, batch_size: int, sample_weight=None) -> dict[str, float]:
        """Loss (penalty included) and metrics in inference mode: each batch's loss is
        ``Σ w ℓ / N_b + R(W)``, averaged over batches weighted by their sizes (Keras)."""
        tracker = self._log_tracker(evaluation=True)
        penalty = self.regularization_loss()
        for rows in batches(x.shape[0], batch_size):
            xb, yb = x[rows], y[rows]
            wb = None if sample_weight is None else sample_weight[rows]
            y_pred = self._forward(xb, training=False)
            out, from_logits, _ = self._loss_input(y_pred, training=False)
            value = self.loss.value_and_gradient(yb, out, wb, from_logits=from_logits)[0]
            tracker.add_loss(value + penalty, xb.shape[0])
            if tracker.all_metrics:
                self._update_metrics(tracker, yb, y_pred, wb, False)
        return tracker.result()

    def evaluate(self, x=None, y=None, batch_size: int | None = None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict: bool = False):
        """Loss (regularisation included) and metrics in inference mode, Keras's values and forms.

        ``batch_size=None`` is 32 (Keras). Returns the loss (a float) when no metric is compiled,
        else ``[loss, *metrics]`` in ``metrics_names`` order; ``return_dict=True`` gives
        ``{name: value}``. ``verbose`` (``"auto"`` = 1): 1 or 2 print one line of the values.
        """
        self._require_compiled("evaluate")
        verbose = resolve_verbose(verbose, auto=1)
        self._refuse_unsupported(steps=steps, callbacks=callbacks)
        batch_size = 32 if batch_size is None else check_positive_int("batch_size", batch_size)
        check_array_input("x", x)
        check_array_input("y", y)
        x = self._check_x(x)
        y = self._check_y(y, x.shape[0])
        sample_weight = check_sample_weight("sample_weight", sample_weight, x.shape[0], self.dtype)
        logs = self._evaluate(x, y, batch_size, sample_weight)
        if verbose:
            steps_done = -(-x.shape[0] // batch_size)
            print(f"{steps_done}/{steps_done} - {format_logs(logs)}")
        return self._flatten_logs(logs, check_bool("return_dict", return_dict))

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """``evaluate`` of one batch, in one pass (metrics reset first, as in Keras)."""
        self._require_compiled("test_on_batch")
        check_array_input("x", x)
        check_array_input("y", y)
        x = self._check_x(x)
        y = self._check_y(y, x.shape[0])
        sample_weight = check_sample_weight("sample_weight", sample_weight, x.shape[0], self.dtype)
        logs = self._evaluate(x, y, x.shape[0], sample_weight)
        return self._flatten_logs(logs, check_bool("return_dict", return_dict))

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One training step on the batch; returns its loss and metrics, computed with the weights
        *before* the update (as ``fit``'s batch logs; the metrics are reset first, as in Keras)."""
        self._require_compiled("train_on_batch", steps=True)
        self._check_parameters_linked()
        check_array_input("x", x)
        check_array_input("y", y)
        x = self._check_x(x)
        y = self._check_y(y, x.shape[0])
        sample_weight = training_sample_weight(y, sample_weight, class_weight, self.dtype)
        self._check_weights_supported(sample_weight)
        tracker = self._log_tracker()
        loss, y_pred = self._train_batch(x, y, sample_weight, bool(tracker.all_metrics))
        tracker.add_loss(loss, x.shape[0])
        if tracker.all_metrics:
            self._update_metrics(tracker, y, y_pred, sample_weight, True)
        return self._flatten_logs(tracker.result(), check_bool("return_dict", return_dict))

    def _refuse_unsupported(self, **arguments) -> None:
        """Keras arguments refnn keeps in its signatures but supports only as ``None``."""
        for name, value in arguments.items():
            if value is not None:
                raise ValueError(
                    f"`{name}` is not supported by refnn (only None): refnn iterates whole NumPy arrays. "
                    f"Received: {name}={value!r}")

    def _check_weights_supported(self, sample_weight) -> None:
        if sample_weight is not None and isinstance(self.optimizer, ModelOptimizer):
            raise ValueError(
                f"{type(self.optimizer).__name__} steps the whole model from its unweighted sum of squares: it "
                "takes no `sample_weight` or `class_weight`. Received: sample_weight of shape "
                f"{np.shape(sample_weight)}")

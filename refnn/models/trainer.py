"""Training a model: ``compile`` and ``fit`` — Keras's training API (``evaluate``, ``predict``
and the one-batch methods are in ``refnn.models.batch_api``, the weights in ``weighting``).

``Trainer`` is the half of ``Sequential`` that drives the training loop; the other half
(``refnn.models.sequential``) is the stack of layers it trains: forward, backward, the loss and
its gradients, the parameters. It relies on that half for ``layers``, ``params``, ``dtype``,
``_forward``, ``_step_loss_and_gradients``, ``_loss_input``, ``_logits_layer``, ``_grads`` and the input
checks (Keras splits its ``Model`` the same way, into a ``Trainer`` and the layer graph).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np

from refnn import losses as losses_module
from refnn import metrics as metrics_module
from refnn import optimizers as optimizers_module
from refnn.callbacks import CallbackList, History, ProgressBar
from refnn.models.batch_api import BatchAPI, check_array_input, resolve_verbose
from refnn.models.log_tracking import LogTracker
from refnn.models.weighting import (
    check_sample_weight,
    class_weight_to_sample_weights,
    refuse_both_weightings,
    unpack_validation_data,
)
from refnn.optimizers.base import ModelOptimizer
from refnn.utils.data import split_validation, weighted_batches
from refnn.utils.validation import (
    check_bool,
    check_finite_array,
    check_full_batch,
    check_non_negative_int,
    check_positive_int,
)

__all__ = ["Trainer"]


def _check_shuffle(shuffle) -> bool:
    if shuffle == "batch":
        raise ValueError(
            "shuffle='batch' (Keras 2's chunked shuffling of HDF5 data) is not supported: refnn holds the "
            "data in memory; use shuffle=True (a fresh permutation each epoch) or False. Received: shuffle='batch'")
    return check_bool("shuffle", shuffle)


def _metric_list(metrics, argument: str = "metrics") -> list:
    if metrics is None:
        return []
    if isinstance(metrics, (str, metrics_module.Metric)):
        metrics = [metrics]
    metrics = [metrics_module.get(m) for m in metrics]
    names = [m.name for m in metrics]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:  # one log key each: a second "auc" would overwrite the first
        raise ValueError(f"Two entries of `{argument}` log under the same name {repeated}: give one a name of its "
                         f"own, e.g. AUC(name=\"auc_pr\"). Received: {argument}={names}")
    return metrics


class Trainer(BatchAPI):
    """``compile``, ``train_step`` and ``fit``; ``evaluate``, ``predict`` and the batch methods
    come from ``BatchAPI`` (see ``Sequential``)."""

    @property
    def optimizer(self):
        """The optimizer; assigning one binds it to this model (see ``compile``)."""
        return self._optimizer

    @optimizer.setter
    def optimizer(self, optimizer) -> None:
        if optimizer is not None:
            owner = optimizer._model
            if owner is not self and (optimizer.iterations or optimizer.state):
                trained = f"the model {owner.name!r}" if owner is not None else \
                    f"a model ({optimizer.iterations} steps; a copy or a pickle of an optimizer keeps them)"
                raise ValueError(
                    f"This optimizer has already trained {trained}: its state (moments, step count) is keyed "
                    "by parameter paths that every model shares (dense_0/kernel, ...). Give each model its own "
                    f"optimizer, e.g. `{type(optimizer).__name__}.from_config(opt.get_config())`, or copy the "
                    f"whole model (copy.deepcopy(model)) to continue its training. Received: optimizer={optimizer!r}"
                )
            optimizer._model = self
        self._optimizer = optimizer

    def compile(self, optimizer="sgd", loss=None, metrics=None, weighted_metrics=None) -> None:
        """Set the optimizer (name or instance), the loss (Keras name or instance) and metrics.

        As in Keras 3, ``metrics`` ignore the sample weights (``sample_weight``, ``class_weight``)
        and ``weighted_metrics`` take them: ``Σ w m / Σ w``.

        An optimizer serves one model: one that has already taken steps for another model — or is
        a copy or a pickle of one that has — is refused (as Keras refuses an optimizer built for
        other variables), whether or not that model still exists. The loss must reduce to a
        scalar: ``reduction="none"`` gives per-sample values, for use outside ``fit``.
        """
        if loss is None:
            raise ValueError("`loss` is required, e.g. loss=\"categorical_crossentropy\". Received: loss=None")
        optimizer = optimizers_module.get(optimizer)
        loss = losses_module.get(loss)
        if loss.reduction == "none":
            raise ValueError(
                "`compile` needs a loss reduced to a scalar (reduction 'sum_over_batch_size', 'mean' or "
                f"'sum'): reduction='none' gives one value per sample, for use outside fit. Received: loss={loss!r}"
            )
        optimizer.check_loss(loss)  # e.g. Levenberg–Marquardt refuses a non-sum-of-squares loss
        self.optimizer, self.loss = optimizer, loss
        self.metrics = _metric_list(metrics)
        self._weighted_metrics = _metric_list(weighted_metrics, "weighted_metrics")

    # ---- one step ---------------------------------------------------------------------------------
    def train_step(self, x, y) -> float:
        """One forward, backward and optimizer update on a batch; returns the batch loss
        (computed with the weights before the update)."""
        self._require_compiled("train_step", steps=True)
        self._check_parameters_linked()
        x = self._check_x(x)
        return self._train_batch(x, self._check_y(y, x.shape[0]))[0]

    def _train_batch(self, x, y, sample_weight=None, need_output: bool = True):
        """One step: ``(loss, outputs)``; the outputs (for the metrics) are ``None`` when
        ``need_output`` is False and the model skips them (see ``_step_loss_and_gradients``)."""
        if isinstance(self.optimizer, ModelOptimizer):  # e.g. Levenberg–Marquardt: the whole model
            return self.optimizer.model_step(self, x, y)
        loss, grads, y_pred = self._step_loss_and_gradients(x, y, sample_weight, need_output)
        self.optimizer.apply(self.params, grads, loss=loss)
        return loss, y_pred

    # ---- fit ----------------------------------------------------------------------------------------
    def next_shuffle_orders(self, n: int, epochs: int) -> np.ndarray:
        """The row permutations the next ``fit(shuffle=True)`` on ``n`` training rows will use, one
        per epoch, without consuming them (``keras_bridge`` replays them so that Keras sees the
        same batches)."""
        n = check_positive_int("n", n)
        preview = copy.deepcopy(self._shuffle_rng)
        return np.stack([preview.permutation(n) for _ in range(check_non_negative_int("epochs", epochs))]) \
            if epochs else np.zeros((0, n), dtype=np.int64)

    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True, class_weight=None,
            sample_weight=None, initial_epoch: int = 0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size: int | None = None, validation_freq: int = 1) -> History:
        """Train for epochs ``initial_epoch … epochs − 1``, Keras 3's ``fit`` (same arguments, same order).

        * Batches are consecutive slices of the (shuffled) rows; the last batch holds
          ``N mod batch_size`` rows and is a normal step (its loss averaged over its own size).
          ``batch_size=None`` is 32; ``batch_size ≥ N`` is batch gradient descent.
        * ``shuffle=True`` draws a fresh permutation each epoch from the model's seeded generator
          (``shuffle="batch"``, for HDF5 data in Keras 2, is refused).
        * ``sample_weight`` (N,) weights each row: the batch loss is ``Σ w ℓ / N_b`` (Keras's
          ``sum_over_batch_size``), a metric ``Σ w m / Σ w``. ``class_weight={class: weight}`` turns
          into such weights (``refnn.models.weighting``); never for the validation data.
        * ``validation_split=v`` holds out the *last* ``N − ⌊N(1 − v)⌋`` rows (and their
          ``sample_weight``) before shuffling; ``validation_data`` is ``(x, y)`` or ``(x, y, w)``.
          Validation runs after epochs ``e`` with ``(e + 1) % validation_freq == 0``, in batches of
          ``validation_batch_size`` (default ``batch_size``).
        * ``history["loss"]`` is the size-weighted mean of the batch losses (weights before each
          update, regularisation included); ``val_*`` are computed with the end-of-epoch weights.
        * Calling ``fit`` again continues from the current weights and optimizer state.
        * ``steps_per_epoch`` and ``validation_steps`` take only ``None``; ``x`` must be an array.
        * ``history.record`` is the training record (learning rate, gradient norm, seconds,
          validation failures, μ) and ``history.stop_reason`` why the loop ended (see ``History``).

        Returns:
            the ``History`` (also ``model.history``).
        """
        self._require_compiled("fit", steps=True)
        self._check_parameters_linked()
        self._refuse_unsupported(steps_per_epoch=steps_per_epoch, validation_steps=validation_steps)
        check_array_input("x", x)
        check_array_input("y", y)
        epochs = check_non_negative_int("epochs", epochs)
        initial_epoch = check_non_negative_int("initial_epoch", initial_epoch)
        batch_size = 32 if batch_size is None else check_positive_int("batch_size", batch_size)
        validation_batch_size = batch_size if validation_batch_size is None else \
            check_positive_int("validation_batch_size", validation_batch_size)
        validation_freq = check_positive_int("validation_freq", validation_freq)
        shuffle = _check_shuffle(shuffle)
        verbose = resolve_verbose(verbose, auto=1)
        if not self.built:
            self.build(check_finite_array("x", x, ndim=2).shape[1])
        x = self._check_x(x)
        y = self._check_y(y, x.shape[0])
        refuse_both_weightings(sample_weight, class_weight)
        weights = check_sample_weight("sample_weight", sample_weight, y.shape[0], self.dtype)
        x, y, weights, validation = self._training_and_validation(x, y, weights, validation_split,
                                                                  validation_data)
        if class_weight is not None:  # after the split: class weights never weight validation
            weights = class_weight_to_sample_weights(y, class_weight, self.dtype)
        self._check_weights_supported(weights)
        self._check_full_batch(batch_size, x.shape[0])
        callback_list = self._callback_list(callbacks, verbose, epochs, -(-x.shape[0] // batch_size))
        self.stop_training = False
        tracker = self._log_tracker()
        self._initial_epoch = None
        callback_list.on_train_begin({})
        if self._initial_epoch is not None:  # BackupAndRestore resumes an interrupted fit (as Keras reads it)
            initial_epoch = self._initial_epoch
        for epoch in range(initial_epoch, epochs):
            callback_list.on_epoch_begin(epoch, {})
            logs = self._fit_epoch(x, y, weights, batch_size, shuffle, callback_list, tracker)
            if validation is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate(*validation[:2], validation_batch_size, validation[2])
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        self.history.stop_reason = self._stop_reason(callback_list)
        callback_list.on_train_end({})
        self._warn_if_diverged()
        return self.history

    def _stop_reason(self, callback_list: CallbackList) -> str:
        """Why the loop ended (``History.stop_reason``): the stopping callback's reason, the
        full-batch optimizer's own stop, or ``"epochs"``."""
        if not self.stop_training:
            return "epochs"
        if callback_list.stopped_by is not None:
            return callback_list.stopped_by.stop_reason or "callback"
        own = getattr(self.optimizer, "stop_reason", None)  # Levenberg–Marquardt
        return {"min_grad": "minimum gradient", "mu_max": "maximum mu"}.get(own, "callback")

    def _training_and_validation(self, x, y, weights, validation_split, validation_data):
        """``(x_train, y_train, w_train, (x_val, y_val, w_val) or None)`` from the two ways of asking
        for validation (Keras's ``train_validation_split`` splits the sample weights alike)."""
        if validation_split and validation_data is not None:
            raise ValueError("Pass either `validation_split` or `validation_data`, not both.")
        if validation_data is None:
            x, y, x_val, y_val = split_validation(x, y, validation_split)
            if x_val is None:
                return x, y, weights, None
            w, w_val = (None, None) if weights is None else (weights[:x.shape[0]], weights[x.shape[0]:])
            return x, y, w, (x_val, y_val, w_val)
        x_val, y_val, w_val = unpack_validation_data(validation_data)
        check_array_input("validation_data[0]", x_val)
        check_array_input("validation_data[1]", y_val)
        x_val = self._check_x(x_val, "validation_data[0]")
        y_val = self._check_y(y_val, x_val.shape[0], "validation_data[1]")
        w_val = check_sample_weight("validation_data[2]", w_val, x_val.shape[0], self.dtype)
        return x, y, weights, (x_val, y_val, w_val)

    def _check_full_batch(self, batch_size: int, n: int) -> None:
        if self.optimizer.requires_full_batch:
            check_full_batch(type(self.optimizer).__name__, batch_size, n)

    def _callback_list(self, callbacks, verbose: int, epochs: int, steps: int) -> CallbackList:
        """Keras's order: the user's callbacks, then History, then the progress bar (unless the
        user passed one), so History records what the callbacks wrote into the logs."""
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise TypeError(
                "`callbacks` must be a list of Callback instances. "
                f"Received: callbacks={callbacks!r} (wrap a single callback in a list)"
            )
        user_callbacks = list(callbacks or [])
        self.history = History()
        defaults = [self.history]
        if verbose and not any(isinstance(cb, ProgressBar) for cb in user_callbacks):
            defaults.append(ProgressBar(verbose))
        return CallbackList([*user_callbacks, *defaults], self,
                            {"epochs": epochs, "steps": steps, "verbose": verbose})

    def _fit_epoch(self, x, y, weights, batch_size: int, shuffle: bool, callback_list: CallbackList,
                   tracker: LogTracker) -> dict:
        """One pass over the (shuffled) batches; returns the epoch's logs (``tracker.result()``)."""
        order = self._shuffle_rng.permutation(x.shape[0]) if shuffle else None
        tracker.reset()
        batch_begin, batch_logs = callback_list.wants_batch_begin, callback_list.wants_batch_logs
        with_metrics = bool(tracker.all_metrics)
        for step, (xb, yb, wb) in enumerate(weighted_batches(x, y, weights, batch_size, order)):
            if batch_begin:
                callback_list.on_train_batch_begin(step, {})
            loss, y_pred = self._train_batch(xb, yb, wb, with_metrics)
            tracker.add_loss(loss, xb.shape[0])
            if with_metrics:
                self._update_metrics(tracker, yb, y_pred, wb, True)
            if batch_logs:
                callback_list.on_train_batch_end(step, tracker.result())
            if self.stop_training:
                break
        self._epoch_gradient_norm = self._gradient_norm()
        return tracker.result()

    def _gradient_norm(self) -> float | None:
        """``‖∇E‖₂`` of the last training batch, read from the packed gradient buffer (which the
        optimizers never write into); ``None`` for a whole-model optimizer, which keeps its own."""
        if isinstance(self.optimizer, ModelOptimizer):
            return None
        flat = self._grads.flat.astype(np.float64, copy=False)
        return float(np.sqrt(flat @ flat))

    def _warn_if_diverged(self) -> None:
        if not np.all(np.isfinite(self.params.flat)):
            warnings.warn(
                "Training ended with non-finite weights (NaN or inf): the loss diverged. Lower the "
                "learning rate or scale the inputs; TerminateOnNaN stops such a run early.",
                RuntimeWarning, stacklevel=3,
            )

    def _require_compiled(self, what: str, steps: bool = False) -> None:
        """Compiled; and, if ``what`` takes optimizer ``steps``, still the optimizer's model."""
        if self.loss is None or self.optimizer is None:
            raise ValueError(f"You must call `compile(optimizer, loss)` before `{what}`.")
        if steps and self.optimizer._model is not self:
            raise ValueError(
                f"This model's optimizer was compiled into the model {self.optimizer._model.name!r} since: an "
                f"optimizer serves one model. Compile this one again with an optimizer of its own before `{what}`."
            )

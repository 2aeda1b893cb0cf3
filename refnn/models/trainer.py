"""Training a model: ``compile``, ``fit``, ``evaluate``, ``predict`` — Keras's training API.

``Trainer`` is the half of ``Sequential`` that drives the training loop; the other half
(``refnn.models.sequential``) is the stack of layers it trains: forward, backward, the loss and
its gradients, the parameters. It relies on that half for ``layers``, ``params``, ``dtype``,
``_forward``, ``_loss_and_gradients``, ``_loss_input``, ``_logits_layer``, ``_grads`` and the input
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
from refnn.callbacks.progress import check_verbose
from refnn.optimizers.base import ModelOptimizer
from refnn.utils.data import batches, shuffled_batches, split_validation
from refnn.utils.validation import (
    check_bool,
    check_finite_array,
    check_full_batch,
    check_non_negative_int,
    check_positive_int,
)

__all__ = ["Trainer"]


class Trainer:
    """``compile``, ``train_step``, ``fit``, ``evaluate`` and ``predict`` (see ``Sequential``)."""

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

    def compile(self, optimizer="sgd", loss=None, metrics=None) -> None:
        """Set the optimizer (name or instance), the loss (Keras name or instance) and metrics.

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
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, metrics_module.Metric)):
            metrics = [metrics]
        self.metrics = [metrics_module.get(m) for m in metrics]

    # ---- one step ---------------------------------------------------------------------------------
    def train_step(self, x, y) -> float:
        """One forward, backward and optimizer update on a batch; returns the batch loss
        (computed with the weights before the update)."""
        self._require_compiled("train_step", steps=True)
        self._check_parameters_linked()
        x = self._check_x(x)
        return self._train_batch(x, self._check_y(y, x.shape[0]))[0]

    def _train_batch(self, x, y):
        if isinstance(self.optimizer, ModelOptimizer):  # e.g. Levenberg–Marquardt: the whole model
            return self.optimizer.model_step(self, x, y)
        loss, grads, y_pred = self._loss_and_gradients(x, y, True, need_input_grad=False)
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

    def fit(self, x, y, epochs: int = 1, batch_size: int | None = 32, shuffle: bool = True,
            validation_split: float = 0.0, validation_data=None, callbacks=None, verbose: int = 1,
            initial_epoch: int = 0) -> History:
        """Train for ``epochs`` passes over the data, Keras's semantics.

        * Batches are consecutive slices of the (shuffled) rows; the last batch holds
          ``N mod batch_size`` rows and is a normal step (its loss averaged over its own size).
          ``batch_size=1`` is stochastic, ``batch_size ≥ N`` batch gradient descent.
        * ``shuffle=True`` draws a fresh permutation each epoch from the model's seeded generator.
        * ``validation_split=v`` holds out the *last* ``N − ⌊N(1 − v)⌋`` rows, before shuffling.
        * ``history["loss"]`` is the size-weighted mean of the batch losses (weights before each
          update, regularisation included); ``val_*`` are computed with the end-of-epoch weights.
        * Calling ``fit`` again continues from the current weights and optimizer state.
        * ``history.record`` is the training record (learning rate, gradient norm, seconds,
          validation failures, μ) and ``history.stop_reason`` why the loop ended (see ``History``).

        Returns:
            the ``History`` (also ``model.history``).
        """
        self._require_compiled("fit", steps=True)
        self._check_parameters_linked()
        epochs = check_non_negative_int("epochs", epochs)
        initial_epoch = check_non_negative_int("initial_epoch", initial_epoch)
        batch_size = 32 if batch_size is None else check_positive_int("batch_size", batch_size)
        shuffle = check_bool("shuffle", shuffle)
        check_verbose(verbose)
        if not self.built:
            self.build(check_finite_array("x", x, ndim=2).shape[1])
        x = self._check_x(x)
        x, y, validation = self._training_and_validation(x, self._check_y(y, x.shape[0]),
                                                         validation_split, validation_data)
        self._check_full_batch(batch_size, x.shape[0])
        callback_list = self._callback_list(callbacks, verbose, epochs, -(-x.shape[0] // batch_size))
        self.stop_training = False
        callback_list.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            callback_list.on_epoch_begin(epoch, {})
            logs = self._fit_epoch(x, y, batch_size, shuffle, callback_list)
            if validation is not None:
                logs.update({f"val_{k}": v for k, v in self._evaluate(*validation, batch_size).items()})
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

    def _training_and_validation(self, x, y, validation_split, validation_data):
        """``(x_train, y_train, (x_val, y_val) or None)`` from the two ways of asking for it."""
        if validation_split and validation_data is not None:
            raise ValueError("Pass either `validation_split` or `validation_data`, not both.")
        if validation_data is None:
            x, y, x_val, y_val = split_validation(x, y, validation_split)
            return x, y, None if x_val is None else (x_val, y_val)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(
                "`validation_data` must be a tuple (x_val, y_val). Received: validation_data of type "
                f"{type(validation_data).__name__}"
                + (f" with {len(validation_data)} entries" if isinstance(validation_data, (tuple, list)) else "")
            )
        x_val = self._check_x(validation_data[0], "validation_data[0]")
        return x, y, (x_val, self._check_y(validation_data[1], x_val.shape[0], "validation_data[1]"))

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

    def _fit_epoch(self, x, y, batch_size: int, shuffle: bool, callback_list: CallbackList) -> dict:
        """One pass over the (shuffled) batches; returns the epoch's running logs."""
        order = self._shuffle_rng.permutation(x.shape[0]) if shuffle else None
        loss_sum, seen = 0.0, 0
        metric_sums = [0.0] * len(self.metrics)
        batch_logs = callback_list.wants_batch_logs
        for step, (xb, yb) in enumerate(shuffled_batches(x, y, batch_size, order)):
            callback_list.on_train_batch_begin(step, {})
            loss, y_pred = self._train_batch(xb, yb)
            loss_sum += xb.shape[0] * loss
            seen += xb.shape[0]
            for i, metric in enumerate(self.metrics):
                metric_sums[i] += float(self._metric_values(metric, yb, y_pred, True).sum())
            if batch_logs:
                callback_list.on_train_batch_end(step, self._running_logs(loss_sum, metric_sums, seen))
            if self.stop_training:
                break
        self._epoch_gradient_norm = self._gradient_norm()
        return self._running_logs(loss_sum, metric_sums, seen)

    def _gradient_norm(self) -> float | None:
        """``‖∇E‖₂`` of the last training batch, read from the packed gradient buffer (which the
        optimizers never write into); ``None`` for a whole-model optimizer, which keeps its own."""
        if isinstance(self.optimizer, ModelOptimizer):
            return None
        flat = self._grads.flat.astype(np.float64, copy=False)
        return float(np.sqrt(flat @ flat))

    def _running_logs(self, loss_sum: float, metric_sums: list, seen: int) -> dict[str, float]:
        """Keras's epoch logs: size-weighted means of the batch losses and metrics so far."""
        logs = {"loss": loss_sum / seen}
        logs.update({m.name: total / seen for m, total in zip(self.metrics, metric_sums)})
        return logs

    def _metric_values(self, metric, y, y_pred, training: bool) -> np.ndarray:
        """Per-sample metric values; a crossentropy metric takes the output layer's logits when
        ``y_pred`` is that layer's activation of them, as Keras's backend does (else, e.g. after
        Levenberg–Marquardt's trial steps overwrote the layers' caches, the probabilities)."""
        activation = metric.fused_activation
        if activation is not None:
            i = self._logits_layer(activation, training)
            if i is not None and getattr(self.layers[i], "_y", None) is y_pred:
                return metric(y, self.layers[i].logits, from_logits=True)
        return metric(y, y_pred)

    def _warn_if_diverged(self) -> None:
        if not np.all(np.isfinite(self.params.flat)):
            warnings.warn(
                "Training ended with non-finite weights (NaN or inf): the loss diverged. Lower the "
                "learning rate or scale the inputs; TerminateOnNaN stops such a run early.",
                RuntimeWarning, stacklevel=3,
            )

    # ---- evaluate / predict ---------------------------------------------------------------------
    def _evaluate(self, x, y, batch_size) -> dict[str, float]:
        loss_sum, metric_sums = 0.0, [0.0] * len(self.metrics)
        penalty = self.regularization_loss()
        for rows in batches(x.shape[0], batch_size):
            xb, yb = x[rows], y[rows]
            y_pred = self._forward(xb, training=False)
            out, from_logits, _ = self._loss_input(y_pred, training=False)
            value = self.loss.value_and_gradient(yb, out, from_logits=from_logits)[0]
            loss_sum += xb.shape[0] * (value + penalty)
            for i, metric in enumerate(self.metrics):
                metric_sums[i] += float(np.sum(self._metric_values(metric, yb, y_pred, False)))
        n = x.shape[0]
        result = {"loss": loss_sum / n}
        result.update({m.name: s / n for m, s in zip(self.metrics, metric_sums)})
        return result

    def evaluate(self, x, y, batch_size: int | None = 32, verbose: int = 0) -> dict[str, float]:
        """Loss (regularisation included) and metrics in inference mode, size-weighted over
        batches as Keras reports them."""
        self._require_compiled("evaluate")
        batch_size = 32 if batch_size is None else check_positive_int("batch_size", batch_size)
        x = self._check_x(x)
        result = self._evaluate(x, self._check_y(y, x.shape[0]), batch_size)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in result.items()))
        return result

    def predict(self, x, batch_size: int | None = None) -> np.ndarray:
        """Outputs in inference mode (dropout off), in batches of ``batch_size`` rows (all at once
        if ``None``)."""
        x = self._check_x(x)
        if batch_size is None:
            return self._forward(x, training=False)
        batch_size = check_positive_int("batch_size", batch_size)
        return np.concatenate([self._forward(x[rows], False) for rows in batches(x.shape[0], batch_size)])

    def _require_compiled(self, what: str, steps: bool = False) -> None:
        """Compiled; and, if ``what`` takes optimizer ``steps``, still the optimizer's model."""
        if self.loss is None or self.optimizer is None:
            raise ValueError(f"You must call `compile(optimizer, loss)` before `{what}`.")
        if steps and self.optimizer._model is not self:
            raise ValueError(
                f"This model's optimizer was compiled into the model {self.optimizer._model.name!r} since: an "
                f"optimizer serves one model. Compile this one again with an optimizer of its own before `{what}`."
            )

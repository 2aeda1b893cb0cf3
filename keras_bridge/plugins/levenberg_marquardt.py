"""Levenberg–Marquardt for Keras: a ``keras.Sequential`` whose ``train_step`` is one LM epoch."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from keras_bridge.plugins.full_batch import full_batch_fit
from keras_bridge.plugins.replicas import replica_context, sum_over_replicas
from refnn import optimizers as refnn_optimizers

__all__ = ["LevenbergMarquardtModel"]

_MU_FLOOR = 1e-20  # as refnn (MATLAB trainlm): mu = max(mu * mu_dec, 1e-20)


@keras.saving.register_keras_serializable(package="keras_bridge")
class LevenbergMarquardtModel(keras.Sequential):
    """A Sequential model trained by Levenberg–Marquardt: ``fit`` takes one LM epoch per batch.

    Exactly the rule of refnn's ``optimizers.LevenbergMarquardt`` (Hagan & Menhaj, MATLAB
    ``trainlm``), with the same arguments and conventions: raw residuals ``e = ŷ − y`` of all
    samples and outputs, ``J = ∂e/∂w`` (``tape.jacobian``, one row per residual), objective
    ``V = Σe² (+ Σ(λ/c)w²`` for L2 penalties, ``c`` the loss's scale), and per epoch::

        Δw = −(JᵀJ + μI)⁻¹ Jᵀe         (Cholesky, float64)

    accepted if ``V`` drops (``μ ← max(μ·mu_decrease, 1e-20)``), else the weights are restored,
    ``μ ← μ·mu_increase`` and the step is re-solved, until ``μ > mu_max``. A failed Cholesky
    counts as a rejection. Training stops (``stop_training``; ``stop_reason`` records why) when
    ``‖Jᵀe (+ (λ/c)w)‖ < min_grad`` or ``μ`` exceeds ``mu_max``. The model runs in inference
    mode (dropout off) and ``history["loss"]`` is the compiled loss *before* each epoch's step, as
    in refnn and in Keras's own ``train_step`` (loss before the update).

    ``compile`` needs a sum-of-squares loss (``"mse"`` or ``keras_bridge.plugins.SumSquaredError``)
    and forces ``run_eagerly=True``: the number of retries depends on the data and a failed
    factorisation must count as a rejection, which is plain Python control flow. The compiled
    optimizer is ignored. Train full batch (``batch_size ≥`` the number of rows).

    Args:
        layers: as ``keras.Sequential``.
        mu, mu_decrease, mu_increase, mu_max, min_grad: as refnn's ``LevenbergMarquardt``.
        name: the model's name.
    """

    def __init__(self, layers=None, mu: float = 1e-3, mu_decrease: float = 0.1, mu_increase: float = 10.0,
                 mu_max: float = 1e10, min_grad: float = 1e-7, name=None, **kwargs):
        super().__init__(layers=layers, name=name, **kwargs)
        # the argument rules are refnn's: one definition, the same messages
        refnn_optimizers.LevenbergMarquardt(mu=mu, mu_decrease=mu_decrease, mu_increase=mu_increase,
                                            mu_max=mu_max, min_grad=min_grad)
        self.initial_mu = self.mu = float(mu)
        self.mu_decrease = float(mu_decrease)
        self.mu_increase = float(mu_increase)
        self.mu_max = float(mu_max)
        self.min_grad = float(min_grad)
        self.stop_reason = None
        self.gradient_norm = None
        self.rejections = 0
        self.lm_iterations = 0

    @classmethod
    def from_model(cls, model, **options) -> "LevenbergMarquardtModel":
        """A Levenberg–Marquardt model made of ``model``'s layers (a built ``keras.Sequential``).

        The layers are shared, as Keras shares layers between models: training one trains the
        other. ``options``: ``mu``, ``mu_decrease``, ``mu_increase``, ``mu_max``, ``min_grad``,
        ``name``. Compile it with a sum-of-squares loss before ``fit``.
        """
        if not isinstance(model, keras.Sequential):
            raise ValueError("LevenbergMarquardtModel.from_model takes a keras.Sequential. Received: "
                             f"{type(model).__module__}.{type(model).__name__}")
        if not model.built or not model.inputs:
            raise ValueError(f"LevenbergMarquardtModel.from_model: the model {model.name!r} is not built; start it "
                             "with keras.Input(shape=(d,)) or call build((None, d)) first.")
        spec = model.inputs[0]
        options.setdefault("name", f"{model.name}_lm")
        return cls([keras.Input(shape=tuple(spec.shape[1:]), dtype=spec.dtype), *model.layers], **options)

    def fit(self, *args, **kwargs):
        """Keras's ``fit``, full batch only: one LM epoch is one step on all the training rows, so
        a ``batch_size`` below their number (Keras's default is 32) is refused."""
        return full_batch_fit(super().fit, "Levenberg–Marquardt")(*args, **kwargs)

    # ---- compile ------------------------------------------------------------------------------
    def compile(self, optimizer="sgd", loss=None, **kwargs):
        run_eagerly = kwargs.pop("run_eagerly", True)
        if run_eagerly is not True:
            raise ValueError("LevenbergMarquardtModel runs its train_step eagerly (its retries are Python control "
                             f"flow), not as a graph: leave run_eagerly out. Received: run_eagerly={run_eagerly!r}")
        self._loss_object = self._check_loss(loss)
        if optimizer not in (None, "sgd") and not (type(optimizer) is keras.optimizers.SGD and not isinstance(
                optimizer.get_config()["learning_rate"], dict)):
            raise ValueError(
                "LevenbergMarquardtModel takes its own steps (μ, not a learning rate): an optimizer or a "
                "learning-rate schedule has no meaning here. Leave `optimizer` out. "
                f"Received: optimizer={optimizer!r}")
        super().compile(optimizer=optimizer, loss=loss, run_eagerly=True, **kwargs)

    def compile_from_config(self, config):
        # Keras skips models whose compile() is overridden; this one can rebuild itself
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @staticmethod
    def _check_loss(loss):
        from keras_bridge.plugins.losses import SumSquaredError

        obj = keras.losses.get(loss) if isinstance(loss, str) else loss
        fn = getattr(obj, "fn", obj)
        if not (isinstance(obj, (keras.losses.MeanSquaredError, SumSquaredError))
                or fn is keras.losses.mean_squared_error):
            raise ValueError(
                "Levenberg–Marquardt needs a sum-of-squares loss: loss='mse' or "
                f"keras_bridge.plugins.SumSquaredError(). Received: loss={loss!r}")
        reduction = getattr(obj, "reduction", "sum_over_batch_size")
        if reduction in (None, "none"):
            raise ValueError(f"Levenberg–Marquardt needs a loss reduced to a scalar. Received: reduction={reduction!r}")
        return obj

    # ---- pieces -------------------------------------------------------------------------------
    def _flat_weights(self) -> np.ndarray:
        return np.concatenate([np.ravel(v.numpy()) for v in self.trainable_variables]).astype(np.float64)

    def _assign_flat(self, w: np.ndarray) -> None:
        """Set every weight from the flat vector ``w`` — on every replica at once under
        ``tf.distribute`` (one cross-replica assignment; the replicas computed the same ``w``)."""
        def write(*_):
            start = 0
            for v in self.trainable_variables:
                size = int(np.prod(v.shape))
                v.assign(np.reshape(w[start:start + size], v.shape).astype(v.dtype))
                start += size

        context = replica_context()
        if context is None:
            write()
        else:
            context.merge_call(write)

    def _penalty_weights(self, n_residuals: int, k: int) -> np.ndarray:
        """``λ/c`` per weight (0 where unregularised); ``λ`` as Keras computes it (float32-rounded)."""
        per_variable = []
        penalised = False
        for layer in self.layers:
            for v in layer.trainable_weights:
                reg = getattr(layer, f"{v.name}_regularizer", None)
                lam = 0.0
                if reg is not None:
                    config = reg.get_config()
                    if config.get("l1", 0.0):
                        raise ValueError(
                            f"Levenberg–Marquardt supports L2 penalties only. Received: {type(reg).__name__} "
                            f"with l1={config['l1']!r} on {layer.name}/{v.name}")
                    lam = float(np.float32(config.get("l2", 0.0)))  # Keras: ops.cast(l2) goes through float32
                    penalised = penalised or lam != 0.0
                per_variable.append(np.full(int(np.prod(v.shape)), lam))
        reg = np.concatenate(per_variable) if per_variable else np.zeros(0)
        if not penalised:
            return np.zeros_like(reg)
        n = n_residuals // k
        c = float(self._loss_object(np.zeros((n, k)), np.ones((n, k)))) / n_residuals
        return reg / c

    def _residuals(self, x, y):
        y_pred = self(x, training=False)
        target = tf.reshape(tf.cast(y, y_pred.dtype), tf.shape(y_pred))
        return tf.reshape(y_pred - target, [-1]), y_pred

    @tf.function(reduce_retracing=True)
    def _jacobian(self, x, y):
        """``(∂e/∂v for each variable, e, ŷ)``, traced once (``tape.jacobian`` vectorises over the
        residuals with ``pfor``; called eagerly it would re-trace at every epoch)."""
        with tf.GradientTape() as tape:
            e, y_pred = self._residuals(x, y)
        return tape.jacobian(e, self.trainable_variables), e, y_pred

    # ---- one epoch ----------------------------------------------------------------------------
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if sample_weight is not None:
            raise ValueError("Levenberg–Marquardt does not support sample weights.")
        # read before the first exchange between replicas, written once after the last (_commit)
        mu = self.initial_mu if self.stop_reason == "mu_max" else self.mu  # after giving up: start again
        jac, e, y_pred = self._jacobian(x, y)
        n_res = int(e.shape[0])
        J = tf.concat([tf.reshape(j, (n_res, -1)) for j in jac], axis=1).numpy().astype(np.float64)
        e64 = e.numpy().astype(np.float64)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
        reg = self._penalty_weights(n_res, int(y_pred.shape[-1]))
        w = self._flat_weights()
        # the data terms summed over replicas (each holds a shard of the batch); the penalty once
        jtj, jte, ete = sum_over_replicas(J.T @ J, J.T @ e64, np.asarray(e64 @ e64))
        objective = float(ete + reg @ (w * w))
        gradient = tf.constant(jte + reg * w)[:, None]
        hessian = tf.constant(jtj + np.diag(reg))
        outcome = {"mu": mu, "accepted": 0, "rejections": 0, "stop_reason": None,
                   "gradient_norm": float(tf.norm(gradient))}
        if outcome["gradient_norm"] < self.min_grad:
            outcome["stop_reason"] = "min_grad"
        else:
            self._damped_steps(x, y, w, objective, gradient, hessian, reg, outcome)
        self._commit(outcome)
        # under tf.distribute Keras's loss is divided by the number of replicas (their gradients are
        # summed); the reported loss is not: undo it, as Keras's own train_step does
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        self._loss_tracker.update_state(loss * replicas if replicas > 1 else loss, sample_weight=tf.shape(x)[0])
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _damped_steps(self, x, y, w, objective, gradient, hessian, reg, outcome: dict) -> None:
        """Try ``Δw = −(JᵀJ + μI)⁻¹Jᵀe`` with growing μ until the objective drops (``outcome``
        records μ, the acceptance and the rejections; every replica takes the same decisions)."""
        identity = tf.eye(int(hessian.shape[0]), dtype=tf.float64)
        while outcome["mu"] <= self.mu_max:
            try:
                lower = tf.linalg.cholesky(hessian + outcome["mu"] * identity)
                step = -tf.linalg.cholesky_solve(lower, gradient)[:, 0].numpy()
            except tf.errors.InvalidArgumentError:
                step = None  # not numerically positive definite: a rejection, as refnn
            if step is not None and np.all(np.isfinite(step)):
                self._assign_flat(w + step)
                e_new, _ = self._residuals(x, y)
                e_new = e_new.numpy().astype(np.float64)
                (sse,) = sum_over_replicas(np.asarray(e_new @ e_new))
                w_new = self._flat_weights()
                if float(sse + reg @ (w_new * w_new)) < objective:  # NaN: rejected
                    outcome["mu"] = max(outcome["mu"] * self.mu_decrease, _MU_FLOOR)
                    outcome["accepted"] = 1
                    return
                self._assign_flat(w)
            outcome["rejections"] += 1
            outcome["mu"] *= self.mu_increase
        outcome["stop_reason"] = "mu_max"

    def _commit(self, outcome: dict) -> None:
        """Write the epoch's μ, step count and stop reason — once, whatever the number of replicas
        (each computed the same ``outcome``)."""
        def write(*_):
            self.mu, self.rejections = outcome["mu"], outcome["rejections"]
            self.gradient_norm, self.stop_reason = outcome["gradient_norm"], outcome["stop_reason"]
            self.lm_iterations += outcome["accepted"]
            if outcome["stop_reason"] is not None:
                self.stop_training = True

        context = replica_context()
        if context is None:
            write()
        else:
            context.merge_call(write)

    # ---- configuration ------------------------------------------------------------------------
    _STATE = ("current_mu", "lm_iterations", "stop_reason")

    def get_config(self):
        """The options (``mu`` is the initial μ) and the training state a reloaded model resumes
        from: the current μ, the number of accepted steps and why training last stopped."""
        config = super().get_config()
        config.update({"mu": self.initial_mu, "mu_decrease": self.mu_decrease, "mu_increase": self.mu_increase,
                       "mu_max": self.mu_max, "min_grad": self.min_grad, "current_mu": self.mu,
                       "lm_iterations": self.lm_iterations, "stop_reason": self.stop_reason})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        options = {key: config.pop(key) for key in ("mu", "mu_decrease", "mu_increase", "mu_max", "min_grad")
                   if key in config}
        state = {key: config.pop(key) for key in cls._STATE if key in config}
        model = super().from_config(config, custom_objects=custom_objects)  # builds cls(name=...)
        for key, value in options.items():
            setattr(model, key, float(value))
        model.initial_mu = model.mu
        model.mu = float(state.get("current_mu", model.mu))
        model.lm_iterations = int(state.get("lm_iterations", 0))
        model.stop_reason = state.get("stop_reason")
        return model

"""The optimizer pipeline shared by every optimizer.

``apply(params, grads, loss=None)`` runs, in Keras's order (``BaseOptimizer.apply``):

1. gradient clipping — at most one of
   ``clipnorm`` (per tensor: ``g ← g·c / max(‖g‖₂, c)``),
   ``global_clipnorm`` (all tensors: ``g ← g·c·min(1/‖G‖₂, 1/c)``),
   ``clipvalue`` (``g ← clip(g, −c, c)``);
2. decoupled weight decay, if ``weight_decay`` is set: ``W ← W − W·wd·lr`` for every parameter,
   *before* the step (this is not an L2 penalty: adaptive methods do not rescale it);
3. the algorithm's rule, ``update_step`` per parameter, with the current learning rate
   ``lr = schedule(iterations)`` (the first update uses ``schedule(0)``);
4. ``iterations += 1``.

State is keyed by the parameter's path (``"dense_0/kernel"``), so one optimizer serves any number
of layers without mixing their state. Parameters are updated in place.
"""

from __future__ import annotations

import numpy as np

from refnn.optimizers import schedules
from refnn.utils.validation import check_float, check_no_unknown_kwargs

__all__ = ["Optimizer"]


class Optimizer:
    """Base class. An algorithm implements ``build_state`` (optional), ``update_step`` and
    ``get_config``.

    Args:
        learning_rate: a positive float or a ``schedules.LearningRateSchedule``.
        weight_decay: decoupled weight decay factor ``wd`` (``W ← W − W·wd·lr``), or ``None``.
        clipnorm, clipvalue, global_clipnorm: gradient clipping (at most one).
        name: a name for ``repr`` and configs.
    """

    name = "optimizer"
    #: Rprop, Quickprop and Levenberg–Marquardt need the gradient of the whole training set
    requires_full_batch = False

    def __init__(
        self,
        learning_rate=0.01,
        *,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs,
    ):
        check_no_unknown_kwargs(type(self).__name__, kwargs)
        if isinstance(learning_rate, schedules.LearningRateSchedule) or (
            callable(learning_rate) and not isinstance(learning_rate, (int, float))
        ):
            self.learning_rate = learning_rate
        else:
            self.learning_rate = check_float("learning_rate", learning_rate, low=0.0, low_inclusive=False)
        self.weight_decay = (
            None if weight_decay is None else check_float("weight_decay", weight_decay, low=0.0)
        )
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = {k: v for k, v in clips.items() if v is not None}
        if len(given) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: {', '.join(f'{k}={v!r}' for k, v in given.items())}"
            )
        for key, value in given.items():
            check_float(key, value, low=0.0, low_inclusive=False)
        self.clipnorm = None if clipnorm is None else float(clipnorm)
        self.clipvalue = None if clipvalue is None else float(clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else float(global_clipnorm)
        if name is not None:
            self.name = name
        self.iterations = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}

    # ---- the pipeline ---------------------------------------------------------------------------
    def apply(self, params: dict, grads: dict, loss: float | None = None) -> None:
        """Update ``params`` in place from ``grads`` (both ``{path: ndarray}``).

        Args:
            params: the parameters, updated in place.
            grads: their gradients; a path missing here is left untouched (Keras drops ``None``
                gradients).
            loss: the loss at ``params`` before the update; used by iRprop+ only.
        """
        unknown = [path for path in grads if path not in params]
        if unknown:
            raise ValueError(
                f"`grads` has paths that are not in `params`: {unknown}. "
                f"Received params paths: {list(params)}"
            )
        for path, grad in grads.items():
            if np.shape(grad) != np.shape(params[path]):
                raise ValueError(
                    f"Gradient shape does not match its parameter at {path!r}. Received: "
                    f"grad.shape={np.shape(grad)}, param.shape={np.shape(params[path])}"
                )
            if path not in self.state:
                self.state[path] = self.build_state(path, params[path])
        grads = self._clip(grads)
        lr = self.current_learning_rate()
        if self.weight_decay:
            for path in grads:
                p = params[path]
                p -= p * p.dtype.type(self.weight_decay) * p.dtype.type(lr)
        self._update(params, grads, lr, loss)
        self.iterations += 1

    def _update(self, params: dict, grads: dict, lr: float, loss: float | None) -> None:
        """Apply the rule to each parameter. Full-batch methods that use the loss override this."""
        for path, grad in grads.items():
            self.update_step(path, params[path], grad, lr)

    def build_state(self, path: str, param: np.ndarray) -> dict[str, np.ndarray]:
        """Create this parameter's state (slots); called once per path, on first sight."""
        return {}

    def update_step(self, path: str, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        """Update ``param`` in place. ``self.state[path]`` holds its slots."""
        raise NotImplementedError

    def current_learning_rate(self) -> float:
        """The learning rate of the next update: ``schedule(iterations)`` or the constant."""
        if callable(self.learning_rate):
            return float(self.learning_rate(self.iterations))
        return self.learning_rate

    # ---- clipping -------------------------------------------------------------------------------
    def _clip(self, grads: dict) -> dict:
        if self.clipnorm is not None:
            c = self.clipnorm
            return {k: g * g.dtype.type(c) / np.maximum(np.sqrt(np.sum(g * g)), g.dtype.type(c))
                    for k, g in grads.items()}
        if self.global_clipnorm is not None:
            c = self.global_clipnorm
            norm = np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values()))
            scale = c * min(1.0 / norm if norm else np.inf, 1.0 / c)
            return {k: g * g.dtype.type(scale) for k, g in grads.items()}
        if self.clipvalue is not None:
            c = self.clipvalue
            return {k: np.clip(g, -c, c) for k, g in grads.items()}
        return grads

    # ---- configuration --------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self.learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        base = Optimizer.get_config(self)
        args = ", ".join(
            f"{k}={v!r}" for k, v in self.get_config().items()
            if k != "name" and (k not in base or k == "learning_rate" or v is not None)
        )
        return f"{type(self).__name__}({args})"

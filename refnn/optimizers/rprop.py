"""Rprop (Riedmiller & Braun 1993) and its variants (Igel & Hüsken 2000): sign-based, full batch."""

from __future__ import annotations

import numpy as np

from refnn.optimizers import schedules
from refnn.optimizers.base import Optimizer
from refnn.utils.validation import check_choice, check_float

__all__ = ["Rprop"]

_VARIANTS = ("rprop+", "rprop-", "irprop+", "irprop-")


class Rprop(Optimizer):
    """Resilient backpropagation: each weight has its own step size ``Δ``, adapted from the *sign*
    of ``g_{t−1}·g_t`` (the magnitude of the gradient is never used):

    ``Δ ← min(Δ·η⁺, Δmax)`` if ``g_{t−1}·g_t > 0``; ``Δ ← max(Δ·η⁻, Δmin)`` if ``< 0``; else kept.
    The weight then moves ``W ← W − sign(g_t)·Δ`` (``sign(0) = 0``: no move). ``g₀ = 0``, so the
    first step is ``−sign(g₁)·Δ₀``. On a sign change (``g_{t−1}·g_t < 0``) the variants differ:

    * ``"rprop+"`` (Riedmiller & Braun 1993, weight-backtracking): the previous step is undone —
      the weight returns exactly to its value before that step — and ``g_t`` is stored as 0.
    * ``"rprop-"``: no backtracking; the weight moves with the new sign, ``g_t`` is stored.
    * ``"irprop-"`` (PyTorch's ``Rprop``): ``g_t`` is set to 0, so the weight does not move.
    * ``"irprop+"``: like ``rprop+``, but the step is undone only if the loss went up
      (``E_t > E_{t−1}``, the losses passed to ``apply``); ``g_t`` is stored as 0 either way.

    A stored 0 means the next iteration neither adapts ``Δ`` nor backtracks (the product is 0).

    Full batch only (``requires_full_batch``): with mini-batches the sign flips are sampling noise
    and ``Δ`` collapses or explodes, so ``Sequential.fit`` refuses a ``batch_size`` below the number
    of training rows. Scaling the loss (sum vs mean) does not change Rprop.

    The backtracking variants remember the previous weights (``state[path]["prev_param"]``). If
    you replace the weights between steps (``set_weights``, ``load_weights``), start a new
    optimizer too: a later backtrack would otherwise restore the weights from before the load.

    Defaults are Riedmiller's (Δ₀ = 0.1, η⁺ = 1.2, η⁻ = 0.5, Δmin = 1e-6, Δmax = 50); PyTorch uses
    Δ₀ = 0.01, Igel & Hüsken Δmin = 0. Keras has no Rprop (the bridge provides a plugin), so
    ``keras_float32_constants`` changes nothing here.

    Args:
        variant: ``"rprop+"`` (default), ``"rprop-"``, ``"irprop+"`` or ``"irprop-"``.
        learning_rate: the initial step size ``Δ₀``, a float in ``[min_step, max_step]``
            (no schedules: Rprop has no learning rate after the first step).
        eta_plus: growth factor ``η⁺ > 1``.
        eta_minus: shrink factor ``0 < η⁻ < 1``.
        min_step: ``Δmin ≥ 0``.
        max_step: ``Δmax > 0``.
        **kwargs: the base options (``weight_decay``, clipping, ``name``).

    Raises:
        ValueError: from ``apply`` if ``variant="irprop+"`` and no ``loss`` is given.
    """

    name = "Rprop"
    carried_attributes = ("previous_loss",)
    requires_full_batch = True

    def __init__(
        self,
        variant: str = "rprop+",
        learning_rate: float = 0.1,
        eta_plus: float = 1.2,
        eta_minus: float = 0.5,
        min_step: float = 1e-6,
        max_step: float = 50.0,
        **kwargs,
    ):
        if isinstance(learning_rate, schedules.LearningRateSchedule) or callable(learning_rate):
            raise TypeError(
                "Rprop's `learning_rate` is the initial step size Δ₀, a float; it cannot be a "
                f"schedule. Received: learning_rate={learning_rate!r}")
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.variant = check_choice("variant", variant, _VARIANTS)
        self.eta_plus = check_float("eta_plus", eta_plus, low=1.0, low_inclusive=False)
        self.eta_minus = check_float("eta_minus", eta_minus, low=0.0, high=1.0,
                                     low_inclusive=False, high_inclusive=False)
        self.min_step = check_float("min_step", min_step, low=0.0)
        self.max_step = check_float("max_step", max_step, low=0.0, low_inclusive=False)
        if self.min_step > self.max_step:
            raise ValueError(
                "`min_step` must not exceed `max_step`. "
                f"Received: min_step={min_step!r}, max_step={max_step!r}")
        if not self.min_step <= self.learning_rate <= self.max_step:
            raise ValueError(
                "`learning_rate` (the initial step size) must lie in [min_step, max_step] = "
                f"[{self.min_step!r}, {self.max_step!r}]. Received: learning_rate={learning_rate!r}")
        #: the loss passed to the previous ``apply`` (iRprop+ compares against it)
        self.previous_loss: float | None = None

    def build_state(self, path, param):
        state = {"step_size": np.full_like(param, self.learning_rate), "prev_grad": np.zeros_like(param)}
        if self.variant in ("rprop+", "irprop+"):
            state["prev_param"] = param.copy()
        return state

    def apply(self, params: dict, grads: dict, loss: float | None = None) -> None:
        # checked before the pipeline touches any weight (clipping and decay come first)
        if self.variant == "irprop+" and loss is None and grads:
            raise ValueError(
                "iRprop+ compares the loss with the previous one: pass the full-batch loss at "
                "the current weights, `apply(params, grads, loss=...)`. Received: loss=None")
        super().apply(params, grads, loss)

    def _update(self, params, grads, lr, loss):
        backtrack = self.variant == "rprop+"
        if self.variant == "irprop+":
            loss = float(loss)
            backtrack = self.previous_loss is not None and loss > self.previous_loss
            self.previous_loss = loss
        for path, grad in grads.items():
            self._rprop_step(path, params[path], grad, backtrack)

    def update_step(self, path, param, grad, lr):
        # one parameter on its own: iRprop+ needs the loss, which only ``apply`` receives
        if self.variant == "irprop+":
            raise ValueError("iRprop+ needs the loss: call `apply(params, grads, loss=...)`.")
        self._rprop_step(path, param, grad, self.variant == "rprop+")

    def _rprop_step(self, path, param, grad, backtrack: bool) -> None:
        dt = param.dtype.type
        state = self._slots(path)
        step_size, prev_grad = state["step_size"], state["prev_grad"]
        work = self._scratch(path, param, "work")  # g_{t−1}·g_t, then the move
        product = np.multiply(prev_grad, grad, out=work)
        grew, flipped = product > 0, product < 0

        # Δ ← min(Δ·η⁺, Δmax) where g_{t−1}·g_t > 0;  Δ ← max(Δ·η⁻, Δmin) where < 0
        np.multiply(step_size, dt(self.eta_plus), out=step_size, where=grew)
        np.minimum(step_size, dt(self.max_step), out=step_size, where=grew)
        np.multiply(step_size, dt(self.eta_minus), out=step_size, where=flipped)
        np.maximum(step_size, dt(self.min_step), out=step_size, where=flipped)
        # store g_t; "freezing" (all but Rprop−): 0 after a sign change
        np.copyto(prev_grad, grad)
        if self.variant != "rprop-":
            np.copyto(prev_grad, dt(0.0), where=flipped)
        # backtracking (rprop+, irprop+ when the loss rose): W ← W_{t−1} where the sign flipped
        if "prev_param" in state:
            prev_param = state["prev_param"]
            if backtrack:
                np.copyto(param, prev_param, where=flipped)
            np.copyto(prev_param, param)
        # W ← W − sign(g)·Δ, a frozen gradient (0) does not move
        move = np.sign(prev_grad, out=work)
        move *= step_size
        param -= move

    def get_config(self):
        return {**super().get_config(), "variant": self.variant, "eta_plus": self.eta_plus,
                "eta_minus": self.eta_minus, "min_step": self.min_step, "max_step": self.max_step}

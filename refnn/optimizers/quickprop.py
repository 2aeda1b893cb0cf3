"""Quickprop (Fahlman 1988): a per-weight secant (parabola-jump) step, full batch."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import Optimizer
from refnn.utils.validation import check_float

__all__ = ["Quickprop"]


class Quickprop(Optimizer):
    """Fahlman's Quickprop, as in his own program (quickprop1.c, ``UPDATE_WEIGHTS``).

    Each weight fits a parabola through its last two slopes ``s_{t−1}, s_t`` (``s = ∂E/∂w``) and
    jumps to its minimum: ``Δw_t = s_t/(s_{t−1} − s_t)·Δw_{t−1}``. Per weight, with
    ``μ = max_growth``, ``ε = learning_rate`` and ``d = Δw_{t−1}``:

    * ``d = 0`` (the first step, or after a zero step): plain gradient descent ``Δw = −ε·s``.
    * ``d > 0``: ``Δw = [−ε·s if s < 0] + (μ·d if s < μ/(1+μ)·s_{t−1} else s/(s_{t−1} − s)·d)``;
      ``d < 0``: the mirror image (``s > 0`` for the ε term, ``s > μ/(1+μ)·s_{t−1}`` to grow).

    That is: while the slope keeps its sign (``s`` still points along the last step) the gradient
    term ``−ε·s`` is added; if the slope did not shrink enough (the parabola is flat, concave or its
    minimum is further than ``μ·d``) the step grows by the factor ``μ`` at most; otherwise the
    secant step is taken — backwards, with no gradient term, when the slope changed sign.
    ``W ← W + Δw``. Every step keeps ``sign(Δw) = −sign(s)`` (by induction from the first step), so
    ``s = s_{t−1}`` always lands in the growth branch and the secant never divides by zero.

    Fahlman's extras, off by default:

    * ``decay`` (Fahlman: 1e-4) adds ``decay·w`` to each slope, ``s = ∂E/∂w + decay·w``, i.e.
      minimises ``E + ½·decay·Σw²`` — the decay takes part in the secant (unlike the base class's
      decoupled ``weight_decay``).
    * The sigmoid-prime offset (0.1 added to σ'(net) "to kill flat spots") is not an optimizer
      option: it changes the backward pass of the activation, not the update rule, so it cannot
      be expressed on the gradient this optimizer receives. Fahlman's hyperbolic-arctan error and
      split ε are likewise changes of the loss/network, not of the rule.
    * Fahlman's momentum term ``momentum·d`` only enters the ``d = 0`` branch (threshold 0),
      where it is 0, so it is omitted.

    Full batch only (``requires_full_batch``). Fahlman's ε (1.0, or 0.55 in the public C copy)
    assumes the *summed* error; refnn's losses are means over the batch, so the equivalent ε is
    ``N`` times larger. The default ε = 0.01 is SGD's; tune it. Keras has no Quickprop (the bridge
    provides a plugin), so ``keras_float32_constants`` changes nothing here.

    Args:
        learning_rate: ``ε > 0``, a float or a schedule.
        max_growth: ``μ > 0`` (Fahlman's "max factor", 1.75).
        decay: ``≥ 0``, the slope's weight-decay term (Fahlman 1e-4; default 0, off).
        **kwargs: the base options (``weight_decay``, clipping, ``name``).
    """

    name = "Quickprop"
    requires_full_batch = True

    def __init__(self, learning_rate=0.01, max_growth: float = 1.75, decay: float = 0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.max_growth = check_float("max_growth", max_growth, low=0.0, low_inclusive=False)
        self.decay = check_float("decay", decay, low=0.0)

    def build_state(self, path, param):
        return {"prev_slope": np.zeros_like(param), "prev_step": np.zeros_like(param)}

    def update_step(self, path, param, grad, lr):
        dt = param.dtype.type
        state = self._slots(path)
        d, prev_slope = state["prev_step"], state["prev_slope"]
        step = self._scratch(path, param, "step")
        work = self._scratch(path, param, "work")  # the growth threshold, then the jump
        if self.decay:
            # s = ∂E/∂w + decay·w
            slope = np.multiply(param, dt(self.decay), out=self._scratch(path, param, "slope"))
            slope += grad
        else:
            slope = grad

        up, down = d > 0, d < 0
        moved = up | down
        # grow where the slope did not shrink below μ/(1+μ)·s_prev (flat or concave parabola)
        threshold = np.multiply(prev_slope, dt(self.max_growth / (1.0 + self.max_growth)), out=work)
        grow = (up & (slope < threshold)) | (down & (slope > threshold))
        secant = moved & ~grow

        # step = −ε·s on a first step (d = 0) and while the slope points along the last step
        np.multiply(slope, -dt(lr), out=step)
        along = (up & (slope < 0)) | (down & (slope > 0)) | ~moved
        np.copyto(step, dt(0.0), where=~along)

        # jump = s/(s_prev − s)·d (secant) or μ·d (growth cap), nothing on a first step
        jump = np.subtract(prev_slope, slope, out=work)
        np.divide(slope, jump, out=jump, where=secant)
        jump *= d
        np.multiply(d, dt(self.max_growth), out=jump, where=grow)
        np.copyto(jump, dt(0.0), where=~moved)
        step += jump

        # W ← W + Δw; remember Δw and s
        param += step
        np.copyto(d, step)
        np.copyto(prev_slope, slope)

    def get_config(self):
        return {**super().get_config(), "max_growth": self.max_growth, "decay": self.decay}

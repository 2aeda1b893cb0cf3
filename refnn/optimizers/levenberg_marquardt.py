"""Levenberg–Marquardt: damped Gauss–Newton on a sum of squared residuals (Hagan & Menhaj 1994)."""

from __future__ import annotations

import numpy as np

from refnn.optimizers.base import ModelOptimizer
from refnn.regularizers import L1L2
from refnn.utils.packing import ParamPacker
from refnn.utils.validation import check_float, check_no_unknown_kwargs, check_positive_int

__all__ = ["LevenbergMarquardt", "largest_lm_model", "lm_step_memory_bytes"]

_MU_FLOOR = 1e-20  # MATLAB trainlm: mu = max(mu * mu_dec, 1e-20)
DEFAULT_MAX_MEMORY_BYTES = 2 * 1024**3
_SQUARE_MATRICES = 5  # JᵀJ, I, JᵀJ + μI, its Cholesky factor, LAPACK's working copy in the solve
_PARAM_VECTORS = 8  # w, Jᵀe, the penalty weights, the step, w + Δw, the saved weights, …


def lm_step_memory_bytes(n_rows: int, n_outputs: int, n_params: int, itemsize: int = 8) -> int:
    """Bytes one ``LevenbergMarquardt`` step allocates at its peak, with ``R = N·K`` residuals and
    ``P`` parameters, the model's floats being ``itemsize`` bytes::

        R·P·itemsize      J, built in the model's dtype
      + R·P·8             its float64 copy (J is cast even when already float64: ``astype`` copies)
      + 5·P²·8            JᵀJ, I, JᵀJ + μI, the Cholesky factor, the solver's working copy
      + 8·P·8 + 2·R·8     the vectors (w, Jᵀe, Δw, saved weights, …; e and its float64 copy)

    The forward pass's activations (``N`` × the layer widths, as for every optimizer) are not
    counted: beside ``J`` they are small. The LAPACK working copy is allocated by NumPy's linalg
    outside Python's allocator, so ``tracemalloc`` sees one ``P²`` block fewer than this.
    The time per step grows as ``R·P²`` (forming JᵀJ) plus ``P³/3`` (Cholesky) per try.
    """
    residuals = n_rows * n_outputs
    jacobian = residuals * n_params * (itemsize + 8)
    square = _SQUARE_MATRICES * 8 * n_params * n_params
    vectors = _PARAM_VECTORS * 8 * n_params + 2 * 8 * residuals
    return jacobian + square + vectors


def largest_lm_model(n_rows: int, n_outputs: int = 1, max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
                     itemsize: int = 8) -> int:
    """The largest parameter count ``P`` whose step fits in ``max_memory_bytes``: the positive root
    of ``40·P² + (R·(itemsize + 8) + 64)·P + 16·R = max_memory_bytes`` (``R = N·K``), rounded down.

    With the 2 GiB default, in float64: 7,306 parameters for ``R = 100`` residuals, 7,129 for
    ``R = 1,000``, 5,594 for ``R = 10,000`` and 1,298 for ``R = 100,000`` — the ``P²`` matrices
    bound small batches, the ``R·P`` Jacobian large ones (see ``lm_step_memory_bytes``).
    """
    residuals = n_rows * n_outputs
    a = _SQUARE_MATRICES * 8
    b = residuals * (itemsize + 8) + _PARAM_VECTORS * 8
    c = 2 * 8 * residuals - max_memory_bytes
    if c > 0:
        return 0
    params = int((-b + np.sqrt(b * b - 4.0 * a * c)) / (2 * a))
    while params > 0 and lm_step_memory_bytes(n_rows, n_outputs, params, itemsize) > max_memory_bytes:
        params -= 1
    while lm_step_memory_bytes(n_rows, n_outputs, params + 1, itemsize) <= max_memory_bytes:
        params += 1
    return params


def _gigabytes(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.2f} GB" if n_bytes >= 1e8 else f"{n_bytes / 1e6:.1f} MB"


class LevenbergMarquardt(ModelOptimizer):
    """Levenberg–Marquardt with identity damping, as Hagan & Menhaj and MATLAB's ``trainlm``.

    With the residuals ``e = ŷ − y`` of every sample and output (``N·K`` entries, one
    vector), ``J = ∂e/∂w`` (``N·K × P``) and the objective ``V(w) = Σ e²``, one step is::

        Δw = −(JᵀJ + μI)⁻¹ Jᵀe

    μ → 0 gives Gauss–Newton, μ → ∞ gradient descent on V with step ``1/(2μ)``. An epoch
    computes ``e``, ``V`` and ``J`` once, then tries ``w + Δw``: if ``V`` drops the step is
    **accepted** and ``μ ← max(μ·mu_decrease, 1e-20)``; otherwise it is **rejected** — the
    weights are left exactly as they were — ``μ ← μ·mu_increase`` and the step is re-solved at
    the same ``w``, until a step is accepted or ``μ > mu_max``. A linear system that Cholesky
    cannot factor (numerically not positive definite) counts as a rejection, as MATLAB treats a
    singular matrix.

    **Scaling convention.** ``e`` and ``J`` are the *raw* residuals and their Jacobian (H&M's
    ``SSE = Σe²``), whatever the compiled loss: the ``"mse"`` loss ``Σe²/(N·K)`` and the
    ``"sse"`` loss ``½Σe²`` give the same steps and the same μ trajectory, and μ has the scale of
    Hagan & Menhaj's formulation. (Normalising e like the MSE would divide JᵀJ by N·K, i.e.
    multiply the effective μ by N·K.) ``history["loss"]`` still reports the compiled loss, at the
    weights *before* each epoch's step. An L2 (or ``L1L2`` with ``l1=0``) penalty ``λ‖w‖²`` is
    itself a sum of squares: with ``loss = c·Σe²`` it enters as extra residuals ``√(λ/c)·w``, so
    ``V = Σe² + Σ(λ/c)w²`` and ``JᵀJ`` gains ``diag(λ/c)``. L1 is not a sum of squares and
    is refused.

    **Stopping.** Before solving, the gradient ``g = Jᵀe (+ (λ/c)w)`` — i.e. ∇(½V), the gradient
    of the ``sse`` loss — is compared with ``min_grad``: if ``‖g‖₂ < min_grad`` no step is taken.
    If every retry is rejected up to ``mu_max``, the weights stay unchanged. Either way
    ``stop_reason`` (``"min_grad"`` or ``"mu_max"``) is recorded and ``model.stop_training`` is
    set, so ``fit`` ends after the current epoch.

    **Scope.** Full batch only (``requires_full_batch``: ``fit`` needs ``batch_size ≥ N``). The
    loss must be a sum of squares (``"mse"``, ``"sse"``; ``loss.is_sum_of_squares``) — anything
    else is refused at ``compile`` and at the first step. The Jacobian is computed by
    backpropagating the identity through the network, for all ``N·K`` residuals at once
    (batched matrix products; no loop over samples, no finite differences), for ``Dense`` layers
    with any activation (softmax included), ``Activation`` and ``Dropout`` layers.
    **Dropout is inactive during LM** (the network runs in inference mode): the accept/reject
    test compares two errors of one deterministic function, which a fresh random mask would
    break.

    **Memory.** A step holds ``J`` (``N·K × P``) twice — in the model's dtype and as float64 — and
    five ``P × P`` float64 matrices (``JᵀJ``, ``I``, ``JᵀJ + μI``, its Cholesky factor, the
    solver's copy); the solve costs ``P³/3`` per try. ``lm_step_memory_bytes`` counts it exactly
    (about ``R·P·(itemsize + 8) + 40·P²`` bytes with ``R = N·K``), and a step that would need more
    than ``max_memory_bytes`` is refused with a ``ValueError`` before anything is allocated (checked
    at every step). With the 2 GiB default the largest float64 model accepted is about
    7,100 parameters for ``N·K = 1,000``, 5,600 for 10,000 and 1,300 for 100,000
    (``largest_lm_model``).

    Args:
        mu: initial damping μ (> 0).
        mu_decrease: factor applied to μ after an accepted step, in (0, 1).
        mu_increase: factor applied to μ after a rejected step, > 1.
        mu_max: training stops when μ exceeds it.
        min_grad: training stops when ``‖g‖₂ < min_grad``.
        name: a name for ``repr`` and configs.
        max_memory_bytes: the most one step may allocate (bytes, default 2 GiB), or ``None`` for
            no limit.

    Attributes:
        mu: the current damping.
        stop_reason: ``None``, ``"min_grad"`` or ``"mu_max"``.
        gradient_norm: ``‖g‖₂`` at the start of the last step.
        rejections: rejected tries in the last step; ``total_rejections`` over all steps.
        iterations: accepted steps.
    """

    name = "levenberg_marquardt"
    carried_attributes = ("mu", "stop_reason", "gradient_norm", "rejections", "total_rejections")
    requires_full_batch = True
    #: a class default too, for optimizers pickled before the limit existed
    max_memory_bytes: int | None = DEFAULT_MAX_MEMORY_BYTES

    def __init__(self, mu: float = 1e-3, mu_decrease: float = 0.1, mu_increase: float = 10.0,
                 mu_max: float = 1e10, min_grad: float = 1e-7, *, name: str | None = None,
                 max_memory_bytes: int | None = DEFAULT_MAX_MEMORY_BYTES, **kwargs):
        check_no_unknown_kwargs(type(self).__name__, kwargs)
        super().__init__(name=name)
        self.mu = check_float("mu", mu, low=0.0, low_inclusive=False)
        self.mu_decrease = check_float("mu_decrease", mu_decrease, low=0.0, high=1.0,
                                       low_inclusive=False, high_inclusive=False)
        self.mu_increase = check_float("mu_increase", mu_increase, low=1.0, low_inclusive=False)
        self.mu_max = check_float("mu_max", mu_max, low=0.0, low_inclusive=False)
        if self.mu_max < self.mu:
            raise ValueError(f"`mu_max` must be >= `mu`. Received: mu={mu!r}, mu_max={mu_max!r}")
        self.min_grad = check_float("min_grad", min_grad, low=0.0)
        self.max_memory_bytes = (None if max_memory_bytes is None
                                 else check_positive_int("max_memory_bytes", max_memory_bytes))
        self.initial_mu = self.mu
        self.stop_reason: str | None = None
        self.gradient_norm: float | None = None
        self.rejections = 0
        self.total_rejections = 0

    # ---- the loss it minimises -----------------------------------------------------------------
    def check_loss(self, loss) -> None:
        """Refuse a loss that is not a sum of squared residuals."""
        if not getattr(loss, "is_sum_of_squares", False):
            raise ValueError(
                "LevenbergMarquardt needs a sum-of-squares loss: loss=\"mse\" or loss=\"sse\". "
                f"Received: loss={loss!r}"
            )
        # an unreduced loss never gets here: compile refuses it for every optimizer

    # ---- the residuals and their Jacobian -------------------------------------------------------
    def jacobian(self, model, x: np.ndarray, y: np.ndarray):
        """``(J, e, ŷ)``: the residuals ``e = (ŷ − y)`` flattened sample-major (``N·K``), their
        Jacobian ``J`` (``N·K × P``, columns in ``model.params`` order) and the outputs, in
        inference mode.

        Backpropagation with a batch of sensitivities: ``S[n, k, :] = ∂ŷ[n, k]/∂(layer output)[n, :]``
        starts as the identity at the output and goes backwards through each layer's
        ``jacobian_backward``, which writes ``∂ŷ/∂param`` into the layer's columns of ``J`` (for a
        ``Dense`` layer ``∂ŷ/∂W[i, j] = X[n, i]·S[n, k, j]`` and ``∂ŷ/∂b = S``) and returns the
        sensitivities of its input.
        """
        packer = ParamPacker(model.params)
        y_pred = model.forward(x, training=False)
        n, k = y_pred.shape
        jac = np.zeros((n, k, packer.size), dtype=y_pred.dtype)
        sens = np.broadcast_to(np.eye(k, dtype=y_pred.dtype), (n, k, k)).copy()
        for layer in reversed(model.layers):
            columns = {}
            for key in layer.params:
                start, end, _ = packer.slices[f"{layer.name}/{key}"]
                columns[key] = jac[:, :, start:end]
            sens = layer.jacobian_backward(sens, columns)
        residuals = (y_pred - np.asarray(y, dtype=y_pred.dtype).reshape(n, k)).reshape(n * k)
        return jac.reshape(n * k, packer.size), residuals, y_pred

    def _penalty_weights(self, model, packer: ParamPacker, n_residuals: int, k: int) -> np.ndarray:
        """``λ/c`` per packed weight (0 where unregularised), with ``loss = c·Σe²``."""
        reg = np.zeros(packer.size)
        if not any(layer.regularizers for layer in model.layers):
            return reg
        # c from the loss itself: unit residuals give loss = c·(number of residuals)
        c = float(model.loss(np.zeros((n_residuals // k, k)), np.ones((n_residuals // k, k)))) / n_residuals
        for layer in model.layers:
            for key, regularizer in layer.regularizers.items():
                path = f"{layer.name}/{key}"
                if not isinstance(regularizer, L1L2) or regularizer.l1:
                    raise ValueError(
                        "LevenbergMarquardt supports L2 penalties only (they are sums of squares). "
                        f"Received: {regularizer!r} on {path!r}"
                    )
                start, end, _ = packer.slices[path]
                reg[start:end] = regularizer.l2 / c
        return reg

    # ---- one epoch --------------------------------------------------------------------------------
    def model_step(self, model, x: np.ndarray, y: np.ndarray):
        """One LM epoch on the full batch ``(x, y)``: returns the compiled loss (penalties
        included) and the outputs, both at the weights *before* the step."""
        self.check_loss(model.loss)
        if self.stop_reason == "mu_max":  # a new fit after giving up: start again, as trainlm does
            self.mu = self.initial_mu
        self.stop_reason = None
        self.rejections = 0
        params = model.params
        packer = ParamPacker(params)
        self._check_memory(np.shape(x)[0], model.output_dim, packer.size, model.dtype.itemsize)
        jac, e, y_pred = self.jacobian(model, x, y)
        k = y_pred.shape[1]
        loss = float(model.loss(y, y_pred)) + model.regularization_loss()
        reg = self._penalty_weights(model, packer, e.size, k)

        jac64, e64 = jac.astype(np.float64), e.astype(np.float64)
        w = packer.pack(params, dtype=np.float64)
        objective = float(e64 @ e64 + reg @ (w * w))
        gradient = jac64.T @ e64 + reg * w
        hessian = jac64.T @ jac64 + np.diag(reg)
        self.gradient_norm = float(np.linalg.norm(gradient))
        if self.gradient_norm < self.min_grad:
            return self._stop(model, "min_grad", loss, y_pred)

        saved = [p.copy() for p in params.values()]
        identity = np.eye(packer.size)
        while self.mu <= self.mu_max:
            step = self._solve(hessian + self.mu * identity, gradient)
            if step is not None:
                packer.assign(params, (w + step).astype(model.dtype))
                new_objective = self._objective(model, x, y, packer, reg)
                if new_objective < objective:  # False for NaN: a NaN error is a rejection
                    self.mu = max(self.mu * self.mu_decrease, _MU_FLOOR)
                    self.iterations += 1
                    return loss, y_pred
                for current, old in zip(params.values(), saved):
                    current[...] = old
            self.rejections += 1
            self.total_rejections += 1
            self.mu *= self.mu_increase
        return self._stop(model, "mu_max", loss, y_pred)

    def _check_memory(self, n_rows: int, n_outputs: int, n_params: int, itemsize: int) -> None:
        """Refuse, before allocating anything, a step that would need more than ``max_memory_bytes``
        (a few integer operations beside a step that builds an ``N·K × P`` Jacobian)."""
        limit = self.max_memory_bytes
        if limit is None:
            return
        needed = lm_step_memory_bytes(n_rows, n_outputs, n_params, itemsize)
        if needed > limit:
            largest = largest_lm_model(n_rows, n_outputs, limit, itemsize)
            outputs = f"{n_outputs} output" + ("" if n_outputs == 1 else "s")
            raise ValueError(
                f"LevenbergMarquardt would need about {_gigabytes(needed)} for one step, more than "
                f"max_memory_bytes={limit} ({_gigabytes(limit)}): the model has {n_params:,} "
                f"parameters and the batch {n_rows:,} rows × {outputs}, so the Jacobian is "
                f"{n_rows * n_outputs:,} × {n_params:,} and JᵀJ is {n_params:,} × {n_params:,}. At this "
                f"batch size the largest model that fits has {largest:,} parameters. Train on fewer rows "
                "per step, use a smaller model, or use a first-order optimizer (e.g. Adam); or raise "
                "max_memory_bytes if the machine has the memory."
            )

    @staticmethod
    def _solve(matrix: np.ndarray, gradient: np.ndarray) -> np.ndarray | None:
        """``−matrix⁻¹ g`` by Cholesky; ``None`` when the matrix is not numerically positive
        definite or the step is not finite."""
        try:
            lower = np.linalg.cholesky(matrix)
        except np.linalg.LinAlgError:
            return None
        with np.errstate(all="ignore"):
            step = -np.linalg.solve(lower.T, np.linalg.solve(lower, gradient))
        return step if np.all(np.isfinite(step)) else None

    @staticmethod
    def _objective(model, x, y, packer: ParamPacker, reg: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            y_pred = model.predict(x)
            e = (y_pred - np.asarray(y, dtype=y_pred.dtype).reshape(y_pred.shape)).astype(np.float64).ravel()
            w = packer.pack(model.params, dtype=np.float64)
            return float(e @ e + reg @ (w * w))

    def _stop(self, model, reason: str, loss: float, y_pred: np.ndarray):
        self.stop_reason = reason
        model.stop_training = True
        return loss, y_pred

    # ---- configuration ------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {
            "name": self.name,
            "mu": self.initial_mu,
            "mu_decrease": self.mu_decrease,
            "mu_increase": self.mu_increase,
            "mu_max": self.mu_max,
            "min_grad": self.min_grad,
        } | self._memory_config()

    def _memory_config(self) -> dict:
        """``max_memory_bytes`` only when not the default, so that default configs stay as before."""
        if self.max_memory_bytes == DEFAULT_MAX_MEMORY_BYTES:
            return {}
        return {"max_memory_bytes": self.max_memory_bytes}

"""What one epoch of Levenberg–Marquardt costs against the parameter count ``P``.

A family of MLPs — ``d`` inputs, one ``tanh`` hidden layer of ``h`` units, one linear output, so
``P = h·(d + 2) + 1`` — trains full batch on ``N`` synthetic rows (float64). One LM epoch on
``R = N·K`` residuals is:

================================ ================= ======================
what                             memory            time
================================ ================= ======================
the Jacobian ``J`` (R × P)       ``R·P`` (twice)   ``R·P`` (backprop)
the normal equations ``JᵀJ``     ``P²`` (5 blocks) ``R·P²``
the Cholesky solve, per try      —                 ``P³/3``
================================ ================= ======================

so the memory grows as ``P`` while ``J`` dominates and as ``P²`` once ``40·P² > 16·R·P``, i.e.
``P > 0.4·R``; the time as ``P²`` (forming ``JᵀJ``) until ``P³/3`` overtakes ``R·P²`` at
``P ≈ 3R``, then as ``P³``. The fitted slopes of ``log`` cost against ``log P`` therefore lie
between 1 and 2 for memory and near 2 for time at the sizes a laptop allows — and the optimizer
refuses a step whose arrays would exceed its ``max_memory_bytes`` (2 GiB by default):
``largest_lm_model`` states the largest model it takes for ``N`` rows.

Each point is timed on ``LevenbergMarquardt.model_step`` from the same starting weights and μ,
so every repeat does the same work (the same number of tried steps, ``tries``); the best repeat
is kept. ``peak_mb`` is the peak that ``tracemalloc`` sees during one such step: every NumPy
array, but not the solver's LAPACK working copy (one more ``P²`` block, allocated by
``numpy.linalg`` outside Python's allocator), which ``estimate_mb`` — the optimizer's own
``lm_step_memory_bytes`` — includes.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

import refnn
from comparisons.bench.scaling import fit_slope
from refnn import layers
from refnn.optimizers.levenberg_marquardt import (DEFAULT_MAX_MEMORY_BYTES, LevenbergMarquardt, largest_lm_model,
                                                  lm_step_memory_bytes)

__all__ = ["lm_cost_sweep", "lm_cost_slopes", "lm_cost_markdown", "width_for_params", "width_within",
           "N_INPUTS", "PARAM_COUNTS", "QUICK_PARAM_COUNTS", "N_ROWS", "QUICK_N_ROWS"]

N_INPUTS = 10
PARAM_COUNTS = (100, 300, 1000, 3000, 10000)  # 10,000 is refused under 2 GiB: shown, not run
QUICK_PARAM_COUNTS = (40, 100, 250)
N_ROWS = 1000  # the sweep's rows
QUICK_N_ROWS = 200  # the quick sweep's rows
_MU = 10.0  # a damping that accepts the first try from the seeded weights: one solve per epoch


def width_for_params(params: int, n_inputs: int = N_INPUTS) -> int:
    """The hidden width ``h`` whose MLP has about ``params`` parameters (``h·(d + 2) + 1``)."""
    return max(1, round((params - 1) / (n_inputs + 2)))


def _params_of_width(width: int, n_inputs: int = N_INPUTS) -> int:
    return width * (n_inputs + 2) + 1


def width_within(params: int, n_inputs: int = N_INPUTS) -> int:
    """The widest ``h`` whose MLP has at most ``params`` parameters: ``⌊(params − 1) / (d + 2)⌋``."""
    return (params - 1) // (n_inputs + 2)


def _data(n_rows: int, n_inputs: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_rows, n_inputs))
    y = np.sin(x @ rng.standard_normal((n_inputs, 1)) / np.sqrt(n_inputs))
    return x, y


def _model(width: int, n_inputs: int, seed: int):
    model = refnn.Sequential([layers.Dense(width, activation="tanh"), layers.Dense(1)],
                             input_dim=n_inputs, seed=seed, dtype="float64")
    model.compile(optimizer=LevenbergMarquardt(mu=_MU, max_memory_bytes=None), loss="mse")
    return model


def _one_step(model, start: list[np.ndarray], x, y) -> int:
    """One LM epoch from ``start`` with μ reset; returns the number of tries (1 + rejections)."""
    for param, value in zip(model.params.values(), start):
        param[...] = value
    opt = model.optimizer
    opt.mu, opt.stop_reason = _MU, None
    opt.model_step(model, x, y)
    return 1 + opt.rejections


def _measure(width: int, x, y, repeats: int, seed: int) -> dict:
    model = _model(width, x.shape[1], seed)
    start = [p.copy() for p in model.params.values()]
    tries = _one_step(model, start, x, y)  # warm-up: first-call costs are not the step's
    seconds = []
    for _ in range(repeats):
        began = time.perf_counter()
        _one_step(model, start, x, y)
        seconds.append(time.perf_counter() - began)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        _one_step(model, start, x, y)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    params = _params_of_width(width, x.shape[1])
    return {"params": params, "width": width, "seconds": min(seconds), "peak_mb": peak / 1e6,
            "estimate_mb": lm_step_memory_bytes(len(x), 1, params) / 1e6, "tries": tries}


def lm_cost_sweep(param_counts=None, n_rows: int = N_ROWS, repeats: int = 2, *,
                  n_inputs: int = N_INPUTS, max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES, seed: int = 0,
                  quick: bool = False) -> list[dict]:
    """Time (``seconds``, best of ``repeats``) and traced peak memory (``peak_mb``) of one LM epoch,
    full batch on ``n_rows`` rows, for the MLP of about each parameter count (default
    ``PARAM_COUNTS``), smallest first.

    Counts whose step would exceed ``max_memory_bytes`` — those LevenbergMarquardt refuses — are
    not run (``lm_cost_markdown`` lists them). ``quick``: ``QUICK_N_ROWS`` rows, one repeat and, unless given,
    ``QUICK_PARAM_COUNTS`` — a second or so, for tests. Rows: ``params``, ``width``, ``seconds``,
    ``peak_mb``, ``estimate_mb``, ``tries``; slopes from ``lm_cost_slopes(rows)``.
    """
    if quick:
        n_rows, repeats = QUICK_N_ROWS, 1
    if param_counts is None:
        param_counts = QUICK_PARAM_COUNTS if quick else PARAM_COUNTS
    x, y = _data(n_rows, n_inputs, seed)
    largest = largest_lm_model(n_rows, 1, max_memory_bytes)
    widths = sorted({width_for_params(p, n_inputs) for p in param_counts})
    rows = []
    for width in widths:
        if _params_of_width(width, n_inputs) > largest:
            continue
        rows.append(_measure(width, x, y, max(1, repeats), seed))
    return rows


def lm_cost_slopes(rows: list[dict]) -> dict:
    """Least-squares slopes (``scaling.fit_slope``) of ``log seconds`` and ``log peak_mb`` against
    ``log params`` (NaN with fewer than two sizes): ``{"seconds": …, "peak_mb": …}``."""
    sizes = [r["params"] for r in rows]
    return {key: fit_slope(sizes, [r[key] for r in rows]) for key in ("seconds", "peak_mb")}


def lm_cost_markdown(rows: list[dict], n_rows: int, param_counts=PARAM_COUNTS,
                     max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES) -> str:
    """A table of the sweep, the fitted slopes, the largest accepted model, the counts refused (of
    ``param_counts``) and the optimizer's own refusal message for the first of them."""
    lines = [f"Levenberg–Marquardt, one epoch on {n_rows} rows (float64, one hidden tanh layer):", "",
             "| P | width | s / epoch | traced peak MB | estimate MB | tries |", "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['params']} | {r['width']} | {r['seconds']:.4g} | {r['peak_mb']:.3g} | {r['estimate_mb']:.3g} "
              f"| {r['tries']} |" for r in rows]
    slopes = lm_cost_slopes(rows)
    largest = largest_lm_model(n_rows, 1, max_memory_bytes)
    lines += ["", f"Slopes against P (log–log): time {slopes['seconds']:.2f}, memory {slopes['peak_mb']:.2f}.",
              f"Largest model accepted for N = {n_rows} under {max_memory_bytes / 2**30:.3g} GiB: "
              f"P = {largest:,} (width {width_within(largest)} in this family)."]
    refused = [q for q in (_params_of_width(width_for_params(p)) for p in param_counts) if q > largest]
    if refused:
        needs = ", ".join(f"P = {q:,} ({lm_step_memory_bytes(n_rows, 1, q) / 1e9:.2f} GB)" for q in refused)
        lines += [f"Refused (not run): {needs}.", "",
                  f"LevenbergMarquardt's refusal: *{_refusal(n_rows, refused[0], max_memory_bytes)}*"]
    return "\n".join(lines)


def _refusal(n_rows: int, params: int, max_memory_bytes: int) -> str:
    """The message the optimizer raises for a model of ``params`` parameters on ``n_rows`` rows."""
    try:
        LevenbergMarquardt(max_memory_bytes=max_memory_bytes)._check_memory(n_rows, 1, params, 8)
    except ValueError as refusal:
        return str(refusal)
    return "(accepted)"

"""How the cost of an epoch grows: the scaling sweep of ``refnn-compare bench --scaling``.

On one synthetic data set (``n × d`` float32, labels from a random linear teacher, 10 classes)
the same MLP as the workloads (two ReLU layers of ``width`` units, softmax, categorical
crossentropy, Adam) is timed per epoch

- against the batch size ``B = 1, 2, 4, …, 1024`` at a fixed width, and
- against the hidden width ``w = 16, …, 2048`` at a fixed batch size,

for every framework of the bench that is available (the GEMM floor, refnn, the lean NumPy loop,
Keras when TensorFlow is importable).

What the slopes of ``log t`` against ``log size`` should be — a least-squares line over the
points of a *regime* (``ScalingSpec.batch_fits`` and ``width_fit``), never over the whole
curve, which bends:

- small batches, ``B ≤ 8``: an epoch is ``n / B`` steps, each with a fixed cost (Python calls,
  small-array overhead, the optimizer's update of every weight) that does not depend on ``B``:
  ``t ≈ (n / B) · c_step``, slope **−1**;
  Measured slopes can be steeper (−1.3 to −1.5 on a 2-core machine): at ``B = 1`` the gradient
  ``Hᵀ δ`` is a rank-1 outer product, which NumPy's ``matmul`` runs about 8× slower than a
  two-row product (79 µs against 9 µs for 64…256 × 256 float32), so the per-step cost itself
  is highest at ``B = 1``;
- large batches, ``B ≥ 256``: the matrix products are big enough to run at the BLAS's speed, an
  epoch costs ``6 n Σ aᵢ bᵢ`` flops whatever ``B``: slope **0**;
- large widths, ``w ≥ 256``: the flops are ``6 n (d w + w² + 10 w)``, dominated by ``w²``:
  slope approaching **2** (about 1.8 at ``w = 256``, where ``d w + 10 w`` still counts).

Each framework's whole sweep runs in one process of its own (``python -m
comparisons.bench.scaling FRAMEWORK SPEC_JSON``), like the bench's cells, so thread pools do not
interfere between frameworks; within it the points run one after the other. One process per
*point* would be cleaner still but would import TensorFlow ~20 times (seconds each); the time of
a point does not depend on what ran before it in the same process, because every point builds
its model afresh and times epochs after a warm-up epoch (which absorbs Keras's tracing). Peak
memory, the reason the bench isolates each cell, is not measured here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field

import numpy as np

from comparisons.bench.workloads import N_CLASSES, teacher_data

__all__ = ["ScalingSpec", "FULL", "QUICK", "synthetic_data", "available_frameworks", "fit_slope",
           "sweep_framework", "run_scaling", "scaling_markdown", "why_mini_batches", "spec_from_json", "N_CLASSES"]


@dataclass
class ScalingSpec:
    """The data set, the two sweeps and the regimes each slope is fitted over (inclusive bounds)."""

    n_rows: int = 4096
    n_features: int = 64
    batch_sizes: list = field(default_factory=lambda: [2 ** k for k in range(11)])
    fixed_width: int = 256
    widths: list = field(default_factory=lambda: [2 ** k for k in range(4, 12)])
    fixed_batch: int = 128
    epochs: int = 3  # the first is a warm-up; the fastest of the others is kept
    #: name → (smallest, largest) batch size of the regime the slope is fitted over
    batch_fits: dict = field(default_factory=lambda: {"small B": (1, 8), "large B": (256, 1 << 30)})
    width_fit: tuple = (256, 1 << 30)
    seed: int = 0


FULL = ScalingSpec()
QUICK = ScalingSpec(n_rows=256, n_features=16, batch_sizes=[1, 2, 4, 8, 16, 32, 64], fixed_width=32,
                    widths=[8, 16, 32, 64, 128], fixed_batch=32, epochs=3,
                    batch_fits={"small B": (1, 4), "large B": (16, 1 << 30)}, width_fit=(32, 1 << 30))


def synthetic_data(spec: ScalingSpec):
    """``x`` float32 (standard normal) and labels from a random linear teacher (learnable):
    ``workloads.teacher_data``."""
    return teacher_data(spec.n_rows, spec.n_features, spec.seed)


def available_frameworks() -> list[str]:
    """The bench's workers that the scaling sweep can run here, in drawing order."""
    out = ["gemm_floor", "refnn", "numpy_lean", "keras"]
    if importlib.util.find_spec("tensorflow") is None:
        out.remove("keras")
    return out


def fit_slope(sizes, times, bounds=(0, float("inf"))) -> float:
    """Least-squares slope of ``log t`` on ``log size`` over the points with ``lo ≤ size ≤ hi``;
    NaN with fewer than two such points (or a non-positive time)."""
    lo, hi = bounds
    pts = [(s, t) for s, t in zip(sizes, times) if lo <= s <= hi and t is not None and t > 0]
    if len({s for s, _ in pts}) < 2:
        return float("nan")
    s, t = np.log(np.array(pts, dtype=np.float64)).T
    return float(np.polyfit(s, t, 1)[0])


def _time_point(worker, x, labels, width, batch_size, epochs) -> float:
    times = worker(x, labels, (width, width), batch_size, epochs)
    if "keras" in sys.modules:  # a fresh graph per point: nothing of the last model lingers
        sys.modules["keras"].backend.clear_session()
    return min(times[1:]) if len(times) > 1 else times[0]


def sweep_framework(framework: str, spec: ScalingSpec) -> dict:
    """Both sweeps for one framework, in this process: seconds per epoch at every point."""
    from comparisons.bench.workers import WORKERS

    worker = WORKERS[framework]
    x, labels = synthetic_data(spec)
    batch = [_time_point(worker, x, labels, spec.fixed_width, b, spec.epochs) for b in spec.batch_sizes]
    width = [_time_point(worker, x, labels, w, spec.fixed_batch, spec.epochs) for w in spec.widths]
    return {"framework": framework, "batch_s": batch, "width_s": width}


def spec_from_json(text: str) -> ScalingSpec:
    """The ``ScalingSpec`` that ``json.dumps(asdict(spec))`` wrote (the worker's argument, ``scaling.json``)."""
    raw = json.loads(text)
    raw["batch_fits"] = {k: tuple(v) for k, v in raw["batch_fits"].items()}
    raw["width_fit"] = tuple(raw["width_fit"])
    return ScalingSpec(**raw)


def _with_slopes(row: dict, spec: ScalingSpec) -> dict:
    slopes = {name: fit_slope(spec.batch_sizes, row["batch_s"], b) for name, b in spec.batch_fits.items()}
    slopes["width"] = fit_slope(spec.widths, row["width_s"], spec.width_fit)
    return {**row, "slopes": slopes}


def run_scaling(spec: ScalingSpec = FULL, frameworks=None, repeats: int = 1, timeout: float = 3600.0,
                log=print) -> dict:
    """Every framework's sweep in a process of its own; returns ``{"spec", "rows", "skipped"}``,
    each row with its fitted ``slopes`` (``"small B"``, ``"large B"``, ``"width"``).

    With ``repeats > 1`` the frameworks' sweeps run that many times, interleaved, and every point
    keeps its fastest time: on a shared machine interference only ever adds time.
    """
    frameworks = available_frameworks() if frameworks is None else list(frameworks)
    best, skipped = {}, {}
    for _ in range(repeats):
        for framework in frameworks:
            log(f"  scaling {framework} ...", end="", flush=True)
            proc = subprocess.run([sys.executable, "-m", "comparisons.bench.scaling", framework,
                                   json.dumps(asdict(spec))], capture_output=True, text=True, timeout=timeout)
            if proc.returncode != 0:
                skipped[framework] = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                log(" failed")
                continue
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            if framework in best:
                row = {**row, **{k: list(map(min, best[framework][k], row[k])) for k in ("batch_s", "width_s")}}
            best[framework] = row
            log(" done")
    rows = [_with_slopes(best[f], spec) for f in frameworks if f in best]
    return {"spec": asdict(spec), "rows": rows, "skipped": {f: why for f, why in skipped.items() if f not in best},
            "repeats": repeats}


def _fmt_slope(value: float) -> str:
    return "—" if not np.isfinite(value) else f"{value:+.2f}"


def _bounds_text(name: str, bounds) -> str:
    lo, hi = bounds
    return f"{name} ≥ {lo}" if hi >= 1 << 30 else f"{lo} ≤ {name} ≤ {hi}"


def scaling_markdown(scaling: dict) -> str:
    """The slopes as a Markdown table, one row per framework."""
    spec = spec_from_json(json.dumps(scaling["spec"]))
    heads = [f"slope vs B ({_bounds_text('B', b)})" for b in spec.batch_fits.values()]
    heads.append(f"slope vs width ({_bounds_text('w', spec.width_fit)})")
    lines = ["| framework | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
    for row in scaling["rows"]:
        values = [row["slopes"][k] for k in spec.batch_fits] + [row["slopes"]["width"]]
        lines.append(f"| {row['framework']} | " + " | ".join(_fmt_slope(v) for v in values) + " |")
    lines += [f"\n{name} skipped: {why}" for name, why in scaling["skipped"].items()]
    return "\n".join(lines) + "\n"


def why_mini_batches(scaling: dict) -> str:
    """The sentence for the lecture, with refnn's measured slopes (or the first framework's)."""
    rows = {r["framework"]: r for r in scaling["rows"]}
    row = rows.get("refnn") or next(iter(rows.values()), None)
    if row is None:
        return "No framework was measured."
    spec = spec_from_json(json.dumps(scaling["spec"]))
    (small_name, small), (large_name, large) = list(spec.batch_fits.items())[:2]
    s_small, s_large = row["slopes"][small_name], row["slopes"][large_name]
    steeper = "; steeper means the step itself is dearest at B = 1" if s_small < -1.15 else ""
    if not np.isfinite(s_large):
        tail = f"there are too few batch sizes with {_bounds_text('B', large)} to tell where it flattens."
    elif s_large > -0.3:
        tail = (f"once the matrix products are large enough ({_bounds_text('B', large)}) it flattens to "
                f"B^{_fmt_slope(s_large)} (0: the epoch's flops do not depend on B), so larger batches buy no "
                f"more speed per epoch, only fewer, less noisy updates.")
    else:
        tail = (f"for {_bounds_text('B', large)} it still falls as B^{_fmt_slope(s_large)}: at these sizes the "
                f"matrix products are not yet large enough to hide the per-step cost (0 would be flat).")
    return (f"Why mini-batches: an epoch of {spec.n_rows} examples is n/B steps, each with a fixed cost, so for "
            f"small batches ({_bounds_text('B', small)}) the time per epoch of {row['framework']} falls as "
            f"B^{_fmt_slope(s_small)} (−1 would be a per-step cost independent of B{steeper}); {tail} "
            f"Against the width the slope is {_fmt_slope(row['slopes']['width'])} (2 for pure w² matrix products).")


def main(argv=None) -> int:
    """``python -m comparisons.bench.scaling FRAMEWORK SPEC_JSON``: one framework's sweep as JSON."""
    framework, spec_json = (sys.argv[1:] if argv is None else argv)
    print(json.dumps(sweep_framework(framework, spec_from_json(spec_json))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

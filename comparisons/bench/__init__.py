"""``refnn-compare bench``: time per epoch and peak memory of refnn against the GEMM floor,
``numpy_lean`` (the same steps as a bare NumPy loop, ``lean``), Keras, scikit-learn and (when
installed) PyTorch; ``--scaling`` (``scaling``, ``scaling_cli``, ``lm_cost``) sweeps batch size and
width and Levenberg–Marquardt's cost against the parameter count, and ``report`` writes the page.

Every measurement runs in its own process (``python -m comparisons.bench --worker ...``) so that
peak memory and thread pools do not leak between frameworks. Each worker (``workers``) trains the
same task (``workloads``: data, model, the GEMM floor) and reports the per-epoch wall times; the
driver (``driver``) tabulates the median after a warm-up epoch, best of ``--repeats`` interleaved
sweeps. ``--profile`` splits one epoch of refnn into the phases of the training loop
(``profile``).
"""

from comparisons.bench.driver import BenchResult, environment, main, run, write
from comparisons.bench.workers import FRAMEWORKS, WORKERS, run_worker
from comparisons.bench.workloads import WORKLOADS, make_data

__all__ = ["BenchResult", "environment", "main", "run", "write", "FRAMEWORKS", "WORKERS", "run_worker",
           "WORKLOADS", "make_data"]

"""``refnn-compare bench --profile``: where one W2 epoch of refnn's ``fit`` spends its time.

One epoch (Adam, float32, shuffled, batch 128, 60000 × 784 → 256 → 128 → 10) runs under
``cProfile``; the functions are grouped into the phases of the training loop. The
profiler adds a few microseconds per call, so the phases sum to a little more than an unprofiled
epoch; the GEMM floor of the same epoch is printed beside it for scale.
"""

from __future__ import annotations

import cProfile
import pstats
import time

import numpy as np

from comparisons.bench.workloads import WORKLOADS, gemm_floor_epochs, make_data, refnn_model, targets

# phase -> (file fragment, function names or None for all) ; measured as cumulative time
PHASES = {
    "shuffle (gather)": [("utils/data.py", {"weighted_batches"})],
    "forward: GEMM + bias": [("layers/dense.py", {"forward", "_affine", "forward_in_step", "logits_in_step"})],
    "activations (forward + backward)": [("refnn/activations/", None)],
    "loss (value + gradient)": [("refnn/losses/", {"value_and_gradient"})],
    "backward: GEMM + bias sum": [("layers/dense.py", {"backward", "backward_in_step", "backward_from_logits"})],
    "optimizer": [("optimizers/base.py", {"apply"})],
}
# tottime-only phases (nested calls of these are counted in their own phases)
TOTTIME = {"forward: GEMM + bias", "backward: GEMM + bias sum", "shuffle (gather)"}


def profile_epoch(workload: str = "W2") -> tuple[dict[str, float], float, float]:
    spec = WORKLOADS[workload]
    x, labels = make_data(workload)
    y = targets(labels)
    model = refnn_model(x, spec["hidden"])
    model.fit(x, y, epochs=1, batch_size=spec["batch_size"], verbose=0)  # warm-up
    start = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=spec["batch_size"], verbose=0)
    plain = time.perf_counter() - start
    profiler = cProfile.Profile()
    profiler.enable()
    model.fit(x, y, epochs=1, batch_size=spec["batch_size"], verbose=0)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(v[2] for v in stats.values())  # all tottime
    phases = {}
    for phase, patterns in PHASES.items():
        t = 0.0
        for (filename, _, func), (cc, nc, tottime, cumtime, callers) in stats.items():
            for fragment, names in patterns:
                if fragment in filename and (names is None or func in names):
                    t += tottime if phase in TOTTIME or names is None else cumtime
        phases[phase] = t
    phases["everything else (fit loop, callbacks, checks)"] = max(0.0, total - sum(phases.values()))
    floor = float(np.median(gemm_floor_epochs(x, labels, spec["hidden"], spec["batch_size"], 3)[1:]))
    return phases, plain, floor


def main() -> int:
    phases, plain, floor = profile_epoch("W2")
    total = sum(phases.values())
    print("One W2 epoch of refnn fit (Adam, float32), by phase (cProfile):\n")
    print("| phase | ms | share |\n|---|---:|---:|")
    for name, t in phases.items():
        print(f"| {name} | {1000 * t:.1f} | {100 * t / total:.0f}% |")
    print(f"| total under the profiler | {1000 * total:.1f} | 100% |")
    print(f"\nunprofiled epoch: {1000 * plain:.1f} ms; GEMM floor: {1000 * floor:.1f} ms "
          f"(ratio {plain / floor:.2f}×)")
    return 0


if __name__ == "__main__":
    main()

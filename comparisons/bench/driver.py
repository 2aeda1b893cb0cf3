"""The benchmark driver: runs every (framework, workload) cell in its own process, keeps each
cell's fastest run, and writes the table with the performance targets."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field

import numpy as np

from comparisons.bench.profile import main as profile_main
from comparisons.bench.workers import FRAMEWORKS, run_worker
from comparisons.bench.workloads import WORKLOADS

__all__ = ["BenchResult", "environment", "run", "write", "main"]

DESCRIPTION = ("refnn-compare bench: time per epoch and peak memory of refnn against the GEMM floor, "
               "Keras, scikit-learn and (when installed) PyTorch.")


@dataclass
class BenchResult:
    rows: list[dict] = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)

    def get(self, framework: str, workload: str) -> dict | None:
        return next((r for r in self.rows if r["framework"] == framework and r["workload"] == workload), None)

    def to_markdown(self) -> str:
        lines = [
            "| workload | framework | ms/epoch | × GEMM floor | refnn speed-up vs it | peak RSS (MB) |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for workload in WORKLOADS:
            floor = self.get("gemm_floor", workload)
            mine = self.get("refnn", workload)
            for framework in FRAMEWORKS:
                row = self.get(framework, workload)
                if row is None:
                    continue
                ratio = row["ms_per_epoch"] / floor["ms_per_epoch"] if floor else float("nan")
                speedup = row["ms_per_epoch"] / mine["ms_per_epoch"] if mine else float("nan")
                lines.append(f"| {workload} | {framework} | {row['ms_per_epoch']:.1f} | {ratio:.2f} | "
                             f"{speedup:.2f} | {row['peak_rss_mb']:.0f} |")
        for name, why in self.skipped.items():
            lines.append(f"\n{name} skipped: {why}")
        env = ", ".join(f"{k}: {v}" for k, v in self.environment.items())
        return "\n".join(lines) + f"\n\n{env}\n"

    def targets(self) -> list[tuple[str, bool, str]]:
        """The performance targets of the issue, each (name, met, measured)."""
        out = []

        def ratio(a, b, w):
            ra, rb = self.get(a, w), self.get(b, w)
            return ra["ms_per_epoch"] / rb["ms_per_epoch"] if ra and rb else None

        for w, limit in (("W1", 3.0), ("W2", 1.6), ("W3", 1.3)):
            r = ratio("refnn", "gemm_floor", w)
            if r is not None:
                out.append((f"{w} refnn ≤ {limit}× GEMM floor", r <= limit, f"{r:.2f}×"))
        for other, factor in (("keras", 10.0), ("sklearn", 3.0)):
            r = ratio(other, "refnn", "W1")
            if r is not None:
                out.append((f"W1 refnn ≥ {factor:g}× faster than {other}", r >= factor, f"{r:.1f}×"))
        for w in WORKLOADS:
            row = self.get("refnn", w)
            if row:
                used = row["data_mb"] + row["training_memory_mb"]
                budget = 2 * (row["data_mb"] + row["params_mb"])
                out.append((f"{w} refnn peak memory ≤ 2× (data + params)", used <= budget,
                            f"data + traced training memory {used:.2f} MB of {budget:.2f} MB"))
        return out


def environment() -> dict:
    env = {"python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count()}
    try:
        from threadpoolctl import threadpool_info

        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            env["blas"] = f"{blas[0].get('internal_api')} {blas[0].get('version')}"
            env["blas_threads"] = blas[0].get("num_threads")
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, say what NumPy was built with
        env["blas"] = "unknown (threadpoolctl not installed)"
    return env


def run(workloads=tuple(WORKLOADS), frameworks=FRAMEWORKS, repeats: int = 1, timeout: float = 900.0,
        log=print) -> BenchResult:
    """Measure every framework on every workload, each in a fresh process.

    With ``repeats > 1`` the whole sweep runs that many times, interleaved, and each cell keeps
    its fastest run: on a shared (virtual) machine, interference only ever adds time.
    """
    result = BenchResult(environment={**environment(), "repeats": repeats})
    for _ in range(repeats):
        _sweep(result, workloads, frameworks, timeout, log)
    return result


def _sweep(result: BenchResult, workloads, frameworks, timeout: float, log) -> None:
    for workload in workloads:
        for framework in frameworks:
            if framework == "torch":
                if importlib.util.find_spec("torch") is None:
                    result.skipped["torch"] = "PyTorch is not installed (pip install torch to include it)"
                    continue
            log(f"  {workload} {framework} ...", end="", flush=True)
            proc = subprocess.run([sys.executable, "-m", "comparisons.bench", "--worker", framework, workload],
                                  capture_output=True, text=True, timeout=timeout)
            if proc.returncode != 0:
                result.skipped[f"{framework}/{workload}"] = proc.stderr.strip().splitlines()[-1:]
                log(" failed")
                continue
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            log(f" {row['ms_per_epoch']:.1f} ms/epoch")
            previous = result.get(framework, workload)
            if previous is None:
                result.rows.append(row)
            elif row["ms_per_epoch"] < previous["ms_per_epoch"]:
                result.rows[result.rows.index(previous)] = row


def write(result: BenchResult, directory: str) -> tuple[str, str]:
    os.makedirs(directory, exist_ok=True)
    md, js = os.path.join(directory, "bench.md"), os.path.join(directory, "bench.json")
    targets = "\n".join(f"- [{'x' if met else ' '}] {name}: {value}" for name, met, value in result.targets())
    with open(md, "w") as fh:
        fh.write("# refnn benchmark\n\n" + result.to_markdown() + "\n## Targets\n\n" + targets + "\n")
    with open(js, "w") as fh:
        json.dump({**asdict(result), "targets": result.targets()}, fh, indent=2)
    return md, js


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="refnn-compare bench", description=DESCRIPTION)
    parser.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"), help=argparse.SUPPRESS)
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--frameworks", nargs="+", default=list(FRAMEWORKS), choices=list(FRAMEWORKS))
    parser.add_argument("--out", default=os.path.join("reports", "latest"))
    parser.add_argument("--repeats", type=int, default=1,
                        help="run the sweep this many times and keep each cell's fastest run")
    parser.add_argument("--profile", action="store_true", help="profile one W2 epoch of refnn by phase")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run_worker(*args.worker)))
        return 0
    if args.profile:
        return profile_main()
    if args.repeats < 1:
        parser.error(f"--repeats must be a positive integer. Received: --repeats={args.repeats}")
    result = run(args.workloads, args.frameworks, repeats=args.repeats)
    print("\n" + result.to_markdown())
    for name, met, value in result.targets():
        print(f"[{'met' if met else 'NOT met'}] {name}: {value}")
    md, js = write(result, args.out)
    print(f"\nwritten: {md}, {js}")
    return 0

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
               "a bare NumPy loop (numpy_lean), Keras, scikit-learn and (when installed) PyTorch.")


@dataclass
class BenchResult:
    rows: list[dict] = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)

    def get(self, framework: str, workload: str) -> dict | None:
        return next((r for r in self.rows if r["framework"] == framework and r["workload"] == workload), None)

    def ms(self, framework: str, workload: str) -> float | None:
        row = self.get(framework, workload)
        return row["ms_per_epoch"] if row else None

    def to_markdown(self) -> str:
        """One row per measured cell; the ratios are this cell's time over the GEMM floor's and
        over ``numpy_lean``'s (the bare NumPy loop), and the speed-up is the cell's time over
        refnn's ("nan" where the reference was not measured)."""
        lines = [
            "| workload | framework | ms/epoch | × GEMM floor | × numpy_lean | refnn speed-up vs it | peak RSS (MB) |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for workload in WORKLOADS:
            for framework in FRAMEWORKS:
                row = self.get(framework, workload)
                if row is None:
                    continue
                cells = [_ratio(row["ms_per_epoch"], self.ms(reference, workload))
                         for reference in ("gemm_floor", "numpy_lean", "refnn")]
                lines.append(f"| {workload} | {framework} | {row['ms_per_epoch']:.1f} | {cells[0]:.2f} | "
                             f"{cells[1]:.2f} | {cells[2]:.2f} | {row['peak_rss_mb']:.0f} |")
        for name, why in self.skipped.items():
            lines.append(f"\n{name} skipped: {why}")
        env = ", ".join(f"{k}: {v}" for k, v in self.environment.items())
        return "\n".join(lines) + f"\n\n{env}\n"

    def targets(self) -> list[tuple[str, bool, str]]:
        """Issue 14's performance targets, each ``(name, met, measured)`` from this run's cells.

        A target whose cells were not measured is listed as ``(name, False, "not measured")``:
        never met, never dropped.
        """
        out = []
        for w in WORKLOADS:
            keras, sklearn = self._speedup("keras", w), self._speedup("sklearn", w)
            name = f"{w} refnn faster than Keras and scikit-learn"
            if keras is None or sklearn is None:
                out.append(_not_measured(name))
            else:
                out.append((name, keras > 1.0 and sklearn > 1.0, f"Keras {keras:.2f}×, scikit-learn {sklearn:.2f}×"))
        out.append(self._ratio_target("W1", "numpy_lean", 1.15))
        keras = self._speedup("keras", "W1")
        name = "W1 refnn ≥ 10× faster than Keras"
        out.append(_not_measured(name) if keras is None else (name, keras >= 10.0, f"{keras:.1f}×"))
        out.append(self._ratio_target("W2", "gemm_floor", 1.6, "GEMM floor"))
        out.append(self._ratio_target("W3", "gemm_floor", 1.25, "GEMM floor"))
        for w in WORKLOADS:
            row, name = self.get("refnn", w), f"{w} refnn peak memory ≤ 2× (data + params)"
            if row is None:
                out.append(_not_measured(name))
                continue
            used = row["data_mb"] + row["training_memory_mb"]
            budget = 2 * (row["data_mb"] + row["params_mb"])
            out.append((name, used <= budget, f"data + traced training memory {used:.2f} MB of {budget:.2f} MB"))
        return out

    def _speedup(self, other: str, workload: str) -> float | None:
        """``other``'s time over refnn's (> 1: refnn is faster), or None when either is missing."""
        mine, theirs = self.ms("refnn", workload), self.ms(other, workload)
        return theirs / mine if mine and theirs else None

    def _ratio_target(self, workload: str, reference: str, limit: float, label: str | None = None):
        name = f"{workload} refnn ≤ {limit:g}× {label or reference}"
        mine, base = self.ms("refnn", workload), self.ms(reference, workload)
        if not (mine and base):
            return _not_measured(name)
        return name, mine / base <= limit, f"{mine / base:.2f}×"


def _ratio(value: float, reference: float | None) -> float:
    return value / reference if reference else float("nan")


def _not_measured(name: str) -> tuple[str, bool, str]:
    return name, False, "not measured"


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
    parser.add_argument("--scaling", action="store_true",
                        help="time per epoch against batch size and width, log-log slopes, figures and the "
                             "HTML page <out>/bench/index.html")
    parser.add_argument("--quick", action="store_true", help="with --scaling: a tiny sweep (seconds)")
    parser.add_argument("--batch-sizes", nargs="+", type=int, help="with --scaling: the batch sizes swept")
    parser.add_argument("--widths", nargs="+", type=int, help="with --scaling: the hidden widths swept")
    parser.add_argument("--scaling-frameworks", nargs="+",
                        help="with --scaling: frameworks (default: gemm_floor, refnn, numpy_lean, keras if present)")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run_worker(*args.worker)))
        return 0
    if args.profile:
        return profile_main()
    if args.repeats < 1:
        parser.error(f"--repeats must be a positive integer. Received: --repeats={args.repeats}")
    if args.scaling:
        from comparisons.bench.scaling_cli import scaling_main

        return scaling_main(args, parser.error)
    result = run(args.workloads, args.frameworks, repeats=args.repeats)
    print("\n" + result.to_markdown())
    for name, met, value in result.targets():
        print(f"[{'met' if met else 'NOT met'}] {name}: {value}")
    md, js = write(result, args.out)
    from comparisons.bench.report import write_page

    print(f"\nwritten: {md}, {js}, {write_page(args.out)['html']}")
    return 0

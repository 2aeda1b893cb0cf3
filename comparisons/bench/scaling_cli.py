"""``refnn-compare bench --scaling``: the scaling sweep (``scaling``) from the command line, its
table printed, ``scaling.json`` and the bench's page (``report``) written."""

from __future__ import annotations

import json
import os
from dataclasses import asdict

from comparisons.bench.report import run_lm_cost, write_page
from comparisons.bench.scaling import (
    FULL, QUICK, ScalingSpec, available_frameworks, run_scaling, scaling_markdown, why_mini_batches,
)
from comparisons.bench.workers import WORKERS

__all__ = ["scaling_main"]


def _spec_from_args(args, error) -> ScalingSpec:
    spec = ScalingSpec(**asdict(QUICK if args.quick else FULL))
    for name in ("batch_sizes", "widths"):
        values = getattr(args, name)
        if values is None:
            continue
        if any(v < 1 for v in values):
            error(f"--{name.replace('_', '-')} must be positive integers. Received: {values}")
        setattr(spec, name, sorted(set(values)))
    return spec


def scaling_main(args, error) -> int:
    """``refnn-compare bench --scaling``: run the sweep, print the slopes, write ``scaling.json``,
    ``lm_cost.json`` (Levenberg–Marquardt's cost) and the page ``<out>/bench/index.html``.
    ``error(message)`` reports a bad option (``parser.error``; ``driver.main`` checks ``--repeats``)."""
    spec = _spec_from_args(args, error)
    frameworks = args.scaling_frameworks or available_frameworks()
    unknown = [f for f in frameworks if f not in WORKERS]
    if unknown:
        error(f"--scaling-frameworks must be among {sorted(WORKERS)}. Received: {unknown}")
    scaling = run_scaling(spec, frameworks, repeats=args.repeats)
    print("\n" + scaling_markdown(scaling) + "\n" + why_mini_batches(scaling))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "scaling.json")
    with open(path, "w") as fh:
        json.dump(scaling, fh, indent=1)
    lm_cost = run_lm_cost(quick=args.quick)
    print("\n" + lm_cost["markdown"])
    lm_path = os.path.join(args.out, "lm_cost.json")
    with open(lm_path, "w") as fh:
        json.dump(lm_cost, fh, indent=1)
    page = write_page(args.out, scaling, lm_cost)
    print(f"\nwritten: {path}, {lm_path}, {page['html']}")
    return 0
